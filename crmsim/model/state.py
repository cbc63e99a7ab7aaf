"""Named arrays of the model: each customer slot's hidden traits and dynamic state.

A *slot* is one position in the arrays: a customer of the starting book, or a prospect who may
be won later (acquisition fills prospect slots in order). Every array has one entry per slot,
so "the satisfaction of customer i" is ``state.S[i]``. Traits are drawn once (DESIGN §3.1);
state moves every month (docs/model.md §3).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Self

import numpy as np
import pandas as pd

F32 = np.float32
# Lifecycle stages (生命周期): 考察期, 形成期, 稳定期, 退化期, then 流失 (churned); PROSPECT marks a
# slot that is not a customer yet (a prospect not yet won, or a customer who joins later in a
# history run).
EXPLORE, FORM, STABLE, DECLINE, CHURNED, PROSPECT = range(6)
STAGE_NAMES = ("exploration", "formation", "stability", "decline", "churned")
N_STAGES = len(STAGE_NAMES)
# Where a relationship starts: neutral satisfaction, not yet loyal (docs/model.md §2).
NEW_SATISFACTION, NEW_LOYALTY = 0.70, 0.30


class _Arrays:
    """Shared helpers of a dataclass whose fields are per-slot arrays (last axis = slot)."""

    def arrays(self) -> dict[str, np.ndarray]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def copy(self) -> Self:
        return type(self)(**{k: v.copy() for k, v in self.arrays().items()})

    def concat(self, other: Self) -> Self:
        return type(self)(
            **{k: np.concatenate([v, getattr(other, k)], axis=-1) for k, v in self.arrays().items()}
        )

    def take(self, idx: np.ndarray) -> Self:
        return type(self)(**{k: v[..., idx] for k, v in self.arrays().items()})

    @property
    def n(self) -> int:
        return int(getattr(self, fields(self)[0].name).shape[-1])


@dataclass
class Traits(_Arrays):
    """Hidden traits of each slot (DESIGN §3.1): what a student never sees."""

    wallet: np.ndarray  # W: what the customer could spend in the category per month
    sow0: np.ndarray  # starting share of wallet
    logit_theta: np.ndarray  # logit of the churn frailty θ (its base monthly hazard)
    price_sens: np.ndarray  # π: price sensitivity
    expectation0: np.ndarray  # E at the start of a relationship
    voice: np.ndarray  # willingness to complain after a failure
    kano: np.ndarray  # Kano type index (must-be, one-dimensional, attractive, indifferent)
    beta: np.ndarray  # (6, n) responsiveness to each lever, in LEVERS order
    purchase_rate: np.ndarray  # λ: purchases per month at full stage spend
    fit: np.ndarray  # how well the offer fits this customer (a quality offset)
    growth: np.ndarray  # monthly wallet growth factor (> 1 for rising stars)
    rising_star: np.ndarray  # hidden growth potential inside low-value groups
    key_resp: np.ndarray  # 0 below the 80th value percentile, 1 from the 99th


@dataclass
class State(_Arrays):
    """Dynamic state of each slot, updated every month (docs/model.md §3)."""

    S: np.ndarray  # satisfaction 客户满意度, 0–1
    L: np.ndarray  # loyalty 客户忠诚度, 0–1
    E: np.ndarray  # expectation, 0–1
    C: np.ndarray  # lock-in from rewards
    G: np.ndarray  # grievance stock from failures
    pref: np.ndarray  # reference price (1 = list price)
    sow: np.ndarray  # share of wallet
    spend_mean: np.ndarray  # moving mean of expected spend (about 6 months)
    tenure: np.ndarray  # months as a customer
    stage: np.ndarray  # EXPLORE … CHURNED, or PROSPECT
    dwell: np.ndarray  # months in the current stage
    complaints: np.ndarray  # complaints voiced so far
    bought: np.ndarray  # bought since entering the current stage (考察→形成 needs a purchase)


@dataclass
class Population:
    """A customer book: observables for students, hidden traits and state for the model."""

    case_id: str
    seed: int
    customers: pd.DataFrame
    traits: Traits
    state: State = field(default=None)  # type: ignore[assignment]
    # The firm's forecast of each customer's monthly spend at list price, from her history:
    # what the budget check prices rewards and discounts on.
    list_spend: np.ndarray = field(default=None)  # type: ignore[assignment]

    @property
    def n(self) -> int:
        """Number of customers."""
        return len(self.customers)
