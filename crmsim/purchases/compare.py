"""The synthetic book next to the real one (issue 18): the same figures measured on a purchase
log's customers and on a population drawn like them, each with its tolerance.

Real: the customers who bought by the calibration end, their purchases up to it (purchase
months, as the simulator counts purchases: at most one a month), their spend per month since
the first purchase, and their revenue in each month of the holdout. Synthetic: the population's
12-month history (a cohort that first bought as long ago as the real customers did) and its
next months under the case's status quo without acquisition (the holdout follows the same
customers, no new ones).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from crmsim.purchases.logs import Transactions
from crmsim.purchases.summary import UNITS

BUCKETS = ("1", "2", "3", "4+")  # purchase months per customer


@dataclass(frozen=True)
class Book:
    """The figures compared."""

    customers: int
    buy_share: float  # bought at least once in the window
    purchases: dict[str, float]  # share of customers by purchase months (0 counts as "1"-less)
    spend_median: float  # spend per month since the first purchase
    spend_p90: float
    top20_share: float  # of revenue in the window
    path: tuple[float, ...]  # revenue per customer in each month after the window

    @property
    def decline(self) -> float:
        """The last three months' revenue against the first three's (1 = flat)."""
        p = np.asarray(self.path)
        k = max(1, min(3, len(p) // 2))
        return float(p[-k:].mean() / max(p[:k].mean(), 1e-12))


def _buckets(counts: np.ndarray) -> dict[str, float]:
    n = max(len(counts), 1)
    return {
        "1": float((counts == 1).sum() / n),
        "2": float((counts == 2).sum() / n),
        "3": float((counts == 3).sum() / n),
        "4+": float((counts >= 4).sum() / n),
    }


def _top(values: np.ndarray) -> float:
    ordered = np.sort(values)[::-1]
    return float(ordered[: max(int(0.2 * len(ordered)), 1)].sum() / max(ordered.sum(), 1e-12))


def holdout_months(calibration_end: pd.Timestamp, observation_end: pd.Timestamp) -> int:
    """Whole months from the calibration end to the observation end (1–12)."""
    return int(np.clip(round((observation_end - calibration_end).days / UNITS["M"]), 1, 12))


def real_book(
    tx: Transactions, calibration_end: pd.Timestamp, observation_end: pd.Timestamp
) -> Book:
    """The figures of a log's customers (those who bought by ``calibration_end``)."""
    f = tx.frame
    cal = f[f["date"] <= calibration_end]
    g = cal.groupby("customer_id", sort=True)
    first = g["date"].min()
    total = g["amount"].sum()
    months = np.maximum((calibration_end - first).dt.days.to_numpy() / UNITS["M"], 1.0)
    buy_months = cal.assign(m=cal["date"].dt.to_period("M")).groupby("customer_id")["m"].nunique()
    monthly = total.to_numpy(float) / months
    n = len(total)
    hold = f[(f["date"] > calibration_end) & (f["date"] <= observation_end)]
    hold = hold[hold["customer_id"].isin(total.index)]
    k = holdout_months(calibration_end, observation_end)
    month_no = ((hold["date"] - calibration_end).dt.days.to_numpy() - 1) // UNITS["M"]
    path = np.bincount(np.clip(month_no, 0, k - 1).astype(int), hold["amount"], minlength=k)
    return Book(
        n,
        1.0,  # every customer of the log bought: her first purchase is in it
        _buckets(buy_months.to_numpy()),
        float(np.median(monthly)),
        float(np.quantile(monthly, 0.9)),
        _top(total.to_numpy(float)),
        tuple(float(x) for x in path[:k] / n),
    )


def synthetic_book(case, n: int, seed: int, months: int) -> Book:
    """The same figures on a population drawn for ``case`` and its next ``months`` under the
    status quo without acquisition."""
    from crmsim.model.run import simulate
    from crmsim.population import generate

    pop = generate(case, n, seed=seed)
    c = pop.customers
    freq = c["frequency"].to_numpy()
    plan = case.status_quo.model_copy(update={"acquisition": {}})
    res = simulate(pop, case, plan, months=months, seed=seed)
    path = res.monthly["revenue"].to_numpy(float) / n
    return Book(
        n,
        float((freq > 0).mean()),
        _buckets(freq),
        float(c["monetary"].median()),
        float(c["monetary"].quantile(0.9)),
        _top(c["revenue_12m"].to_numpy(float)),
        tuple(float(x) for x in path),
    )


# (figure, tolerance, how it is checked) — the tolerances the tests hold on the CDNOW sample
TOLERANCES = {
    "buy_share": 0.03,  # absolute
    "purchases": 0.05,  # absolute, each bucket's share
    "spend_median": 0.15,  # relative
    "spend_p90": 0.20,  # relative
    "top20_share": 0.05,  # absolute
    "revenue_total": 0.20,  # relative, the holdout months' revenue per customer
    "decline": 0.25,  # absolute, last three months against the first three
}
DECLINES = 0.9  # a path declines when its last three months are below 0.9 × its first three


def compare(real: Book, synth: Book) -> pd.DataFrame:
    """One row per figure: real, synthetic, the gap, the tolerance and whether it holds."""
    rows = [
        ("buy_share", real.buy_share, synth.buy_share, "abs"),
        *((f"purchases_{b}", real.purchases[b], synth.purchases[b], "abs") for b in BUCKETS),
        ("spend_median", real.spend_median, synth.spend_median, "rel"),
        ("spend_p90", real.spend_p90, synth.spend_p90, "rel"),
        ("top20_share", real.top20_share, synth.top20_share, "abs"),
    ]
    has_path = len(real.path) >= 2 and sum(real.path) > 0  # a holdout to compare with
    if has_path:
        rows += [
            ("revenue_total", sum(real.path), sum(synth.path), "rel"),
            ("decline", real.decline, synth.decline, "abs"),
        ]
    out = []
    for name, r, s, kind in rows:
        tol = TOLERANCES[name.split("_")[0] if name.startswith("purchases") else name]
        gap = s - r if kind == "abs" else s / r - 1 if r else np.inf
        out.append(
            {
                "figure": name,
                "real": r,
                "synthetic": s,
                "gap": gap,
                "kind": kind,
                "tolerance": tol,
                "ok": bool(abs(gap) <= tol),
            }
        )
    if has_path and real.decline < DECLINES:  # the real book falls: so must the synthetic one
        out.append(
            {
                "figure": "declines",
                "real": real.decline,
                "synthetic": synth.decline,
                "gap": synth.decline - DECLINES,
                "kind": "below",
                "tolerance": DECLINES,
                "ok": bool(synth.decline < DECLINES),
            }
        )
    return pd.DataFrame(out)
