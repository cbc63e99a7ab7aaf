"""The buy-till-you-die summary of a purchase log (Fader, Hardie & Lee 2005): purchases on one
day count once; ``frequency`` x is the number of repeat purchase days, ``recency`` t_x the time
from the first to the last purchase, ``T`` the time from the first purchase to the end of the
calibration period, in days, weeks or months; ``monetary`` the mean spend of the repeat days."""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmsim.errors import InputError, Issue
from crmsim.purchases.logs import Transactions

UNITS = {"D": 1.0, "W": 7.0, "M": 365.25 / 12}


def rfm_summary(
    tx: Transactions | pd.DataFrame,
    calibration_end: str | pd.Timestamp | None = None,
    observation_end: str | pd.Timestamp | None = None,
    unit: str = "W",
) -> pd.DataFrame:
    """One row per customer who bought by ``calibration_end``: frequency, recency, T, monetary
    (mean repeat-day spend), first purchase, total spend; with an observation end after it, also
    the holdout's ``frequency_holdout``, ``monetary_holdout`` and ``duration_holdout``."""
    frame = tx.frame if isinstance(tx, Transactions) else tx
    if unit not in UNITS:
        raise InputError([Issue("unit", "not_allowed", {"limit": ", ".join(UNITS)})], "summary")
    days = UNITS[unit]
    last = frame["date"].max()
    cal_end = pd.Timestamp(calibration_end) if calibration_end is not None else last
    obs_end = pd.Timestamp(observation_end) if observation_end is not None else last
    first = frame["date"].min()
    if calibration_end is None and not first < last:
        raise InputError([Issue("date", "tx_one_day")], "summary")
    if not first < cal_end <= last:
        raise InputError(
            [
                Issue(
                    "calibration_end",
                    "tx_calibration_end",
                    {"first": f"{first:%Y-%m-%d}", "last": f"{last:%Y-%m-%d}"},
                )
            ],
            "summary",
        )
    if obs_end < cal_end:
        raise InputError([Issue("observation_end", "tx_observation_end")], "summary")
    daily = frame.groupby(["customer_id", "date"], sort=True, as_index=False)["amount"].sum()
    cal = daily[daily["date"] <= cal_end]
    g = cal.groupby("customer_id", sort=True)
    first_day = g["date"].min()
    last_day = g["date"].max()
    n_days = g.size()
    total = g["amount"].sum()
    first_amount = g["amount"].first()
    out = pd.DataFrame(
        {
            "frequency": (n_days - 1).astype(int),
            "recency": (last_day - first_day).dt.days / days,
            "T": (cal_end - first_day).dt.days / days,
            "monetary": np.where(
                n_days > 1, (total - first_amount) / np.maximum(n_days - 1, 1), 0.0
            ),
            "first_purchase": first_day,
            "last_purchase": last_day,
            "total_spend": total,
        }
    )
    if obs_end > cal_end:
        hold = daily[(daily["date"] > cal_end) & (daily["date"] <= obs_end)]
        hg = hold.groupby("customer_id")
        out["frequency_holdout"] = hg.size().reindex(out.index, fill_value=0).astype(int)
        out["monetary_holdout"] = hg["amount"].mean().reindex(out.index, fill_value=0.0)
        out["duration_holdout"] = (obs_end - cal_end).days / days
    out.index.name = "customer_id"
    return out


def segment_frame(summary: pd.DataFrame, values: pd.DataFrame, unit: str) -> pd.DataFrame:
    """Real customers in the columns the segmentation methods read (recency in months since
    the last purchase, frequency = purchase days, monetary = mean spend per purchase day,
    revenue_12m = spend in the last 12 months of the calibration period approximated by the
    total spend per year of tenure)."""
    per_month = UNITS["M"] / UNITS[unit]
    tenure_months = np.maximum(summary["T"].to_numpy(float) / per_month, 1.0)
    return pd.DataFrame(
        {
            "customer_id": summary.index.astype(str),
            "recency": (summary["T"] - summary["recency"]).to_numpy(float) / per_month,
            "frequency": summary["frequency"].to_numpy() + 1,
            "monetary": summary["total_spend"].to_numpy(float) / (summary["frequency"] + 1),
            "revenue_12m": summary["total_spend"].to_numpy(float)
            * np.minimum(12 / tenure_months, 1),
            "clv": values["clv"].to_numpy(float),
            "p_alive": values["p_alive"].to_numpy(float),
        }
    )
