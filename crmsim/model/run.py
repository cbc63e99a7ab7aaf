"""The month loop (docs/model.md §3): a run plays a plan on a book month by month, then plays
the final plan on past the horizon to value the customers still there (§5).

Loop over months only; inside a month every step of ``crmsim.model.month`` works on whole
arrays of customer slots. Slot ``i`` sees the same random numbers under every plan (common
random numbers), so two plans on one seed differ by their effect, not by luck.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from crmsim import rng as rngs
from crmsim.model import acquisition as acq
from crmsim.model import month as step
from crmsim.model.case import Case
from crmsim.model.levers import CROSS_SELL, DISCOUNT, KAM, RECOVERY, REWARDS, segment_doses
from crmsim.model.outputs import (
    AFFECTION_BIN,
    SAMPLE_SIZE,
    Recorder,
    Sample,
    SimResult,
    sat_bin,
    versions,
)
from crmsim.model.plan import CHANNELS, LEVERS, Plan
from crmsim.model.state import (
    CHURNED,
    EXPLORE,
    F32,
    Population,
    State,
    Traits,
)
from crmsim.model.traits import MAX_TENURE, stage_spend, start_relationship


def _keep_freed_memory() -> None:
    """Let glibc keep freed arrays for reuse instead of returning them to the OS at once.

    Every month allocates short-lived arrays of a few hundred KB per quantity; by default glibc
    maps each one fresh and unmaps it when freed, so the next month faults its pages in again —
    measured at about half the CPU time of a 100k-customer run. A no-op where glibc's
    ``mallopt`` is not available (macOS, Windows, musl)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        m_trim_threshold, m_mmap_threshold = -1, -3
        libc.mallopt(m_mmap_threshold, 64 * 2**20)
        libc.mallopt(m_trim_threshold, 256 * 2**20)
    except (OSError, AttributeError, TypeError):  # pragma: no cover - not glibc
        pass


_keep_freed_memory()


@dataclass
class CompiledPlan:
    """A plan resolved against a population: segment index per customer and lever matrix."""

    name: str
    segments: list[str]
    seg: np.ndarray  # segment of each initial customer
    levers: np.ndarray  # (n_segments, 6) in LEVERS order, money scaled to the book
    acquisition: np.ndarray  # (5,) money per month by CHANNELS, scaled to the book
    new_segment: int
    value: np.ndarray  # observed value used to rank customers for key-account coverage


def compile_plan(
    plan: Plan,
    segments: list[str],
    labels: np.ndarray,
    value: np.ndarray,
    new_segment: str | None = None,
    scale: float = 1.0,
) -> CompiledPlan:
    """Resolve a plan against segment labels; segments without an allocation get nothing.

    Plan money is written for the case's reference population size; ``scale`` (actual size /
    reference size) keeps the effort per customer the same on a larger or smaller book.
    """
    lev = np.zeros((len(segments), len(LEVERS)))
    index = {s: i for i, s in enumerate(segments)}
    for seg, lv in plan.allocations.items():
        if seg in index:
            lev[index[seg]] = [getattr(lv, k) for k in LEVERS]
    lev[:, [0, RECOVERY, CROSS_SELL, KAM]] *= scale
    acquisition = np.array([plan.acquisition.get(ch, 0.0) for ch in CHANNELS]) * scale
    target = plan.new_customer_segment or new_segment or segments[-1]
    return CompiledPlan(
        plan.name,
        list(segments),
        np.asarray(labels, dtype=np.int16),
        lev,
        acquisition,
        index.get(target, len(segments) - 1),
        np.asarray(value, dtype=np.float64),
    )


def compile_for(pop: Population, case: Case, plan: Plan, segmentation) -> CompiledPlan:
    """``compile_plan`` for a population: its segments, observed value and size."""
    return compile_plan(
        plan,
        segmentation.names,
        segmentation.labels,
        pop.customers["monetary"].to_numpy(),
        segmentation.new_segment,
        scale=pop.n / case.population.customers,
    )


class Run:
    """One run's arrays, plan and records; ``month`` advances every slot by one month."""

    def __init__(
        self,
        case: Case,
        traits: Traits,
        state: State,
        plan: CompiledPlan,
        seg: np.ndarray,
        entry: np.ndarray,
        seed: int,
        months: int,
        *,
        history: bool = False,
        n_initial: int | None = None,
        man_u: np.ndarray | None = None,
        value: np.ndarray | None = None,
    ):
        self.case, self.mp, self.seed, self.months = case, case.model, seed, months
        self.traits, self.state = traits, state
        self.seg = seg.astype(np.intp)
        self.entry = entry
        self.history = history
        # a purchase log's cohort (PopulationSpec.first_purchase_months): see _cohort_purchases
        self.cohort = (
            history
            and case.kind == "noncontractual"
            and case.population.first_purchase_months is not None
        )
        self.n_initial = len(seg) if n_initial is None else n_initial
        self.next_slot = self.n_initial  # prospects fill slots from here, in order
        self.man_u = man_u
        self.N, self.S = len(seg), len(plan.segments)
        self.streams = rngs.MonthlyStreams(seed)
        self.phase = 1 if history else 0
        # uniforms per slot-month: failure, noise, churn, and a purchase draw in shops
        self.draws = rngs.N_MONTHLY if case.kind == "noncontractual" else rngs.U_CHURN + 1
        self.m_stage = stage_spend(case)
        self.stage_hazard = np.array([self.mp.h_explore, 0, 0, self.mp.h_decline, 0, 0], F32)
        self.log_tenure = (self.mp.h_tenure * np.log1p(np.arange(MAX_TENURE + 2))).astype(F32)
        self.value = np.zeros(self.N) if value is None else value
        self.stars = np.flatnonzero(traits.rising_star)
        self.plan = plan
        self.order: np.ndarray | None = None  # who a key-account manager serves first
        self.covered = np.zeros(self.N, bool)
        self.recorder = Recorder(self.S, months)
        self.recorder.cohorts[0, 0] = int((state.stage[: self.n_initial] < CHURNED).sum())
        self.lever_hist: list[np.ndarray] = []
        # spend since the rates last changed, booked into revenue and margin when they do
        self.spend = np.zeros(self.N)
        self.booked_revenue = np.zeros(self.N)
        self.booked_margin = np.zeros(self.N)  # after discounts and rewards
        self.churn_month = np.full(self.N, -1, np.int16)
        self.exit_sat = np.full(self.N, np.nan, F32)
        self.hazard = np.zeros(self.N, F32)
        self.problem = np.zeros(self.N, np.int8)  # outcome of each customer's first problem
        self.problem_month = np.zeros(self.N, np.int16)
        self.problem_major = np.zeros(self.N, bool)
        self.last_buy = np.full(self.N, -1, np.int16)
        self.buys = np.zeros(self.N, np.int16)
        self.start_stage = state.stage.copy()
        self.pools = acq.Pools.for_case(case, self.n_initial)
        self.affection = 0.0
        # each segment's share of complaints resolved lately (starts at the odds with no money)
        self.reputation = np.full(self.S, self.mp.recovery_floor)
        self.sample: Sample | None = None
        # a price term once a discount was ever given (reference prices adapt slowly back)
        self.price_live = bool((state.pref != 1).any())
        self.lockin_live = bool((state.C != 0).any())
        self.rates: tuple[np.ndarray, np.ndarray] | None = None
        self.set_plan(plan)

    def set_plan(self, plan: CompiledPlan) -> None:
        """Serve with ``plan`` from the next month on (a new round of a classroom game); spend
        so far is booked at the old rates."""
        if not np.array_equal(plan.seg, self.plan.seg):
            raise ValueError("a new round must keep the segmentation")
        self._book()
        self.plan = plan
        lev = plan.levers
        d, rw, g = lev[:, DISCOUNT], lev[:, REWARDS], self.case.population.margin_rate
        # per segment: revenue per unit of spend, 1 − d, and margin after rewards, g − d − r(1 − d)
        self.rates = (1 - d, g - d - rw * (1 - d))
        self.price_live |= bool((d > 0).any())
        self.lockin_live |= bool((rw > 0).any())
        self.used = (lev > 0).any(axis=0)  # which levers the plan uses at all
        # money per segment per month: care, complaint handling, marketing, manager salaries
        self.money = (
            lev[:, 0]
            + lev[:, RECOVERY]
            + lev[:, CROSS_SELL]
            + lev[:, KAM] * self.case.costs.kam_salary
        )
        if self.order is None and (lev[:, KAM] > 0).any():
            self.order = np.lexsort((-self.value, self.seg)).astype(np.int64)

    def _book(self) -> None:
        if self.rates is not None:
            self.booked_revenue += self.spend * self.rates[0][self.seg]
            self.booked_margin += self.spend * self.rates[1][self.seg]
            self.spend[:] = 0

    def revenue_margin(self, idx) -> tuple[np.ndarray, np.ndarray]:
        """Revenue and margin of slots ``idx`` so far (all plans of the run)."""
        s = self.seg[idx]
        revenue = self.booked_revenue[idx] + self.spend[idx] * self.rates[0][s]
        return revenue, self.booked_margin[idx] + self.spend[idx] * self.rates[1][s]

    def choose_sample(self, size: int) -> None:
        """Follow a fixed random sample of the starting book month by month."""
        k = min(size, self.n_initial)
        if k:
            slots = np.sort(rngs.stream(self.seed, rngs.SAMPLE).choice(self.n_initial, k, False))
            self.sample = Sample(slots, self.N, self.months)

    # -- relationships start ------------------------------------------------------------
    def _price(self, idx) -> np.ndarray:
        return (1 - self.plan.levers[self.seg[idx], DISCOUNT]).astype(F32)

    def _arrivals(self, t: int) -> np.ndarray:
        """New relationships this month: the history's late joiners, or the customers this
        month's acquisition money wins (acquisition.Pools) into the next prospect slots."""
        got = np.zeros(len(CHANNELS))
        if self.history:  # a customer who joins in the window joins with a purchase
            self.joining = np.flatnonzero(self.entry == t)
            start_relationship(self.state, self.traits, self.joining, self._price(self.joining))
            return got
        if not self.plan.acquisition.any():
            return got
        won = self.pools.month(self.plan.acquisition, self.mp.referral_rate * self.affection)
        room = self.N - self.next_slot
        if sum(won) > room:  # capacity is sized from money and pools; this is only a guard
            won = [math.floor(k * room / sum(won)) for k in won]
        total = sum(won)
        if total:
            sl = slice(self.next_slot, self.next_slot + total)
            man = np.repeat(self.pools.man, won).astype(F32)
            u = self.man_u[sl.start - self.n_initial : sl.stop - self.n_initial]
            acq.apply_man(self.traits, sl, man, u)
            start_relationship(self.state, self.traits, sl, self._price(sl))
            self.entry[sl] = t
            self.next_slot += total
        return np.array(won, np.float64)

    def _coverage(self, active: np.ndarray, capacity: np.ndarray) -> np.ndarray:
        """Key-account coverage: the highest-valued active customers of each segment first."""
        order = self.order
        act_sorted = np.zeros(self.N, bool)
        act_sorted[: len(active)] = active
        act_sorted = act_sorted[order]
        seg_sorted = self.seg[order]
        cs = np.cumsum(act_sorted)
        starts = np.searchsorted(seg_sorted, np.arange(self.S))
        before = np.where(starts > 0, cs[np.maximum(starts - 1, 0)], 0)
        rank = cs - before[seg_sorted]
        self.covered[order] = act_sorted & (rank <= capacity[seg_sorted])
        return self.covered[: len(active)]

    def _responses(self, st, tr, seg, active, doses) -> step.Responses:
        """Each customer's response to the levers of her segment this month: r = β·(dose
        response), key-account response only for covered accounts, marketing only for
        customers loyal enough to listen (L > 0.3). None for a lever nobody uses."""
        beta, used = tr.beta, self.used
        kam = None
        if used[KAM]:
            covered = self._coverage(active, doses.kam_capacity)
            kam = beta[KAM] * doses.kam[seg] * covered
        cross = None
        if used[CROSS_SELL]:
            cross = beta[CROSS_SELL] * (doses.cross_sell[seg] * (st.L > F32(0.3)))
        return step.Responses(
            care=beta[0] * doses.care[seg] if used[0] else None,
            cross_sell=cross,
            kam=kam,
            rewards=beta[REWARDS] * doses.rewards[seg] if used[REWARDS] else None,
            discount=doses.discount[seg] if self.price_live else None,
            fatigue=doses.fatigue[seg] if (doses.fatigue > 0).any() else None,
        )

    # -- the month ----------------------------------------------------------------------
    def month(self, t: int) -> float:
        """Advance every slot by one month: the month's events (step 11) set its parameters,
        new relationships start, then steps 1–10 of docs/model.md §3 in order. Returns the
        month's profit."""
        mp, case, lev = self.mp, self.case, self.plan.levers
        mods = step.event_modifiers(case, None if self.history else t)
        acquired = self._arrivals(t)
        used = self.next_slot
        sl = slice(0, used)
        st, tr, seg = self.state.take(sl), self.traits.take(sl), self.seg[:used]
        start = st.stage.copy()
        active = start < CHURNED
        n_seg = np.bincount(seg[active], minlength=self.S).astype(np.float64)
        doses = segment_doses(lev, n_seg, case.costs, mp, mods["kam_capacity"])
        r = self._responses(st, tr, seg, active, doses)
        u = self.streams.uniforms(self.phase, t, used, self.draws)
        fails = step.failures(u[rngs.U_FAIL], active, r.care, mods["p_fail"], mp)  # 1
        v = step.delivered_value(st, tr, r, fails, u[rngs.U_NOISE], mods, mp)  # 2
        comp = step.complaints(st, tr, seg, fails, lev[:, RECOVERY], self.reputation, case)  # 3
        step.complaint_reputation(self.reputation, comp, mp)
        d = step.satisfaction(st, v, fails, comp, mp)  # 4
        step.expectations(st, d, mp)  # 5
        step.loyalty(st, r.rewards, mp, self.lockin_live)  # 6
        step.grievance(st, fails, comp, mp)  # 7
        h, left, terms, bought, q_buy = self._churn(st, tr, r, u, start, active, mods)  # 8
        first = None
        if self.cohort:
            bought, q_buy, first = self._cohort_purchases(
                t, used, st, tr, r, u, start, active, mods, bought
            )
        expected = step.spending(st, tr, r, self.m_stage, mods, mp)  # 9
        if q_buy is not None:  # a shop: the month's spend comes with its purchases
            spend = np.where(bought, expected / np.maximum(q_buy, F32(1e-6)), F32(0))
        else:
            spend = expected * active
        if first is not None and first.any():  # a log's first purchases: their own size
            spend = np.where(first, spend * self.case.population.first_spend_ratio, spend)
        st.bought |= bought
        new = step.stages(st, active, left, expected, mp)  # 10
        self._end_of_month(st, tr, start, new, active, expected)
        if t <= self.months:  # past the horizon only the valuation's sums are kept (§5)
            self._keep_month(t, sl, spend, h, left, st.S, fails, comp)
        if self.history:
            self.last_buy[sl][bought] = t
            self.buys[sl] += bought
            return 0.0
        levers_cost = np.where(n_seg > 0, self.money, 0.0)
        acq_cost = float(self.plan.acquisition.sum())
        spend_seg = np.bincount(seg, spend, minlength=self.S)
        profit = float(spend_seg @ self.rates[1] - levers_cost.sum() - acq_cost)
        if t > self.months:
            self._valuation_month(t, sl, spend, h, new, seg, n_seg, levers_cost)
            self.affection = float(((new < CHURNED) & (sat_bin(st.S) >= AFFECTION_BIN)).sum())
            return profit
        outcomes = np.bincount(seg[fails.idx] * 5 + comp.outcome, minlength=self.S * 5)
        self.affection = self.recorder.month(
            t,
            seg,
            start,
            new,
            st.S,
            st.L,
            spend,
            outcomes.reshape(self.S, 5),
            active_start=n_seg,
            levers_cost=levers_cost,
            acquisition_cost=acq_cost,
            acquired=acquired,
        )
        self.lever_hist.append(lev)
        self._record_cohorts(t)
        if self.sample is not None:
            self._sample_month(t, active, fails, comp, terms, left)
        return profit

    def _cohort_purchases(self, t, used, st, tr, r, u, start, active, mods, bought) -> tuple:
        """The history of a purchase log's customers, as the log has it (BG/NBD): the month
        she joins is her first purchase; after a repeat purchase she drops out with the
        hazard h of a shop's run (step 8) and buys no more — a silent lapsed customer, as a
        shop sees one, who stays on the books; spend comes with purchases, as in a shop's run."""
        first = active & (self.entry[:used] == t)
        m = self.m_stage[start].astype(np.float64)
        q = -np.expm1(-tr.purchase_rate.astype(np.float64) * m)  # exact for tiny rates
        terms = step.hazard_terms(
            st, tr, r, mods, self.stage_hazard, self.log_tenure, self.mp, self.lockin_live
        )
        repeat = bought & ~first
        # the purchase took the month's purchase draw; dropout takes the churn draw
        h, _ = step.churn(terms, u[rngs.U_CHURN], active, repeat)
        gone = np.flatnonzero(repeat & (u[rngs.U_CHURN] < h))
        self.traits.purchase_rate[gone] = 0.0  # from next month on
        return bought | first, q, first

    def _q_buy(self, rate: np.ndarray, stage: np.ndarray) -> np.ndarray:
        """P(at least one purchase this month) = 1 − e^(−λ·m_stage)."""
        return 1 - np.exp(-rate * self.m_stage[stage])

    def _churn(self, st, tr, r, u, start, active, mods) -> tuple:
        """Step 8 with the month's purchases: hazard, who leaves, the hazard's terms, who
        bought and (in a shop) the purchase odds. In a contract (telecom, bank) the churn
        uniform's residue among those who stay decides 考察期 purchases; in a shop a purchase
        draw of its own does, and dropout can only follow a purchase. A history run has no
        churn (its customers are survivors)."""
        mp, uc = self.mp, u[rngs.U_CHURN]
        shop = self.case.kind == "noncontractual"
        if self.history:
            q_buy = self._q_buy(tr.purchase_rate, start)
            bought = active & ((u[rngs.U_BUY] if shop else uc) < q_buy)
            bought[self.joining] = True
            return (
                np.zeros(len(start), F32),
                np.zeros(0, np.intp),
                None,
                bought,
                q_buy if shop else None,
            )
        terms = step.hazard_terms(
            st, tr, r, mods, self.stage_hazard, self.log_tenure, mp, self.lockin_live
        )
        if shop:
            q_buy = self._q_buy(tr.purchase_rate, start)
            bought = active & (u[rngs.U_BUY] < q_buy)
            h, churned = step.churn(terms, uc, active, bought)
            return h, np.flatnonzero(churned), terms, bought, q_buy
        h, churned = step.churn(terms, uc, active, None)
        new = np.flatnonzero((start == EXPLORE) & active & ~churned)  # only they need a purchase
        q = self._q_buy(tr.purchase_rate[new], start[new])
        bought = np.zeros(len(start), bool)
        bought[new] = uc[new] - h[new] < q * (1 - h[new])
        return h, np.flatnonzero(churned), terms, bought, None

    def _end_of_month(self, st, tr, start, new, active, expected) -> None:
        """Book the month: spend mean (≈ 6 months), tenure and dwell, stage changes, and the
        hidden wallet growth of rising stars while they are customers."""
        st.spend_mean += F32(2 / 7) * (expected - st.spend_mean)
        st.tenure += active
        st.dwell += active
        changed = np.flatnonzero(new != start)
        st.dwell[changed] = 0
        st.bought[changed] = False
        st.stage[:] = new
        stars = self.stars[self.stars < len(new)]
        stars = stars[new[stars] < CHURNED]
        tr.wallet[stars] *= tr.growth[stars]

    def _keep_month(self, t, sl, spend, h, left, S, fails, comp) -> None:
        """What the horizon snapshot reports: spend so far, the hazard, who left when and how
        satisfied, and each customer's first problem."""
        self.spend[sl] += spend
        self.hazard[sl] = h
        if left.size:
            self.churn_month[left] = t
            self.exit_sat[left] = S[left]
        self._first_problems(fails, comp, t)

    def _first_problems(self, fails: step.Failures, comp: step.Complaints, t: int) -> None:
        """Remember each customer's first problem of the run and its outcome (TARP's stay
        rates are measured on them)."""
        first = self.problem[fails.idx] == 0
        i = fails.idx[first]
        self.problem[i] = comp.outcome[first]
        self.problem_month[i] = t
        self.problem_major[i] = fails.major[first]

    def _record_cohorts(self, t: int) -> None:
        stage = self.state.stage
        start_alive = int((stage[: self.n_initial] < CHURNED).sum())
        self.recorder.cohorts[0, t] = start_alive
        if self.next_slot > self.n_initial:
            late = slice(self.n_initial, self.next_slot)
            alive = stage[late] < CHURNED
            self.recorder.cohorts[1:, t] = np.bincount(
                self.entry[late][alive].astype(np.intp), minlength=self.months + 1
            )[1 : self.months + 1]

    def _sample_month(self, t, active, fails, comp, terms, left) -> None:
        """The sample's month, with the average customer's hazard terms."""
        act = active.astype(F32)
        n_act = max(float(act.sum()), 1.0)
        mean = [float(v) if np.ndim(v) == 0 else float(v @ act) / n_act for v in terms.values()]
        revenue = self.revenue_margin(self.sample.slots)[0]
        self.sample.month(
            t, self.state, self.churn_month, revenue, fails.idx, comp.outcome, terms, mean, left
        )

    # -- valuing the customers still there --------------------------------------------------
    def value_customers(self) -> dict:
        """Play the final plan on for ``valuation_months`` past the horizon, acquisition
        included, and average each survivor's margin (net of her share of the service money)
        and hazard over the last ``valuation_smoothing`` of them (docs/model.md §5)."""
        mp = self.mp
        K = mp.valuation_months
        self.val_k = min(mp.valuation_smoothing, K)
        self.val_from = self.months + K - self.val_k + 1
        self.val_margin = np.zeros(self.N)
        self.val_hazard = np.zeros(self.N)
        profit = [self.month(t) for t in range(self.months + 1, self.months + K + 1)]
        return {"profit": profit, "months": K}

    def horizon_snapshot(self) -> dict[str, np.ndarray]:
        """Each slot at the end of the horizon, before the valuation months run on."""
        used = self.next_slot
        st = self.state
        churned = self.churn_month[:used] > 0
        revenue, margin = self.revenue_margin(slice(0, used))
        return {
            "end_stage": np.where(churned, CHURNED, np.minimum(st.stage[:used], CHURNED)),
            "churn_month": self.churn_month[:used].copy(),
            "revenue": revenue,
            "margin": margin,
            "hazard": np.where(churned, np.nan, self.hazard[:used]),
            "satisfaction": np.where(churned, self.exit_sat[:used], st.S[:used]),
            "complaints": st.complaints[:used].copy(),
            "problem": self.problem[:used].copy(),
            "problem_month": self.problem_month[:used].copy(),
            "problem_major": self.problem_major[:used].copy(),
        }

    def _valuation_month(self, t, sl, spend, h, new, seg, n_seg, levers_cost) -> None:
        if t < self.val_from:
            return
        per_customer = levers_cost / np.maximum(n_seg, 1.0)
        alive = new < CHURNED
        net = (spend * self.rates[1][seg] - per_customer[seg]) * alive
        self.val_margin[sl] += net / self.val_k
        self.val_hazard[sl] += np.where(alive, h, 1.0) / self.val_k


# -- public API ------------------------------------------------------------------------------
def simulate(
    pop: Population,
    case: Case,
    plan: Plan,
    months: int | None = None,
    seed: int | None = None,
    segmentation=None,
    sample_size: int = SAMPLE_SIZE,
    progress: Callable[[int, int], None] | None = None,
) -> SimResult:
    """Run ``plan`` on ``pop`` for ``months`` under ``case``; the same seed gives the same luck.

    ``segmentation`` (a ``segmentation.Segmentation``) is computed from the plan's method when
    not given. The population is not modified.
    """
    months = case.months if months is None else int(months)
    return simulate_rounds(pop, case, [plan], months, seed, segmentation, sample_size, progress)


def simulate_rounds(
    pop: Population,
    case: Case,
    plans: list[Plan],
    round_months: int,
    seed: int | None = None,
    segmentation=None,
    sample_size: int = SAMPLE_SIZE,
    progress: Callable[[int, int], None] | None = None,
) -> SimResult:
    """Play ``plans`` one after another, ``round_months`` each, on one run: every round starts
    from the customers as the previous round left them (a classroom game). All plans must use
    the same segmentation. With one plan this is ``simulate``; a schedule of equal plans gives
    exactly the same result as the single plan over all the months (a test)."""
    from crmsim.segmentation import segment_for_case

    if not plans:
        raise ValueError("no plan to play")
    first = plans[0]
    spec = (first.segmentation.method, first.segmentation.params or {})
    if any((p.segmentation.method, p.segmentation.params or {}) != spec for p in plans[1:]):
        raise ValueError("every round must use the same segmentation")
    seed = pop.seed if seed is None else int(seed)
    months = round_months * len(plans)
    if segmentation is None:
        segmentation = segment_for_case(pop.customers, spec[0], spec[1], case, seed)
    cps = [compile_for(pop, case, p, segmentation) for p in plans]
    cp = cps[0]
    n0 = pop.n
    # Only these traits change during a run (wallet growth, MAN adjustments); the rest are
    # shared read-only with the population.
    traits = Traits(
        **{
            k: v.copy() if k in ("wallet", "logit_theta") else v
            for k, v in pop.traits.arrays().items()
        }
    )
    state = pop.state.copy()
    seg, entry, value, man_u = cp.seg, np.zeros(n0, np.int16), cp.value, None
    most = np.max(np.stack([c.acquisition for c in cps]), axis=0)
    cap = acq.capacity(case, most, months + case.model.valuation_months, n0)
    if cap:
        p_traits, p_state, man_u = acq.prospect_slots(case, seed, cap)
        traits = traits.concat(p_traits)
        state = state.concat(p_state)
        seg = np.concatenate([seg, np.full(cap, cp.new_segment, np.int16)])
        entry = np.concatenate([entry, np.full(cap, months + 1, np.int16)])
        value = np.concatenate([value, np.zeros(cap)])
    run = Run(
        case, traits, state, cp, seg, entry, seed, months, n_initial=n0, man_u=man_u, value=value
    )
    run.choose_sample(sample_size)
    for t in range(1, months + 1):
        if t > 1 and (t - 1) % round_months == 0:
            run.set_plan(cps[(t - 1) // round_months])
        run.month(t)
        if progress is not None:
            progress(t, months)
    end = run.horizon_snapshot()
    valuation = run.value_customers()
    return _result(run, case, pop, plans[-1], seed, months, segmentation, end, valuation)


def _result(
    run: Run, case: Case, pop, plan: Plan, seed, months, segmentation, end, valuation
) -> SimResult:
    monthly, by_seg, by_stage = run.recorder.frames(
        run.plan.segments, run.lever_hist, case.population.margin_rate
    )
    used = len(end["end_stage"])
    customers = pd.DataFrame(
        {
            "slot": np.arange(used),
            "segment": run.seg[:used].astype(np.int16),
            "entry_month": run.entry[:used],
            "start_stage": run.start_stage[:used],
            **end,
            # the customers still there after the valuation months, as docs/model.md §5 values them
            "equity_margin": run.val_margin[:used],
            "equity_hazard": run.val_hazard[:used],
            "equity_alive": run.state.stage[:used] < CHURNED,
        },
        copy=False,
    )
    sample = dict(run.sample.data) if run.sample is not None else {}
    sample["slots"] = run.sample.slots if run.sample is not None else np.zeros(0, np.int64)
    meta = {
        "seed": seed,
        "case_id": case.id,
        "case_version": case.version,
        "plan": plan.name,
        "months": months,
        "customers": pop.n,
        "versions": versions(),
        "segmentation": segmentation.method,
        "currency": case.currency,
        "scale": pop.n / case.population.customers,
        "events": [
            {
                "month": e.month,
                "kind": e.kind,
                "param": e.param,
                "title_zh": e.title.zh,
                "title_en": e.title.en,
            }
            for e in case.events
            if e.month <= months
        ],
    }
    rec = run.recorder
    return SimResult(
        case.id,
        plan.name,
        seed,
        months,
        list(run.plan.segments),
        monthly,
        by_seg,
        by_stage,
        rec.transitions,
        rec.sat_hist,
        rec.sat_risk,
        rec.sat_churn,
        rec.cohorts,
        customers,
        sample,
        valuation,
        meta,
    )
