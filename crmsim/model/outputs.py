"""What a run keeps (DESIGN §3.4): monthly sums per segment and stage, stage transitions,
satisfaction histograms, cohorts, per-customer end vectors and a fixed sample of trajectories —
never a customers × months panel."""

from __future__ import annotations

import importlib.metadata
import platform
from dataclasses import dataclass, field
from functools import cache

import numpy as np
import pandas as pd

from crmsim.model.month import HAZARD_TERMS
from crmsim.model.plan import CHANNELS
from crmsim.model.state import CHURNED, F32, N_STAGES, STAGE_NAMES

SAT_BINS = 20
AFFECTION, DEFECTION = 0.85, 0.5  # Jones–Sasser zones on the satisfaction scale
AFFECTION_BIN, DEFECTION_BIN = round(AFFECTION * SAT_BINS), round(DEFECTION * SAT_BINS)
SAMPLE_SIZE = 2000


@dataclass
class SimResult:
    """What a run keeps: aggregates, per-customer end vectors and sampled trajectories."""

    case_id: str
    plan_name: str
    seed: int
    months: int
    segments: list[str]
    monthly: pd.DataFrame
    by_segment: pd.DataFrame
    by_stage: pd.DataFrame
    transitions: np.ndarray  # (months, 5, 5) counts from stage at start to stage at end
    sat_hist: np.ndarray  # (months, 20) survivors' satisfaction histogram
    sat_risk: np.ndarray  # (months, 20) customers at risk by satisfaction at the hazard
    sat_churn: np.ndarray  # (months, 20) of whom churned
    cohorts: np.ndarray  # (months + 1 entry cohorts, months + 1) active counts
    customers: pd.DataFrame  # per customer end vectors (segment, entry, churn month, margins)
    sample: dict[str, np.ndarray]
    valuation: dict  # the final plan played on past the horizon: monthly profit (tail)
    meta: dict = field(default_factory=dict)


@cache
def _versions() -> tuple[tuple[str, str], ...]:
    from crmsim import __version__

    out = {"python": platform.python_version(), "crmsim": __version__}
    for pkg in ("numpy", "pandas"):
        try:
            out[pkg] = importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:  # pragma: no cover - always installed
            out[pkg] = "?"
    return tuple(out.items())


def versions() -> dict[str, str]:
    """Versions of the packages that shape a result (recorded with every run; read once)."""
    return dict(_versions())


def sat_bin(S: np.ndarray) -> np.ndarray:
    """Histogram bin of each satisfaction (S = 1 in the top bin)."""
    return np.minimum((S * F32(SAT_BINS)).astype(np.intp), SAT_BINS - 1)


class Recorder:
    """Collects one run's monthly sums; the tables are built once at the end."""

    def __init__(self, n_segments: int, months: int):
        self.S = n_segments
        self.months = months
        self.rows: list[dict] = []
        self.transitions = np.zeros((months, N_STAGES, N_STAGES), np.int64)
        self.sat_hist = np.zeros((months, SAT_BINS), np.int64)
        self.sat_risk = np.zeros((months, SAT_BINS), np.int64)
        self.sat_churn = np.zeros((months, SAT_BINS), np.int64)
        self.cohorts = np.zeros((months + 1, months + 1), np.int64)

    def month(self, t: int, seg, start, new, S, L, spend, outcomes, **extra) -> float:
        """Sum one month by (segment, stage at start). One count over (segment, start stage,
        end stage, satisfaction bin) cells gives head counts, leavers, transitions and the
        histograms; slots that were not active at the start (stage 4–5) fall outside the
        first four stage columns. Returns the affection-zone count among survivors."""
        n_seg, cols = self.S, self.S * 6
        key = seg * 6 + start
        cell = (key * 6 + new) * SAT_BINS + sat_bin(S)
        flow = np.bincount(cell, minlength=cols * 6 * SAT_BINS).reshape(n_seg, 6, 6, SAT_BINS)
        flow = flow[:, :4]  # active at the start of the month
        stayed = flow[:, :, :4].sum(axis=(0, 1, 2))  # survivors' histogram
        survivor = new < CHURNED
        row = {
            "count": flow.sum(axis=(2, 3)),
            "churned": flow[:, :, CHURNED].sum(axis=2),
            "spend": np.bincount(key, spend, minlength=cols).reshape(n_seg, 6)[:, :4],
            "sat": np.bincount(key, S * survivor, minlength=cols).reshape(n_seg, 6)[:, :4],
            "loy": np.bincount(key, L * survivor, minlength=cols).reshape(n_seg, 6)[:, :4],
            "outcomes": outcomes,
            "alive_total": float(stayed.sum()),
            "affection": float(stayed[AFFECTION_BIN:].sum()),
            "defection": float(stayed[:DEFECTION_BIN].sum()),
            **extra,
        }
        self.rows.append(row)
        k = t - 1
        self.transitions[k, :4] = flow.sum(axis=(0, 3))[:, :N_STAGES]
        self.sat_hist[k] = stayed
        self.sat_risk[k] = flow.sum(axis=(0, 1, 2))
        self.sat_churn[k] = flow[:, :, CHURNED].sum(axis=(0, 1))
        return row["affection"]

    def frames(
        self, segments: list[str], lever_hist: list[np.ndarray], margin_rate: float
    ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        """Monthly, by-segment and by-stage tables."""
        m = self._sums(lever_hist, margin_rate)
        return self._monthly(m), self._by_segment(m, segments), self._by_stage(m)

    def _stack(self, key: str) -> np.ndarray:
        return np.array([r[key] for r in self.rows], dtype=np.float64)

    def _sums(self, lever_hist: list[np.ndarray], margin_rate: float) -> dict[str, np.ndarray]:
        """Month × segment (× stage) sums. Revenue, gross margin and rewards follow from spend
        and the rates in force each month: revenue = spend·(1 − d), gross margin = spend·(g − d),
        rewards = r·revenue."""
        stack = self._stack
        spend = stack("spend")  # month × segment × stage
        outcomes = stack("outcomes")  # month × segment × (none, silent, unresolved, resolved, fast)
        lev = np.stack(lever_hist)  # month × segment × lever
        disc, rw = lev[:, :, 5, None], lev[:, :, 4, None]
        revenue = spend * (1 - disc)
        resolved = outcomes[:, :, 3] + outcomes[:, :, 4]
        return {
            "count": stack("count"),
            "churned": stack("churned").sum(axis=2),
            "sat": stack("sat").sum(axis=2),
            "loy": stack("loy").sum(axis=2),
            "outcomes": outcomes,
            "spend": spend,
            "revenue": revenue,
            "gm": spend * (margin_rate - disc),
            "rewards": rw * revenue,
            "discount": spend * disc,
            "n_seg": stack("active_start"),
            "levers_cost": stack("levers_cost"),
            "resolved": resolved,
            "complain": outcomes[:, :, 2] + resolved,
            "months": np.arange(1, len(self.rows) + 1),
        }

    def _by_segment(self, m: dict, segments: list[str]) -> pd.DataFrame:
        T, S = len(m["months"]), self.S
        rewards = m["rewards"].sum(axis=2)
        return pd.DataFrame(
            {
                "month": np.repeat(m["months"], S),
                "segment": np.tile(np.array(segments, dtype=object), T),
                "active_start": m["n_seg"].ravel(),
                "active_end": (m["count"].sum(axis=2) - m["churned"]).ravel(),
                "churned": m["churned"].ravel(),
                "revenue": m["revenue"].sum(axis=2).ravel(),
                "gross_margin": m["gm"].sum(axis=2).ravel(),
                "service_cost": (m["levers_cost"] + rewards).ravel(),
                "rate_cost": (rewards + m["discount"].sum(axis=2)).ravel(),
                "complaints": m["complain"].ravel(),
                "resolved": m["resolved"].ravel(),
                "sat_sum": m["sat"].ravel(),
                "loyalty_sum": m["loy"].ravel(),
            }
        )

    def _by_stage(self, m: dict) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "month": np.repeat(m["months"], 4),
                "stage": np.tile(np.arange(4), len(m["months"])),
                "active": m["count"].sum(axis=1).ravel(),
                "revenue": m["revenue"].sum(axis=1).ravel(),
                "margin": (m["gm"] - m["rewards"]).sum(axis=1).ravel(),
            }
        )

    def _monthly(self, m: dict) -> pd.DataFrame:
        stack, outcomes = self._stack, m["outcomes"]
        alive_total = stack("alive_total")
        alive = np.maximum(alive_total, 1.0)
        acquired = stack("acquired").reshape(len(m["months"]), -1)
        acq_cost = stack("acquisition_cost")
        stage_n = m["count"].sum(axis=1)
        lever_cost = m["levers_cost"].sum(axis=1)
        rewards_cost = m["rewards"].sum(axis=(1, 2))
        gross_margin = m["gm"].sum(axis=(1, 2))
        service_cost = lever_cost + rewards_cost + acq_cost
        return pd.DataFrame(
            {
                "month": m["months"],
                "active_start": m["n_seg"].sum(axis=1),
                "new": acquired.sum(axis=1),
                "active_end": alive_total,
                "churned": m["churned"].sum(axis=1),
                "revenue": m["revenue"].sum(axis=(1, 2)),
                "gross_margin": gross_margin,
                "lever_cost": lever_cost,
                "rewards_cost": rewards_cost,
                "discount_cost": m["discount"].sum(axis=(1, 2)),
                "acquisition_cost": acq_cost,
                "failures": outcomes[:, :, 1:].sum(axis=(1, 2)),
                "complaints": m["complain"].sum(axis=1),
                "resolved": m["resolved"].sum(axis=1),
                "resolved_fast": outcomes[:, :, 4].sum(axis=1),
                "unresolved": outcomes[:, :, 2].sum(axis=1),
                "silent": outcomes[:, :, 1].sum(axis=1),
                "avg_satisfaction": m["sat"].sum(axis=1) / alive,
                "avg_loyalty": m["loy"].sum(axis=1) / alive,
                "affection_share": stack("affection") / alive,
                "defection_share": stack("defection") / alive,
                **{f"new_{ch}": acquired[:, i] for i, ch in enumerate(CHANNELS)},
                **{f"stage_{key}": stage_n[:, k] for k, key in enumerate(STAGE_NAMES[:4])},
                "service_cost": service_cost,
                "profit": gross_margin - service_cost,
            }
        )


class Sample:
    """A fixed random sample of initial customers followed month by month, with the hazard
    terms of each one who left (in her exit month) and the average customer's terms each
    month: "why did she leave" is her terms against the average."""

    def __init__(self, slots: np.ndarray, n_slots: int, months: int):
        self.slots = slots
        k = len(slots)
        self.data = {key: np.full((months, k), np.nan, F32) for key in ("S", "L", "G", "revenue")}
        self.data["stage"] = np.full((months, k), -1, np.int8)
        self.data["complaint"] = np.zeros((months, k), np.int8)
        self.data["terms"] = np.full((k, len(HAZARD_TERMS)), np.nan, F32)
        self.data["terms_mean"] = np.full((months, len(HAZARD_TERMS)), np.nan, F32)
        self.position = np.full(n_slots, -1, np.int32)  # slot → position in the sample
        self.position[slots] = np.arange(k, dtype=np.int32)

    def month(self, t, state, churn_month, revenue, fail_idx, outcome, terms, terms_mean, left):
        """Record the sampled customers' month ``t``."""
        k, idx, d = t - 1, self.slots, self.data
        live = (state.stage[idx] < CHURNED) | (churn_month[idx] == t)
        for key in ("S", "L", "G"):
            d[key][k] = np.where(live, getattr(state, key)[idx], np.nan)
        d["revenue"][k] = revenue  # the sample's revenue so far; the UI takes differences
        d["stage"][k] = np.where(live | (churn_month[idx] > 0), state.stage[idx], -1)
        pos = self.position[fail_idx]
        hit = pos >= 0
        d["complaint"][k, pos[hit]] = outcome[hit]
        d["terms_mean"][k] = terms_mean
        gone = left[self.position[left] >= 0]
        if gone.size:  # terms are arrays over the month's slots, or scalars
            d["terms"][self.position[gone]] = np.column_stack(
                [
                    terms[name][gone] if np.ndim(terms[name]) else np.full(gone.size, terms[name])
                    for name in HAZARD_TERMS
                ]
            )
