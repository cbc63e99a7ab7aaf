"""BG/NBD and Gamma-Gamma fitted by maximum likelihood, and what they say about each customer.

BG/NBD (Fader, Hardie & Lee 2005, "Counting your customers the easy way", Marketing Science
24(2)): purchase rate λ ~ Gamma(r, α), dropout after each purchase p ~ Beta(a, b). Gamma-Gamma
(Fader, Hardie & Lee 2005, "RFM and CLV: using iso-value curves", JMR 42(4); Fader & Hardie
2013): spend per transaction ~ Gamma(p, ν), ν ~ Gamma(q, v). Both are fitted with scipy's
L-BFGS-B on log-parameters (identical customers grouped); each fit keeps whether the optimiser
converged and which parameters ended at a bound, for ``crmsim.purchases.diagnostics``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, special

from crmsim.errors import InputError, Issue
from crmsim.purchases.summary import UNITS

MIN_FIT_CUSTOMERS = 20
BG_BOUNDS = (-12.0, 8.0)  # log-parameters: e^-12 … e^8 ≈ 6e-6 … 2,981
GG_BOUNDS = (-10.0, 10.0)  # e^10 ≈ 22,026: the "estimate" a degenerate fit reports


@dataclass(frozen=True)
class BGNBD:
    """Fitted BG/NBD: purchase rate λ ~ Gamma(r, α); dropout after a purchase p ~ Beta(a, b)."""

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float
    n: int
    converged: bool = True
    at_bound: tuple[str, ...] = ()

    def as_dict(self) -> dict:
        return {
            "r": self.r,
            "alpha": self.alpha,
            "a": self.a,
            "b": self.b,
            "log_likelihood": self.log_likelihood,
        }

    def p_alive(self, x, t_x, T) -> np.ndarray:
        """P(still active at T | x, t_x, T) (FHL 2005, eq. 11)."""
        x, t_x, T = (np.asarray(v, float) for v in (x, t_x, T))
        r, alpha, a, b = self.r, self.alpha, self.a, self.b
        ratio = np.exp((r + x) * (np.log(alpha + T) - np.log(alpha + t_x)))
        odds = np.where(x > 0, a / np.maximum(b + x - 1, 1e-12) * ratio, 0.0)
        return 1.0 / (1.0 + odds)

    def expected(self, t, x, t_x, T) -> np.ndarray:
        """Expected purchases in (T, T + t] given x, t_x, T (FHL 2005, eq. 10)."""
        t, x, t_x, T = (np.asarray(v, float) for v in (t, x, t_x, T))
        r, alpha, a, b = self.r, self.alpha, _off_one(self.a), self.b
        z = t / (alpha + T + t)
        hyp = special.hyp2f1(r + x, b + x, a + b + x - 1, z)
        head = (a + b + x - 1) / (a - 1)
        body = 1 - np.exp((r + x) * (np.log(alpha + T) - np.log(alpha + T + t))) * hyp
        ratio = np.exp((r + x) * (np.log(alpha + T) - np.log(alpha + t_x)))
        tail = 1 + np.where(x > 0, a / np.maximum(b + x - 1, 1e-12) * ratio, 0.0)
        return head * body / tail

    def expected_new(self, t) -> np.ndarray:
        """Expected purchases in (0, t] of a customer just acquired (FHL 2005, eq. 7)."""
        t = np.asarray(t, float)
        r, alpha, a, b = self.r, self.alpha, _off_one(self.a), self.b
        hyp = special.hyp2f1(r, b, a + b - 1, t / (alpha + t))
        return (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * hyp)


def _off_one(a: float) -> float:
    """The expectation formulas divide by a − 1; a = 1 is a removable singularity."""
    return a + 1e-7 if abs(a - 1) < 1e-7 else a


def _bgnbd_ll(params: np.ndarray, x, t_x, T, w) -> float:
    r, alpha, a, b = np.exp(params)
    a1 = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
    a2 = (
        special.gammaln(a + b)
        + special.gammaln(b + x)
        - special.gammaln(b)
        - special.gammaln(a + b + x)
    )
    a3 = -(r + x) * np.log(alpha + T)
    with np.errstate(divide="ignore"):
        a4 = np.where(
            x > 0,
            np.log(a) - np.log(np.maximum(b + x - 1, 1e-300)) - (r + x) * np.log(alpha + t_x),
            -np.inf,
        )
    ll = a1 + a2 + np.logaddexp(a3, a4)
    return float(-(w * ll).sum())


def _grouped(*cols) -> tuple[np.ndarray, ...]:
    """Identical rows once, with their counts as weights (CDNOW: 23,570 rows → a few thousand)."""
    stacked = np.column_stack([np.asarray(c, float) for c in cols])
    uniq, counts = np.unique(stacked, axis=0, return_counts=True)
    return (*uniq.T, counts.astype(float))


def _need_customers(n: int) -> None:
    if n < MIN_FIT_CUSTOMERS:
        raise InputError([Issue("", "tx_too_few", {"n": n, "min": MIN_FIT_CUSTOMERS})], "fit")


def fit_bgnbd(summary: pd.DataFrame) -> BGNBD:
    """Maximum-likelihood BG/NBD on frequency, recency, T (FHL 2005, eq. 6)."""
    _need_customers(len(summary))
    if (summary["frequency"] == 0).all():
        raise InputError([Issue("", "tx_no_repeat")], "fit")
    x, t_x, T, w = _grouped(summary["frequency"], summary["recency"], summary["T"])
    scale = 10.0 / max(float(T.max()), 1e-9)  # fit in a unit where T is ~10: better conditioned
    runs = []
    for start in (np.log([1.0, 1.0, 1.0, 1.0]), np.log([0.5, 5.0, 0.5, 2.0])):
        res = optimize.minimize(
            _bgnbd_ll,
            start,
            args=(x, t_x * scale, T * scale, w),
            method="L-BFGS-B",
            bounds=[BG_BOUNDS] * 4,
            options={"maxiter": 2000, "ftol": 1e-13, "gtol": 1e-9},
        )
        runs.append(res)
    best = min(runs, key=lambda res: res.fun)
    r, alpha, a, b = np.exp(best.x)
    alpha /= scale
    ll = -_bgnbd_ll(np.log([r, alpha, a, b]), x, t_x, T, w)
    bound = _at_bound(best.x, BG_BOUNDS, ("r", "alpha", "a", "b"))
    return BGNBD(
        float(r), float(alpha), float(a), float(b), ll, len(summary), _converged(runs, best), bound
    )


def _converged(runs: list, best) -> bool:
    """Whether the best optimum is one: a start that stopped by its convergence test reached
    the same likelihood (to 1e-9), or the best run's gradient is flat. L-BFGS-B's "abnormal
    termination in line search" at a flat point is a converged fit, not a failed one."""
    tol = 1e-9 * max(1.0, abs(best.fun))
    if any(res.success and res.fun - best.fun <= tol for res in runs):
        return True
    return bool(np.max(np.abs(best.jac)) < 1e-4 * max(1.0, abs(best.fun)))


def _at_bound(x: np.ndarray, bounds: tuple[float, float], names: tuple[str, ...]) -> tuple:
    """Names of the log-parameters the optimiser left at (within 1e-3 of) a bound: not an
    estimate but the edge of the search, where the likelihood kept improving."""
    near = (np.abs(x - bounds[0]) < 1e-3) | (np.abs(x - bounds[1]) < 1e-3)
    return tuple(n for n, hit in zip(names, near, strict=True) if hit)


# -- Gamma-Gamma ---------------------------------------------------------------------------
@dataclass(frozen=True)
class GammaGamma:
    """Fitted Gamma-Gamma spend model: transaction values ~ Gamma(p, ν), ν ~ Gamma(q, v)."""

    p: float
    q: float
    v: float
    log_likelihood: float
    n: int
    converged: bool = True
    at_bound: tuple[str, ...] = ()

    def as_dict(self) -> dict:
        return {"p": self.p, "q": self.q, "v": self.v, "log_likelihood": self.log_likelihood}

    def expected_spend(self, x, m) -> np.ndarray:
        """E[spend per purchase | x repeat purchases with mean m] (Fader & Hardie 2013, eq. 5);
        customers with no repeat purchase get the population mean p·v/(q − 1)."""
        x, m = np.asarray(x, float), np.asarray(m, float)
        p, q, v = self.p, self.q, self.v
        population = p * v / (q - 1)
        cond = p * (v + x * m) / np.maximum(p * x + q - 1, 1e-12)
        return np.where(x > 0, cond, population)


def _gg_ll(params: np.ndarray, x, m, w) -> float:
    p, q, v = np.exp(params)
    ll = (
        special.gammaln(p * x + q)
        - special.gammaln(p * x)
        - special.gammaln(q)
        + q * np.log(v)
        + (p * x - 1) * np.log(m)
        + (p * x) * np.log(x)
        - (p * x + q) * np.log(v + x * m)
    )
    return float(-(w * ll).sum())


def fit_gamma_gamma(summary: pd.DataFrame) -> GammaGamma:
    """Maximum-likelihood Gamma-Gamma on repeat buyers' frequency and mean repeat spend."""
    rep = summary[(summary["frequency"] > 0) & (summary["monetary"] > 0)]
    _need_customers(len(rep))
    x, m, w = _grouped(rep["frequency"], rep["monetary"])
    scale = 1.0 / float(np.median(m))
    runs = []
    for start in (np.log([1.0, 1.0, 1.0]), np.log([5.0, 3.0, 1.0])):
        res = optimize.minimize(
            _gg_ll,
            start,
            args=(x, m * scale, w),
            method="L-BFGS-B",
            bounds=[GG_BOUNDS] * 3,
            options={"maxiter": 2000, "ftol": 1e-13, "gtol": 1e-9},
        )
        runs.append(res)
    best = min(runs, key=lambda res: res.fun)
    p, q, v = np.exp(best.x)
    v /= scale
    ll = -_gg_ll(np.log([p, q, v]), x, m, w)
    bound = _at_bound(best.x, GG_BOUNDS, ("p", "q", "v"))
    return GammaGamma(float(p), float(q), float(v), ll, len(rep), _converged(runs, best), bound)


# -- what the models say about each customer ----------------------------------------------
def holdout_table(summary: pd.DataFrame, model: BGNBD, cap: int = 7) -> pd.DataFrame:
    """Mean actual vs predicted holdout purchases by calibration frequency (0 … cap+)."""
    if "frequency_holdout" not in summary:
        raise InputError([Issue("observation_end", "tx_no_holdout")], "holdout")
    pred = model.expected(
        summary["duration_holdout"], summary["frequency"], summary["recency"], summary["T"]
    )
    df = pd.DataFrame(
        {
            "group": np.minimum(summary["frequency"].to_numpy(), cap),
            "actual": summary["frequency_holdout"].to_numpy(float),
            "predicted": pred,
        }
    )
    out = df.groupby("group").agg(
        customers=("actual", "size"), actual=("actual", "mean"), predicted=("predicted", "mean")
    )
    return out.reset_index()


def customer_values(
    summary: pd.DataFrame,
    bg: BGNBD,
    gg: GammaGamma,
    unit: str = "W",
    months: int = 12,
    annual_discount: float = 0.10,
    margin: float = 1.0,
) -> pd.DataFrame:
    """P(alive), expected purchases over the horizon, expected spend per purchase and
    discounted CLV (month by month: expected purchases × spend × margin / (1 + d)^i)."""
    x, t_x, T = (summary[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    month = UNITS["M"] / UNITS[unit]
    spend = gg.expected_spend(x, summary["monetary"].to_numpy(float))
    d = (1 + annual_discount) ** (1 / 12) - 1
    clv = np.zeros(len(summary))
    before = np.zeros(len(summary))
    for i in range(1, months + 1):
        upto = bg.expected(i * month, x, t_x, T)
        clv += (upto - before) * spend * margin / (1 + d) ** i
        before = upto
    return pd.DataFrame(
        {
            "p_alive": bg.p_alive(x, t_x, T),
            "expected_purchases": before,
            "expected_spend": spend,
            "clv": clv,
        },
        index=summary.index,
    )
