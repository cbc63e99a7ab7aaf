"""Service levers: how money becomes a dose per customer, and a dose a response
(DESIGN §3.2, docs/model.md §2).

Dose per customer u = (segment money / active customers in the segment) / reference cost.
A money lever's response is saturating, r = β·(1 − e^−u): each extra unit buys less. Past the
over-serving dose u₀ a bounded fatigue 1 − e^−(u − u₀)/u₀ takes back a little quality, so more
money caps the benefit without reversing it steeply. Key-account managers follow a threshold
(Hill) curve u²/(1 + u²) on the accounts they cover. Rate levers (rewards, discount) are shares
of revenue; the budget counts them as a forecast on the current book.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from crmsim.model.case import Case, Costs, ModelParams
from crmsim.model.plan import LEVERS, Plan
from crmsim.model.state import F32

CARE, RECOVERY, CROSS_SELL, KAM, REWARDS, DISCOUNT = range(len(LEVERS))
MONEY_LEVERS = ("care", "recovery", "cross_sell")
RATE_LEVERS = ("rewards", "discount")
# The sweet spot of a saturating lever: the dose that gives 90% of its full effect.
SWEET_SPOT_SHARE = 0.9
SWEET_SPOT_DOSE = -math.log(1 - SWEET_SPOT_SHARE)  # ≈ 2.3 reference costs
# A key-account manager's sweet spot: the Hill curve at 80% (u = 2): half as many accounts per
# manager as one looks after.
KAM_SWEET_DOSE = 2.0


def saturation(u: float) -> float:
    """r/β = 1 − e^−u: the share of a money lever's full effect a dose u buys."""
    return 1.0 - math.exp(-u)


def over_serving(u: float, u0: float) -> float:
    """Fatigue past the over-serving dose u₀: 1 − e^−(u − u₀)/u₀, 0 below u₀, at most 1."""
    return 1.0 - math.exp(-max(u - u0, 0.0) / u0)


def hill(u: float) -> float:
    """Key-account response u²/(1 + u²): little below one manager's worth, most by u = 2."""
    return u * u / (1.0 + u * u)


@dataclass
class SegmentDoses:
    """One month's lever responses per segment (before each customer's own β)."""

    care: np.ndarray  # 1 − e^−u_care
    cross_sell: np.ndarray  # 1 − e^−u_x
    fatigue: np.ndarray  # quality taken back by over-serving, per customer of the segment
    kam: np.ndarray  # Hill response of a covered account
    kam_capacity: np.ndarray  # accounts the segment's managers cover
    rewards: np.ndarray  # 1 − e^−(rate / reference rate)
    discount: np.ndarray  # the segment's price discount d


def segment_doses(
    levers: np.ndarray, active: np.ndarray, costs: Costs, mp: ModelParams, kam_capacity: float
) -> SegmentDoses:
    """Doses and responses per segment from the plan's levers (segments × 6) and the number of
    active customers per segment.

    Key-account managers: m managers look after a = ``kam_accounts`` accounts each, so they
    cover the segment's top min(n, m·a) accounts, each at dose u = m·a / covered: 1 when the
    team is fully stretched (the Hill curve gives half the full response), more when it has
    time to spare (deeper attention: 80% at u = 2). Too few managers reach too few accounts.
    """
    care, cross, kam_ = [], [], []
    fatigue, capacity = [], []
    for n, lev in zip(active.tolist(), levers.tolist(), strict=True):
        per = max(n, 1.0)
        u_care = lev[CARE] / per / costs.care
        u_x = lev[CROSS_SELL] / per / costs.cross_sell
        care.append(saturation(u_care))
        cross.append(saturation(u_x))
        fatigue.append(
            mp.fatigue
            * (over_serving(u_care, mp.fatigue_dose) + over_serving(u_x, mp.fatigue_dose))
        )
        served = lev[KAM] * costs.kam_accounts * kam_capacity  # accounts the managers look after
        covered = min(n, served)
        capacity.append(served)
        kam_.append(hill(served / covered) if covered > 0 else 0.0)
    rw = levers[:, REWARDS]
    return SegmentDoses(
        care=np.array(care, F32),
        cross_sell=np.array(cross, F32),
        fatigue=np.array(fatigue, F32),
        kam=np.array(kam_, F32),
        kam_capacity=np.array(capacity),
        rewards=(1 - np.exp(-rw / costs.rewards_ref)).astype(F32),
        discount=levers[:, DISCOUNT].astype(F32),
    )


def recovery_per_complaint(
    money: np.ndarray, complaints: np.ndarray, costs: Costs, mp: ModelParams
) -> tuple[np.ndarray, np.ndarray]:
    """Complaint money per complaint b = recovery money / complaints, per segment; returns
    b / b₀ (the resolution dose) and the share of resolutions that are fast,
    1 − e^(−b / (b₀·fast_cost)). More complaints dilute the money; more money is faster."""
    b = money / np.maximum(complaints, 1.0)
    dose = b / costs.recovery
    fast = 1 - np.exp(-dose / mp.recovery_fast_cost)
    return dose.astype(F32), fast.astype(F32)


# -- what a plan costs ---------------------------------------------------------------------
def money_cost(plan: Plan, kam_salary: float) -> float:
    """Money per month a plan commits outright: care, complaint handling, marketing, manager
    salaries and acquisition."""
    levers = sum(
        lv.care + lv.recovery + lv.cross_sell + lv.kam * kam_salary
        for lv in plan.allocations.values()
    )
    return levers + sum(plan.acquisition.values())


def rate_cost_forecast(plan: Plan, spend: dict[str, float]) -> dict[str, dict[str, float]]:
    """Forecast monthly cost of the rate levers per segment: discount d × list-price spend
    (revenue given up), rewards r × revenue after discount. ``spend`` is each segment's expected
    monthly spend at list price on the current book (reference population size)."""
    out = {}
    for seg, lv in plan.allocations.items():
        s = spend.get(seg, 0.0)
        out[seg] = {"discount": lv.discount * s, "rewards": lv.rewards * (1 - lv.discount) * s}
    return out


# -- where more stops helping (the Plan page's lever guide) ---------------------------------
@dataclass(frozen=True)
class LeverGuide:
    """One lever as the model sees it: its unit, its reference cost and its sweet spot."""

    lever: str
    unit: str  # "money" per month, "headcount", or "rate" of revenue
    reference: float  # care/marketing per customer-month, per complaint, salary, or a rate
    sweet_spot: float  # in the same unit: per customer-month, per complaint, accounts, rate
    over_serving: float | None  # where fatigue begins (money levers), or where a rate hurts


def lever_guide(case: Case) -> dict[str, LeverGuide]:
    """Each lever's unit, reference cost and sweet spot, computed from the case's model."""
    c, mp = case.costs, case.model
    return {
        "care": LeverGuide(
            "care", "money", c.care, SWEET_SPOT_DOSE * c.care, mp.fatigue_dose * c.care
        ),
        "recovery": LeverGuide(
            "recovery",
            "money",
            c.recovery,
            SWEET_SPOT_DOSE * c.recovery * max(1.0, mp.recovery_fast_cost),
            None,
        ),
        "cross_sell": LeverGuide(
            "cross_sell",
            "money",
            c.cross_sell,
            SWEET_SPOT_DOSE * c.cross_sell,
            mp.fatigue_dose * c.cross_sell,
        ),
        # accounts per manager at which each covered account gets the 80% dose
        "kam": LeverGuide("kam", "headcount", c.kam_salary, c.kam_accounts / KAM_SWEET_DOSE, None),
        "rewards": LeverGuide(
            "rewards", "rate", c.rewards_ref, SWEET_SPOT_DOSE * c.rewards_ref, None
        ),
        "discount": LeverGuide("discount", "rate", 0.0, 0.0, mp.deep_discount),
    }


@dataclass(frozen=True)
class CellDose:
    """One cell of a plan (a lever in a segment) against its sweet spot."""

    dose: float  # in the guide's unit: per customer-month, per complaint, u for managers, rate
    sweet_spot: float
    state: str  # "none", "room" (more still helps a lot), "sweet", "past", "over", "fades"
    forecast: float = 0.0  # rewards and discounts: forecast monthly cost on the book
    covered: float = 0.0  # managers: accounts covered


def cell_dose(
    case: Case, lever: str, value: float, customers: float, complaints: float, spend: float
) -> CellDose:
    """Where a lever's setting in a segment sits against the model's sweet spot.

    ``customers`` and ``complaints`` (a month, from the book's history) and ``spend`` (the
    segment's forecast list-price spend) are at the case's reference size, like plan money.
    """
    guide = lever_guide(case)[lever]
    if value <= 0:
        return CellDose(0.0, guide.sweet_spot, "none")
    if lever in ("care", "cross_sell"):
        dose = value / max(customers, 1.0)
        over = guide.over_serving
    elif lever == "recovery":
        dose = value / max(complaints, 1.0)
        over = None
    elif lever == "kam":
        served = value * case.costs.kam_accounts
        covered = min(customers, served)
        u = served / covered if covered > 0 else 0.0
        state = "sweet" if u >= KAM_SWEET_DOSE else "room"
        return CellDose(u, KAM_SWEET_DOSE, state, covered=covered)
    elif lever == "rewards":
        cost = rate_cost_forecast(_one(lever, value), {"s": spend})["s"]["rewards"]
        return CellDose(value, guide.sweet_spot, _state(value, guide.sweet_spot, None), cost)
    else:  # discount: its gain fades as the reference price adapts; deep ones hurt
        cost = rate_cost_forecast(_one(lever, value), {"s": spend})["s"]["discount"]
        state = "over" if value > case.model.deep_discount else "fades"
        return CellDose(value, guide.over_serving or 0.0, state, cost)
    return CellDose(dose, guide.sweet_spot, _state(dose, guide.sweet_spot, over))


def _state(dose: float, sweet: float, over: float | None) -> str:
    if over is not None and dose > over:
        return "over"
    if dose < 0.8 * sweet:
        return "room"
    return "sweet" if dose <= 1.25 * sweet else "past"


def _one(lever: str, value: float) -> Plan:
    from crmsim.model.plan import Levers

    return Plan(allocations={"s": Levers(**{lever: value})})
