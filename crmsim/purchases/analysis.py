"""One fit of a purchase log, and what it can and cannot be trusted for.

``analyse`` runs the summary, BG/NBD, Gamma-Gamma, the holdout check and the per-customer
values; ``diagnose`` says next to every fit whether the optimisers converged, which parameters
ended at the edge of the search (a bound is not an estimate), how far the holdout forecast is
from what happened (within ±15%, or off by how much), and explains the degenerate cases in
plain words: amounts that hardly vary (Gamma-Gamma cannot tell customers apart: lifetimes
refuses such a fit), a model that sees nobody leave (P(alive) ≈ 100% for everyone), spend
that moves with frequency (Gamma-Gamma assumes it does not), too few repeat buyers.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from crmsim.i18n import Lang, t
from crmsim.purchases.logs import Transactions
from crmsim.purchases.models import (
    BGNBD,
    GG_BOUNDS,
    GammaGamma,
    customer_values,
    fit_bgnbd,
    fit_gamma_gamma,
    holdout_table,
)
from crmsim.purchases.summary import rfm_summary

HOLDOUT_TOLERANCE = 0.15  # a holdout forecast within ±15% of the actual is "close"
CONSTANT_CV = 0.01  # spend per purchase varying less than 1% across customers: constant
EVERYONE_ALIVE = 0.99  # P(alive) above this for 95% of customers: no dropout seen
FEW_REPEAT = 100  # Gamma-Gamma on fewer repeat buyers is a rough estimate
SPEND_FREQUENCY_CORR = 0.3  # |corr(frequency, monetary)| above this breaks Gamma-Gamma


@dataclass(frozen=True)
class Finding:
    """One diagnostic: ``ok`` (checked and fine), ``warning`` (read the numbers with care) or
    ``info``; its message is ``fit.<key>`` in the catalogs."""

    level: str
    key: str
    params: dict = field(default_factory=dict)

    def render(self, lang: Lang = "zh") -> str:
        return t(f"fit.{self.key}", lang, **self.params)

    def as_dict(self, lang: Lang = "en") -> dict:
        return {"level": self.level, "check": self.key, "message": self.render(lang)}


@dataclass
class Analysis:
    """Everything one fit says: the summary, both models, holdout check, per-customer values,
    and the diagnostics."""

    summary: pd.DataFrame
    bgnbd: BGNBD
    gamma_gamma: GammaGamma
    values: pd.DataFrame
    holdout: pd.DataFrame | None
    unit: str
    calibration_end: pd.Timestamp
    observation_end: pd.Timestamp
    seconds: float
    diagnostics: list[Finding] = field(default_factory=list)

    @property
    def holdout_totals(self) -> tuple[float, float] | None:
        """(actual, predicted) repeat purchases in the holdout, or None without one."""
        if self.holdout is None:
            return None
        actual = float(self.summary["frequency_holdout"].sum())
        return actual, float((self.holdout["predicted"] * self.holdout["customers"]).sum())

    def report(self, lang: Lang = "en") -> dict:
        """The JSON the CLI writes (``clv --json``)."""
        out = {
            "customers": len(self.summary),
            "repeat_buyers": int((self.summary["frequency"] > 0).sum()),
            "time_unit": self.unit,
            "calibration_end": f"{self.calibration_end:%Y-%m-%d}",
            "observation_end": f"{self.observation_end:%Y-%m-%d}",
            "bgnbd": {
                **self.bgnbd.as_dict(),
                "converged": self.bgnbd.converged,
                "at_bound": list(self.bgnbd.at_bound),
            },
            "gamma_gamma": {
                **self.gamma_gamma.as_dict(),
                "converged": self.gamma_gamma.converged,
                "at_bound": list(self.gamma_gamma.at_bound),
            },
            "fit_seconds": self.seconds,
            "mean_p_alive": float(self.values["p_alive"].mean()),
            "total_clv": float(self.values["clv"].sum()),
            "diagnostics": [f.as_dict(lang) for f in self.diagnostics],
            "warnings": sum(f.level == "warning" for f in self.diagnostics),
        }
        totals = self.holdout_totals
        if totals is not None:
            actual, predicted = totals
            error = predicted / actual - 1 if actual > 0 else None
            out["holdout"] = {
                "actual": actual,
                "predicted": predicted,
                "error": error,
                "within_tolerance": error is not None and abs(error) <= HOLDOUT_TOLERANCE,
                "tolerance": HOLDOUT_TOLERANCE,
                "by_frequency": self.holdout.to_dict(orient="records"),
            }
        return out


def _pct(x: float) -> str:
    return f"{x:+.0%}" if abs(x) >= 0.1 else f"{x:+.1%}"


def diagnose(
    summary: pd.DataFrame,
    bg: BGNBD,
    gg: GammaGamma,
    values: pd.DataFrame,
    holdout: tuple[float, float] | None,
) -> list[Finding]:
    """The checks above, warnings first."""
    out: list[Finding] = []
    for name, fit in (("bgnbd", bg), ("gamma_gamma", gg)):
        if not fit.converged:
            out.append(Finding("warning", f"{name}_not_converged"))
    rep = summary[(summary["frequency"] > 0) & (summary["monetary"] > 0)]
    m = rep["monetary"].to_numpy(float)
    # no spread to model: amounts equal, or the shape p of spend per purchase ran off to
    # infinity (the search's upper edge: each customer's purchases all the same amount)
    runaway = "p" in gg.at_bound and gg.p > 0.99 * np.exp(GG_BOUNDS[1])
    constant = m.size > 0 and (float(m.std()) <= CONSTANT_CV * float(m.mean()) or runaway)
    if constant:
        typical = f"{float(np.median(m)):,.2f}"
        out.append(Finding("warning", "constant_amounts", {"mean": typical}))
    elif gg.at_bound:
        out.append(Finding("warning", "gamma_gamma_at_bound", {"names": ", ".join(gg.at_bound)}))
    alive = values["p_alive"].to_numpy(float)
    everyone = float((alive > EVERYONE_ALIVE).mean()) >= 0.95
    if everyone:
        dropout = bg.a / (bg.a + bg.b)
        out.append(Finding("warning", "everyone_alive", {"dropout": f"{dropout:.2%}"}))
    bound = tuple(n for n in bg.at_bound if not (everyone and n in ("a", "b")))
    if bound:
        out.append(Finding("warning", "bgnbd_at_bound", {"names": ", ".join(bound)}))
    if holdout is None:
        out.append(Finding("info", "no_holdout"))
    else:
        actual, predicted = holdout
        if actual <= 0:
            out.append(Finding("warning", "holdout_empty", {"predicted": f"{predicted:,.0f}"}))
        else:
            error = predicted / actual - 1
            params = {
                "actual": f"{actual:,.0f}",
                "predicted": f"{predicted:,.0f}",
                "error": _pct(error),
                "tolerance": f"{HOLDOUT_TOLERANCE:.0%}",
            }
            close = abs(error) <= HOLDOUT_TOLERANCE
            out.append(
                Finding(
                    "ok" if close else "warning", "holdout_" + ("close" if close else "off"), params
                )
            )
    if 0 < len(rep) < FEW_REPEAT:
        out.append(Finding("warning", "few_repeat", {"n": len(rep), "min": FEW_REPEAT}))
    if len(rep) >= 3 and not constant and rep["frequency"].nunique() > 1:
        corr = float(np.corrcoef(rep["frequency"], rep["monetary"])[0, 1])
        if abs(corr) > SPEND_FREQUENCY_CORR:
            out.append(Finding("warning", "spend_frequency", {"corr": f"{corr:.2f}"}))
    if not any(f.level == "warning" for f in out):
        out.insert(0, Finding("ok", "converged"))
    return sorted(out, key=lambda f: {"warning": 0, "ok": 1, "info": 2}[f.level])


def analyse(
    tx: Transactions,
    calibration_end: str | pd.Timestamp | None = None,
    observation_end: str | pd.Timestamp | None = None,
    unit: str = "W",
    months: int = 12,
    annual_discount: float = 0.10,
    margin: float = 1.0,
    progress: Callable[[float, str], None] | None = None,
) -> Analysis:
    """RFM summary, BG/NBD and Gamma-Gamma fits, holdout check, customer values and the
    diagnostics in one go; ``progress(fraction, step)`` is told as each step starts."""
    tick = progress or (lambda _f, _k: None)
    start = time.perf_counter()
    tick(0.0, "summary")
    summary = rfm_summary(tx, calibration_end, observation_end, unit)
    tick(0.2, "bgnbd")
    bg = fit_bgnbd(summary)
    tick(0.6, "gamma_gamma")
    gg = fit_gamma_gamma(summary)
    tick(0.8, "values")
    values = customer_values(summary, bg, gg, unit, months, annual_discount, margin)
    holdout = holdout_table(summary, bg) if "frequency_holdout" in summary else None
    found = Analysis(
        summary,
        bg,
        gg,
        values,
        holdout,
        unit,
        pd.Timestamp(calibration_end) if calibration_end is not None else tx.last_date,
        pd.Timestamp(observation_end) if observation_end is not None else tx.last_date,
        0.0,
    )
    found.diagnostics = diagnose(summary, bg, gg, values, found.holdout_totals)
    found.seconds = time.perf_counter() - start
    tick(1.0, "values")
    return found
