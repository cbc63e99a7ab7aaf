"""The vectorised month-by-month lifecycle engine (DESIGN §3.3, §3.4, §4).

Loop over months only; inside a month, numpy over customer slots in fixed blocks of
``rng.BLOCK`` slots. A block is the unit of random draws (slot ``i`` sees the same luck under
every plan: common random numbers) and of work: partial sums of each block are added in block
order.
(Running blocks on two threads was measured slower: gathers, bincounts and boolean indexing
hold the GIL.)

Each month has two phases because complaint handling couples customers: phase A finds
failures and complaints; then the recovery budget per complaint is known per segment; phase B
updates value, satisfaction, loyalty, grievance, spending, churn and stages. Failures and
complaints are rare, so they are handled on index lists rather than dense masks.

Outputs are aggregates (per month, per segment, per stage, transitions, satisfaction
histograms, cohort survival) plus per-customer end vectors and a fixed sample of ≤ 2,000
trajectories; never a customers × months panel.
"""

from __future__ import annotations

import importlib.metadata
import math
import platform
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache, lru_cache

import numpy as np
import pandas as pd

from crmsim import rng as rngs
from crmsim.cases import Case
from crmsim.plans import CHANNELS, LEVERS, Plan

F32 = np.float32
EXPLORE, FORM, STABLE, DECLINE, CHURNED, INACTIVE = 0, 1, 2, 3, 4, 5
N_STAGES = 5  # exploration, formation, stability, decline, churned
STAGE_NAMES = ("exploration", "formation", "stability", "decline", "churned")
L_CARE, L_REC, L_X, L_KAM, L_RW, L_DISC = range(len(LEVERS))
HAZARD_TERMS = (
    "frailty",
    "loyalty",
    "satisfaction",
    "grievance",
    "lock_in",
    "key_account",
    "stage",
    "tenure",
    "discount",
    "events",
)
SAMPLE_SIZE = 2000
PROSPECT_BLOCK = 4096
PROSPECT_CACHE = 128  # blocks (≈ 0.3 MB each): a 1M-customer run's prospects fit
SAT_BINS = 20
AFFECTION_BIN, DEFECTION_BIN = 17, 10  # 0.85 and 0.5 on the satisfaction histogram
NEW_SATISFACTION, NEW_LOYALTY = 0.70, 0.30  # a new relationship: neutral, not yet loyal
MAN_WALLET, MAN_LOGIT = 0.35, 1.0  # prospects failing MAN: smaller wallets, frailer
OUTCOME_NONE, OUTCOME_RESOLVED, OUTCOME_UNRESOLVED, OUTCOME_SILENT = 0, 1, 2, 3
MAX_TENURE = 4095
REFERRAL = CHANNELS.index("referral")
MUTABLE_TRAITS = ("wallet", "logit_theta")


@dataclass
class CompiledPlan:
    """A plan resolved against a population: segment index per customer and lever matrix."""

    name: str
    segments: list[str]
    seg: np.ndarray  # int16 segment of each initial customer
    levers: np.ndarray  # (n_segments, 6) in LEVERS order
    acquisition: np.ndarray  # (5,) money per month by CHANNELS
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
    lev[:, [L_CARE, L_REC, L_X, L_KAM]] *= scale
    acq = np.array([plan.acquisition.get(ch, 0.0) for ch in CHANNELS]) * scale
    target = plan.new_customer_segment or new_segment or segments[-1]
    return CompiledPlan(
        plan.name,
        list(segments),
        np.asarray(labels, dtype=np.int16),
        lev,
        acq,
        index.get(target, len(segments) - 1),
        np.asarray(value, dtype=np.float64),
    )


def compile_for(pop, case: Case, plan: Plan, segmentation) -> CompiledPlan:
    """``compile_plan`` for a population: its segments, observed value and size."""
    return compile_plan(
        plan,
        segmentation.names,
        segmentation.labels,
        pop.customers["monetary"].to_numpy(),
        segmentation.new_segment,
        scale=pop.n / case.population.customers,
    )


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
    cohorts: np.ndarray  # (months + 1 entry cohorts, months + 1) active counts
    customers: pd.DataFrame  # per customer end vectors (segment, entry, churn month, margins)
    sample: dict[str, np.ndarray]
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


def event_modifiers(case: Case, month: int | None) -> dict[str, float]:
    """Parameter changes in force in ``month`` from the case's dated events (None: no events)."""
    mods = {
        "hazard_shift": 0.0,
        "key_hazard_shift": 0.0,
        "p_fail": case.model.p_fail,
        "quality_shift": 0.0,
        "value_shift": 0.0,
        "wallet_mult": 1.0,
        "kam_capacity": 1.0,
    }
    for ev in case.events if month is not None else ():
        if ev.active(month):
            old = mods[ev.param]
            mods[ev.param] = old + ev.value if ev.op == "add" else old * ev.value
    mods["p_fail"] = min(max(mods["p_fail"], 0.0), 1.0)
    mods["wallet_mult"] = max(mods["wallet_mult"], 0.0)
    mods["kam_capacity"] = max(mods["kam_capacity"], 0.0)
    return mods


def buy_probability(rate: np.ndarray, stage: np.ndarray, stage_spend: np.ndarray) -> np.ndarray:
    """P(at least one purchase this month) = 1 − e^(−λ·m_stage); 0 when not active."""
    return (1 - np.exp(-rate * stage_spend[stage])).astype(F32)


def initial_state(
    hidden: dict[str, np.ndarray],
    tenure: np.ndarray,
    case: Case,
    gen: np.random.Generator,
    entry: np.ndarray,
) -> dict[str, np.ndarray]:
    """Dynamic state at the start of the status-quo history (``entry > 0``: not yet a customer)."""
    mp = case.model
    n = len(tenure)
    sat = np.clip(gen.normal(0.70, 0.08, n), 0, 1).astype(F32)
    loy = (1 / (1 + np.exp(-mp.loyalty_slope * (sat - mp.loyalty_mid)))).astype(F32)
    stage = np.full(n, FORM, dtype=np.int8)
    stage[(loy > mp.stable_loyalty) & (sat > mp.stable_sat)] = STABLE
    stage[sat < mp.decline_sat] = DECLINE
    stage[tenure < mp.explore_months] = EXPLORE
    stage[entry > 0] = INACTIVE
    stage_spend = _stage_spend(case)
    spend = hidden["wallet"] * hidden["sow0"] * stage_spend[stage]
    return {
        "S": sat,
        "L": loy,
        "E": hidden["expectation0"].copy(),
        "C": np.zeros(n, F32),
        "G": np.zeros(n, F32),
        "pref": np.ones(n, F32),
        "sow": hidden["sow0"].copy(),
        "spend_mean": spend.astype(F32),
        "tenure": np.clip(tenure, 0, MAX_TENURE).astype(np.int16),
        "stage": stage,
        "dwell": np.full(n, 2, np.int16),
        "complaints": np.zeros(n, np.int16),
        "bought": np.zeros(n, bool),
        "q_buy": buy_probability(hidden["purchase_rate"], stage, stage_spend),
        "m_stage": stage_spend[stage],
        "h_stage": _stage_hazard(case)[stage],
    }


def _stage_spend(case: Case) -> np.ndarray:
    return np.array([*case.model.stage_spend, 0.0, 0.0], F32)


def _stage_hazard(case: Case) -> np.ndarray:
    mp = case.model
    return np.array([mp.h_explore, 0, 0, mp.h_decline, 0, 0], F32)


@dataclass
class _SegMonth:
    """Per-segment quantities of one month, gathered per customer by segment index."""

    n: np.ndarray  # active customers at the start of the month
    g_care: np.ndarray  # 1 − e^(−dose) per lever (before the customer's own β)
    g_x: np.ndarray
    hill: np.ndarray  # key-account dose response u²/(1+u²)
    q0: np.float32  # quality constant: base + events − the noise offset
    fatigue: np.ndarray  # over-dosing penalty per segment
    any_fatigue: bool
    any_x: bool
    any_kam: bool
    b_rel: np.ndarray | None = None  # recovery money per complaint / b0
    fast: np.ndarray | None = None


@dataclass
class _Failures:
    """Phase A's findings for one block: failing slots (local index) and what followed."""

    idx: np.ndarray
    major: np.ndarray
    complain: np.ndarray
    u_resolve: np.ndarray  # conditional uniform of complainers


class _Run:
    """One run's arrays and accumulators; ``step`` advances one month."""

    def __init__(
        self,
        case: Case,
        hidden: dict[str, np.ndarray],
        state: dict[str, np.ndarray],
        cp: CompiledPlan,
        seg: np.ndarray,
        seed: int,
        months: int,
        phase: int,
        history: bool,
        entry: np.ndarray,
        order: np.ndarray,
        n_initial: int,
        man_u: np.ndarray | None,
    ):
        mp = case.model
        self.case, self.mp, self.cp = case, mp, cp
        self.h, self.st = hidden, state
        self.seg = seg.astype(np.intp)
        self.seg8 = seg.astype(np.int8)  # np.take with a narrow index is the fastest gather
        # (segment, stage) aggregation columns and their (start, end, satisfaction bin) cells,
        # in the narrowest integer type that holds them: mixed-type arithmetic is slow.
        n_cols = len(cp.segments) * 6
        key_type = np.int8 if n_cols <= 127 else np.int16
        self.cell_type = np.int16 if n_cols * 6 * (SAT_BINS + 1) <= 32767 else np.int32
        self.seg6 = (seg * 6).astype(key_type)  # + stage (0–5): the aggregation column
        self.seed, self.months, self.phase, self.history = seed, months, phase, history
        self.entry, self.order, self.n0, self.man_u = entry, order, n_initial, man_u
        self.next_slot = n_initial
        self.streams = rngs.MonthlyStreams(seed)
        self.draws = rngs.N_MONTHLY if case.kind == "noncontractual" else rngs.U_CHURN + 1
        self.N = len(seg)
        self.S = len(cp.segments)
        n = self.N
        self.stage_spend = _stage_spend(case)
        self.stage_hazard = _stage_hazard(case)
        # Complaint outcome effects by code (resolved 1, unresolved 2, silent 3), and grievance
        # by code × 2 + major.
        self.outcome_mult = np.array([1, 1, mp.unresolved_mult, mp.silent_mult], F32)
        g_out = (0.0, mp.grievance_resolved, mp.grievance_unresolved, mp.grievance_silent)
        self.outcome_grievance = np.array(
            [F32(sev) * F32(g) for g in g_out for sev in (mp.minor_severity, 1.0)], F32
        )
        self.log_tenure = (mp.h_tenure * np.log1p(np.arange(MAX_TENURE + 2))).astype(F32)
        # Static parts of linear terms, folded once per run.
        hidden["sow_base"] = hidden["sow0"] - F32(0.5 * mp.sow_loyalty)
        hidden["logit_base"] = hidden["logit_theta"] + F32(0.5 * mp.h_loyalty + 0.6 * mp.h_sat)
        self.stars = np.flatnonzero(hidden["growth"] != 1)
        self.r_care = np.zeros(n, F32)
        width = min(n, rngs.BLOCK)
        self.zeros, self.ones = np.zeros(width, F32), np.ones(width, F32)
        self.sow_floor = np.full(width, 0.02, F32)
        self.covered = np.zeros(n, bool)
        self.spend = np.zeros(n, F32)
        self.month_spend = np.zeros(n, F32)
        # Revenue and margin booked under earlier plans of a multi-round run (None: one plan).
        self.booked: tuple[np.ndarray, np.ndarray] | None = None
        self.lev_hist: list[np.ndarray] = []  # the levers in force each month
        self._set_rates(cp)
        self.churn_month = np.full(n, -1, np.int16)
        self.exit_sat = np.full(n, np.nan, F32)
        self.hazard = np.zeros(n, F32)
        self.last_buy = np.full(n, -1, np.int16) if history else None
        self.buys = np.zeros(n, np.int16) if history else None
        self.start_stage = state["stage"].copy()
        active = state["stage"] < CHURNED
        self.n_seg = np.bincount(self.seg[active], minlength=self.S).astype(np.float64)
        self.price_live = bool((state["pref"] != 1).any() or (cp.levers[:, L_DISC] > 0).any())
        self.c_live = bool((state["C"] != 0).any() or (cp.levers[:, L_RW] > 0).any())
        self.per_month_acq = self._acquisition_rates(cp)
        self.log: list[tuple] = []
        self.transitions = np.zeros((months, N_STAGES, N_STAGES), np.int64)
        self.sat_hist = np.zeros((months, SAT_BINS), np.int64)
        self.cohorts = np.zeros((months + 1, months + 1), np.int64)
        self.cohorts[0, 0] = int((state["stage"][:n_initial] < CHURNED).sum())
        self.acq_carry = [0.0] * len(CHANNELS)
        if not history and self.N > n_initial:  # prospects start fresh whenever they come
            self.fresh_state(slice(n_initial, self.N))
        self.mods = [event_modifiers(case, None if history else t) for t in range(months + 1)]
        self.prev_affection = 0.0
        self.sample_idx = np.zeros(0, np.int64)
        self.sample: dict[str, np.ndarray] = {}

    def _set_rates(self, cp: CompiledPlan) -> None:
        """Rates fixed while a plan is in force, per customer: discount, its hazard term,
        reward response, and the factors that turn spend into revenue and into margin."""
        mp, case, segi = self.mp, self.case, self.seg
        lev = cp.levers
        disc = lev[:, L_DISC]
        h_disc = -mp.h_discount * np.minimum(disc, mp.deep_discount) + mp.h_deep_discount * (
            disc > mp.deep_discount
        )
        self.d_i = disc[segi].astype(F32)
        self.h_disc_i = h_disc[segi].astype(F32)
        g_rw = 1 - np.exp(-lev[:, L_RW] / case.costs.rewards_ref)
        self.r_rw_i = (
            (self.h["beta"][L_RW] * g_rw[segi]).astype(F32) if (lev[:, L_RW] > 0).any() else None
        )
        rw = lev[:, L_RW]
        self.any_x = bool((lev[:, L_X] > 0).any())
        self.revenue_factor = (1 - disc).astype(F32)[segi]
        self.margin_factor = (case.population.margin_rate - disc - rw * (1 - disc)).astype(F32)[
            segi
        ]

    def _acquisition_rates(self, cp: CompiledPlan) -> list[float]:
        """New customers a month's money buys per channel, before the referral multiplier."""
        acq = self.case.acquisition
        return [
            float(cp.acquisition[i] / acq[ch].cost) if ch in acq else 0.0
            for i, ch in enumerate(CHANNELS)
        ]

    def switch_plan(self, cp: CompiledPlan) -> None:
        """Serve with another plan of the same segmentation from the next month on (a new
        round of a classroom game): what was earned so far is booked at the old rates, then
        the rates change. Customers keep their state: the new round continues the old one."""
        if not np.array_equal(cp.seg, self.cp.seg):
            raise ValueError("a new round must keep the segmentation")
        if np.array_equal(cp.levers, self.cp.levers) and np.array_equal(
            cp.acquisition, self.cp.acquisition
        ):
            return  # the same plan again: nothing to book or recompute
        if self.booked is None:
            self.booked = (np.zeros(self.N), np.zeros(self.N))
        self.booked[0][:] += self.spend * self.revenue_factor
        self.booked[1][:] += self.spend * self.margin_factor
        self.spend[:] = 0
        self.cp = cp
        self._set_rates(cp)
        self.per_month_acq = self._acquisition_rates(cp)
        self.price_live = self.price_live or bool((cp.levers[:, L_DISC] > 0).any())
        self.c_live = self.c_live or bool((cp.levers[:, L_RW] > 0).any())

    def revenue_margin(self, idx: np.ndarray | slice) -> tuple[np.ndarray, np.ndarray]:
        """Revenue and margin of customers ``idx`` over the run so far (all rounds)."""
        spend = self.spend[idx].astype(np.float64)  # one dtype whether or not plans changed
        revenue = spend * self.revenue_factor[idx]
        margin = spend * self.margin_factor[idx]
        if self.booked is not None:
            revenue = revenue + self.booked[0][idx]
            margin = margin + self.booked[1][idx]
        return revenue, margin

    # -- relationships start ------------------------------------------------------------
    def activate(self, idx: np.ndarray | slice, t: int) -> None:
        """Start new relationships in 考察期 with a fresh state."""
        self.fresh_state(idx)
        self._start(idx, t)

    def _start(self, idx: np.ndarray | slice, t: int) -> None:
        """Count the relationship from month ``t``, at the prices of the plan then in force
        and with the wallet its channel's MAN check left it."""
        st, h = self.st, self.h
        st["stage"][idx] = EXPLORE
        st["pref"][idx] = 1.0 - self.cp.levers[self.seg[idx], L_DISC]
        st["spend_mean"][idx] = h["wallet"][idx] * h["sow0"][idx] * self.stage_spend[EXPLORE]
        self.entry[idx] = t
        self.n_seg += np.bincount(self.seg[idx], minlength=self.S)

    def fresh_state(self, idx: np.ndarray | slice) -> None:
        """The state a relationship starts from that depends on neither plan nor channel."""
        st, h = self.st, self.h
        st["dwell"][idx] = 0
        st["tenure"][idx] = 0
        st["S"][idx] = NEW_SATISFACTION
        st["L"][idx] = NEW_LOYALTY
        st["E"][idx] = h["expectation0"][idx]
        st["C"][idx] = 0
        st["G"][idx] = 0
        st["sow"][idx] = h["sow0"][idx]
        st["complaints"][idx] = 0
        st["bought"][idx] = False
        st["q_buy"][idx] = buy_probability(h["purchase_rate"][idx], EXPLORE, self.stage_spend)
        st["m_stage"][idx] = self.stage_spend[EXPLORE]
        st["h_stage"][idx] = self.mp.h_explore

    def _acquire(self, t: int) -> np.ndarray:
        """Activate the customers this month's acquisition budget brings in; count by channel."""
        if self.history or self.man_u is None:
            return np.zeros(len(CHANNELS), np.int64)
        acq = self.case.acquisition
        referral = min(self.mp.referral_max_mult, self.prev_affection / self.mp.referral_affection)
        got = []  # a few channels: plain floats, whole customers, the rest carried over
        for ch, rate in enumerate(self.per_month_acq):
            carry = self.acq_carry[ch] + rate * (referral if ch == REFERRAL else 1.0)
            k = math.floor(carry + 1e-9)
            self.acq_carry[ch] = carry - k
            got.append(k)
        room, total = self.N - self.next_slot, sum(got)
        if total > room:  # capacity is sized from the budget; this is only a guard
            got = [math.floor(k * room / total) for k in got]
            total = sum(got)
        if not total:
            return np.array(got, np.int64)
        # Channels fill consecutive slots in channel order; each slot meets its channel's MAN bar.
        sl = slice(self.next_slot, self.next_slot + total)
        self.next_slot += total
        man = np.repeat([acq[ch].man if ch in acq else 1.0 for ch in CHANNELS], got)
        bad = self.man_u[sl.start - self.n0 : sl.stop - self.n0] >= man
        if bad.any():
            h = self.h
            h["wallet"][sl] *= np.where(bad, F32(MAN_WALLET), F32(1))
            h["logit_theta"][sl] += np.where(bad, F32(MAN_LOGIT), F32(0))
            h["logit_base"][sl] += np.where(bad, F32(MAN_LOGIT), F32(0))
        self._start(sl, t)  # their fresh state was set when the run began
        return np.array(got, np.int64)

    def _coverage(self, active: np.ndarray, capacity: np.ndarray) -> None:
        """Key-account coverage: the highest-valued active customers of each segment first."""
        act_sorted = active[self.order]
        seg_sorted = self.seg[self.order]
        cs = np.cumsum(act_sorted)
        starts = np.searchsorted(seg_sorted, np.arange(self.S))
        before = np.where(starts > 0, cs[np.maximum(starts - 1, 0)], 0)
        rank = cs - before[seg_sorted]
        self.covered[self.order] = act_sorted & (rank <= capacity[seg_sorted])

    def _segment_month(self, n_seg: np.ndarray, mods: dict) -> _SegMonth:
        """Doses and responses per segment, in plain floats: a handful of segments is too few
        for array operations to pay for their call overhead."""
        mp, costs = self.mp, self.case.costs
        kam_cap = mods["kam_capacity"]
        g_care, g_x, hill, fatigue, capacity = [], [], [], [], []
        for n, lev in zip(n_seg.tolist(), self.cp.levers.tolist(), strict=True):
            care, x, kam = lev[L_CARE], lev[L_X], lev[L_KAM]
            u_care = care / max(n, 1.0) / costs.care
            u_x = x / max(n, 1.0) / costs.cross_sell
            g_care.append(1 - math.exp(-u_care))
            g_x.append(1 - math.exp(-u_x))
            fatigue.append(
                mp.fatigue
                * (max(u_care - mp.fatigue_dose, 0) ** 2 + max(u_x - mp.fatigue_dose, 0) ** 2)
            )
            cap = kam * 2 * costs.kam_accounts * kam_cap
            capacity.append(cap)
            covered = min(n, math.floor(cap))
            u_kam = kam * costs.kam_accounts * kam_cap / covered if covered > 0 else 0.0
            hill.append(u_kam**2 / (1 + u_kam**2))
        if any(c > 0 for c in capacity):
            self._coverage(self.st["stage"] < CHURNED, np.array(capacity))
            any_kam = bool(self.covered.any())
        else:
            self.covered[:] = False
            any_kam = False
        noise_lo = mp.quality_noise * math.sqrt(3.0)
        return _SegMonth(
            n=n_seg,
            g_care=np.array(g_care, F32),
            g_x=np.array(g_x, F32),
            hill=np.array(hill, F32),
            q0=F32(mp.quality_base + mods["quality_shift"] - noise_lo),
            fatigue=np.array(fatigue, F32),
            any_fatigue=any(f > 0 for f in fatigue),
            any_x=self.any_x,
            any_kam=any_kam,
        )

    # -- the month ----------------------------------------------------------------------
    def step(self, t: int) -> None:
        """Advance every customer by one month."""
        lev, costs = self.cp.levers, self.case.costs
        mods = self.mods[t]
        if self.history:
            self.activate(np.flatnonzero(self.entry == t), t)
        acquired = self._acquire(t)
        # Slots past the last acquired prospect hold nobody yet: skip them. A block's first n
        # uniforms do not depend on n, so this changes no one's luck.
        used = self.next_slot
        blocks = [slice(b, min(b + rngs.BLOCK, used)) for b in range(0, used, rngs.BLOCK)]
        sp = self._segment_month(self.n_seg.copy(), mods)
        month_u = self.streams.uniforms(self.phase, t, used, self.draws)
        uni = [month_u[:, sl] for sl in blocks]
        fails = [self._phase_a(sl, u, sp, mods) for sl, u in zip(blocks, uni, strict=True)]
        k_seg = np.zeros(self.S)
        for sl, fa in zip(blocks, fails, strict=True):
            k_seg += np.bincount(self.seg[sl][fa.idx[fa.complain]], minlength=self.S)
        per_complaint = lev[:, L_REC] / np.maximum(k_seg, 1.0) / costs.recovery
        sp.b_rel = per_complaint.astype(F32)
        sp.fast = (1 - np.exp(-per_complaint)).astype(F32)
        parts = [
            self._phase_b(sl, u, sp, mods, t, fa)
            for sl, u, fa in zip(blocks, uni, fails, strict=True)
        ]
        parts = [p for p in parts if p is not None]
        if len(parts) == 1:
            agg = parts[0]
        elif parts:
            agg = {k: sum(p[k] for p in parts) for k in parts[0]}
        else:  # nobody active: the same sums over no one
            none8, nothing = np.zeros(0, np.int8), np.zeros(0, F32)
            agg = self._partials(
                slice(0, 0), none8, none8, np.zeros(0, np.intp), nothing, nothing, nothing, None
            )
        self.transitions[t - 1, :4] = agg["transitions"].reshape(6, 6)[:4, :N_STAGES]
        by_key = (agg["count"] - agg["churned"]).reshape(self.S, 6)
        self.n_seg = by_key[:, :4].sum(axis=1).astype(np.float64)
        self._grow_wallets()
        self.sat_hist[t - 1] = agg["sat_hist"]
        self._record_cohorts(t)
        alive = max(agg["alive_total"], 1.0)
        self.prev_affection = agg["affection"] / alive
        levers_cost = np.where(
            sp.n > 0,
            lev[:, L_CARE] + lev[:, L_REC] + lev[:, L_X] + lev[:, L_KAM] * costs.kam_salary,
            0.0,
        )
        acq_cost = 0.0 if self.history else float(self.cp.acquisition.sum())
        self._record(t, agg, sp.n, levers_cost, acq_cost, acquired)
        if self.sample_idx.size:
            self._record_sample(t)

    def _phase_a(self, sl: slice, u: np.ndarray, sp: _SegMonth, mods: dict) -> _Failures:
        """Service failures (fewer with proactive care) and who of the failed complains."""
        mp, st, h = self.mp, self.st, self.h
        n = sl.stop - sl.start
        r_care = np.take(sp.g_care, self.seg8[sl], out=self.r_care[sl])
        r_care *= h["beta"][L_CARE, sl]
        p_f = F32(mods["p_fail"]) - F32(mods["p_fail"] * mp.care_fail_cut) * r_care
        uf = u[rngs.U_FAIL, :n]
        idx = np.flatnonzero((uf < p_f) & (st["stage"][sl] < CHURNED))
        w = uf[idx] / p_f[idx]  # uniform again, given the failure
        ms = F32(mp.major_share)
        major = w < ms
        uv = np.where(major, w / max(ms, F32(1e-12)), (w - ms) / max(1 - ms, F32(1e-12)))
        x = (
            F32(mp.voice_intercept)
            + F32(mp.voice_sat) * (F32(0.6) - st["S"][sl][idx])
            + F32(mp.voice_major) * major
        )
        p_voice = h["voice"][sl][idx] / (1 + np.exp(-x))
        complain = uv < p_voice
        return _Failures(idx, major, complain, uv / np.maximum(p_voice, F32(1e-12)))

    def _phase_b(
        self, sl: slice, u: np.ndarray, sp: _SegMonth, mods: dict, t: int, fa: _Failures
    ) -> dict | None:
        """Value, complaint outcomes, satisfaction, loyalty, spending, churn and stages.

        State of slots that are not active (churned, or prospects not yet acquired) may drift
        here: every aggregate is masked by stage and activation resets the state.
        """
        mp, st, h, case = self.mp, self.st, self.h, self.case
        n = sl.stop - sl.start
        stage = st["stage"][sl].copy()
        active = stage < CHURNED
        if not active.any():
            return None
        seg = self.seg[sl]
        S, L, E, G = st["S"][sl], st["L"][sl], st["E"][sl], st["G"][sl]
        fl = fa.idx
        # 2. Delivered value (让渡价值): quality plus price and reward gains.
        seg8 = self.seg8[sl]
        q = u[rngs.U_NOISE, :n] * F32(2 * mp.quality_noise * math.sqrt(3.0))
        q += sp.q0
        q += h["fit"][sl]
        if sp.any_fatigue:
            q -= np.take(sp.fatigue, seg8)
        q += F32(mp.q_care) * self.r_care[sl]
        r_kam = r_x = r_rw = None
        if sp.any_kam:
            r_kam = h["beta"][L_KAM, sl] * np.take(sp.hill, seg8) * self.covered[sl]
            q += F32(mp.q_kam) * r_kam
        if sp.any_x:
            r_x = h["beta"][L_X, sl] * np.take(sp.g_x, seg8) * (F32(0.3) < L)
            # +q_cross_sell for the satisfied, −cross_sell_annoy below S = 0.5
            effect = (F32(0.5) <= S) * F32(mp.q_cross_sell + mp.cross_sell_annoy)
            effect -= F32(mp.cross_sell_annoy)
            q += effect * r_x
        if fl.size:
            q[fl] -= F32(mp.q_fail)
        v = q
        if mods["value_shift"]:
            v -= F32(mods["value_shift"])
        d = p_now = None
        if self.price_live:
            d = self.d_i[sl]
            p_now = 1 - d
            pref = st["pref"][sl]
            v += (
                F32(mp.price_weight)
                * h["price_sens"][sl]
                * h["beta"][L_DISC, sl]
                * ((pref - p_now) / pref)
            )
            pref += F32(mp.ref_price_speed) * (p_now - pref)
        if self.r_rw_i is not None:
            r_rw = self.r_rw_i[sl]
            v += F32(mp.rewards_value) * r_rw
        # 4. Satisfaction: expectation–disconfirmation, losses weigh λ times gains:
        # c·dis + c(λ − 1)·min(dis, 0) = cλ·dis − c(λ − 1)·max(dis, 0).
        zero, one = self.zeros[:n], self.ones[:n]  # array bounds: a scalar bound is 3× slower
        dis = v - E
        gain = np.maximum(dis, zero)
        s_new = v * F32(mp.sat_value)
        s_new += F32(mp.sat_intercept - 0.6 * mp.sat_value)
        s_new += dis * F32(mp.sat_disconfirm * mp.loss_aversion)
        s_new -= gain * F32(mp.sat_disconfirm * (mp.loss_aversion - 1))
        np.maximum(s_new, zero, out=s_new)
        np.minimum(s_new, one, out=s_new)
        s_new *= F32(1 - mp.sat_memory)
        S *= F32(mp.sat_memory)
        S += s_new  # S is the state itself: updated in place
        # 5. Expectations ratchet up fast, down slowly: delight decays into a must-be.
        E += dis * F32(mp.expect_down)
        E += gain * F32(mp.expect_up - mp.expect_down)
        # 3. Complaint outcomes (sparse) and 7. grievance.
        G *= F32(mp.grievance_decay)
        outcomes = None
        if fl.size:
            outcomes = self._complaints(sl, seg, fl, fa, sp, S, G)
        # 6. Loyalty moves toward the Jones–Sasser curve of satisfaction; lock-in.
        x = np.exp(F32(mp.loyalty_slope * mp.loyalty_mid) - F32(mp.loyalty_slope) * S)
        x += 1
        np.divide(F32(mp.loyalty_speed), x, out=x)
        L *= F32(1 - mp.loyalty_speed)
        L += x
        if self.c_live:
            C = st["C"][sl]
            C *= F32(1 - mp.lockin_decay)
            if r_rw is not None:
                C += F32(mp.lockin_decay) * r_rw
        # 9. Share of wallet and spending (a leaving customer still paid this month).
        target = h["sow_base"][sl] + F32(mp.sow_loyalty) * L
        if r_x is not None:
            target += F32(mp.sow_cross_sell) * r_x
        if r_kam is not None:
            target += F32(mp.sow_kam) * r_kam
        np.maximum(target, self.sow_floor[:n], out=target)
        np.minimum(target, one, out=target)
        sow = st["sow"][sl]
        target -= sow
        sow += F32(mp.sow_speed) * target
        expected = h["wallet"][sl] * sow
        expected *= st["m_stage"][sl]
        if mods["wallet_mult"] != 1:
            expected *= F32(mods["wallet_mult"])
        if d is not None:
            expected *= 1 + F32(0.5) * d * h["price_sens"][sl]
        q_buy = st["q_buy"][sl]
        buy = None  # contractual forward runs only need it for 考察期 customers (below)
        if case.kind == "contractual":
            spend = expected
            if self.history:
                buy = u[rngs.U_CHURN, :n] < q_buy  # no churn in the history window
        else:
            buy = u[rngs.U_BUY, :n] < q_buy
            spend = expected / np.maximum(q_buy, F32(1e-6)) * buy
        # 8. Churn hazard (logit-additive terms; constants folded into logit_base).
        tenure = st["tenure"][sl]
        logit = h["logit_base"][sl] - F32(mp.h_loyalty) * L
        logit -= F32(mp.h_sat) * S
        logit += F32(mp.h_grievance) * G
        logit += st["h_stage"][sl]
        if mods["hazard_shift"]:
            logit += F32(mods["hazard_shift"])
        logit -= np.take(self.log_tenure, tenure)
        if self.c_live:
            logit -= F32(mp.h_lockin) * st["C"][sl]
        if r_kam is not None:
            logit -= F32(mp.h_kam) * r_kam
        if d is not None:
            logit += self.h_disc_i[sl]
        if mods["key_hazard_shift"]:
            logit += F32(mods["key_hazard_shift"]) * h["key_resp"][sl]
        np.negative(logit, out=logit)
        hz = np.exp(logit, out=logit)
        hz += 1
        np.reciprocal(hz, out=hz)
        if case.kind == "noncontractual":
            hz *= buy  # dropout happens after a purchase
        uc = u[rngs.U_CHURN, :n]
        churn = (uc < hz) & active if not self.history else np.zeros(n, bool)
        left = np.flatnonzero(churn)
        bought = st["bought"][sl]
        if buy is not None:
            bought |= buy
        else:  # the churn uniform's residue among those who stay decides 考察期 purchases
            ex = np.flatnonzero(stage == EXPLORE)
            stay = uc[ex] >= hz[ex]
            bought[ex] |= stay & (uc[ex] - hz[ex] < q_buy[ex] * (1 - hz[ex]))
        # 10. Stages, each move after a minimum dwell.
        dwell = st["dwell"][sl]
        new = self._next_stage(stage, active, dwell, tenure, bought, S, L, expected, sl)
        new[left] = CHURNED
        st["spend_mean"][sl] += F32(2 / 7) * (expected - st["spend_mean"][sl])
        tenure += active
        dwell += active
        changed = np.flatnonzero(new != stage)
        dwell[changed] = 0
        st["stage"][sl] = new
        st["bought"][sl][changed] = False
        moved = new[changed]
        st["q_buy"][sl][changed] = buy_probability(
            h["purchase_rate"][sl][changed], moved, self.stage_spend
        )
        st["m_stage"][sl][changed] = self.stage_spend[moved]
        st["h_stage"][sl][changed] = self.stage_hazard[moved]
        # Per-customer accumulators. A segment's discount and reward rates are fixed for the
        # run, so revenue, gross margin and rewards are spend times per-customer constants.
        self.spend[sl] += spend
        if t == self.months:
            self.month_spend[sl] = spend
            self.hazard[sl] = hz
        if self.history:
            self.last_buy[sl][buy] = t
            self.buys[sl] += buy
        if left.size:
            self.churn_month[sl][left] = t
            self.exit_sat[sl][left] = S[left]
        if self.sample_idx.size:
            self._capture(sl, left, outcomes, fl, L, S, G, r_kam, stage, tenure, d, mods)
        return self._partials(sl, stage, new, left, spend, S, L, outcomes)

    def _complaints(self, sl, seg, fl, fa: _Failures, sp: _SegMonth, s_new, G) -> dict:
        """Resolve complaints with the segment's budget per complaint; update S and grievance.

        Outcomes are coded (resolved 1, unresolved 2, silent 3) so their effects are table
        look-ups rather than nested selections."""
        mp, st, h = self.mp, self.st, self.h
        segf = seg[fl]
        p_ok = F32(mp.recovery_floor) + F32(mp.recovery_gain) * (
            1 - np.exp(-h["beta"][L_REC, sl][fl] * sp.b_rel[segf])
        )
        comp, ur = fa.complain, fa.u_resolve
        resolved = comp & (ur < p_ok)
        code = np.int8(OUTCOME_SILENT) - comp - resolved  # silent 3, unresolved 2, resolved 1
        fast = resolved & (ur < p_ok * sp.fast[segf])
        complaints = st["complaints"][sl]
        paradox = fast & ~fa.major & (complaints[fl] == 0)
        s = s_new[fl]
        s = np.where(paradox, np.minimum(s + F32(mp.recovery_lift), F32(1)), s)
        s *= self.outcome_mult[code]
        s_new[fl] = s
        G[fl] += self.outcome_grievance[code * 2 + fa.major]
        complaints[fl[comp]] += 1
        return {"seg": segf, "code": code}

    def _next_stage(self, stage, active, dwell, tenure, bought, S, L, expected, sl) -> np.ndarray:
        """Lifecycle moves 考察→形成→稳定, 形成/稳定→退化, 退化→形成 (DESIGN §3.3 step 10).

        Each customer's conditions are the bits of one index into ``STAGE_TABLE``:
        may move (dwell done) · stage · back · low · up · ripe (multiplied in: uint8 shifts
        are slower)."""
        mp = self.mp
        u8 = np.uint8
        can = dwell >= mp.min_dwell
        can &= active
        idx = can.view(u8) * u8(8)
        idx += stage.view(u8)
        back = F32(mp.recover_sat) < S
        back &= F32(mp.recover_loyalty) < L
        idx *= u8(2)
        idx += back.view(u8)
        low = (F32(mp.decline_sat) > S) | (F32(mp.decline_loyalty) > L)
        low |= expected < F32(mp.decline_spend) * self.st["spend_mean"][sl]
        idx *= u8(2)
        idx += low.view(u8)
        up = F32(mp.stable_loyalty) < L
        up &= F32(mp.stable_sat) < S
        idx *= u8(2)
        idx += up.view(u8)
        ripe = tenure >= mp.explore_months - 1  # this month completes the exploration
        ripe &= bought
        idx *= u8(2)
        idx += ripe.view(u8)
        return np.take(STAGE_TABLE, idx)

    def _partials(self, sl, stage, new, left, spend, S, L, oc) -> dict:
        """Sums of one block: by (segment, stage at start) columns, plus month totals.

        One count over (segment, stage at start, stage at end, satisfaction bin) cells gives
        head counts, leavers, stage transitions and the histogram of those still active."""
        n_seg, bins = self.S, SAT_BINS + 1
        cols = n_seg * 6
        key = self.seg6[sl] + stage
        cell = (S * F32(SAT_BINS)).astype(self.cell_type)  # S ∈ [0, 1] for every slot
        cell += (key.astype(self.cell_type) * 6 + new) * bins
        flow = np.bincount(cell, minlength=cols * 6 * bins).reshape(n_seg, 6, 6, bins)
        moves = flow.sum(axis=3)  # segment × start × end
        gone = key[left]
        hist = flow[:, :4, :4, :].sum(axis=(0, 1, 2))
        hist[SAT_BINS - 1] += hist[SAT_BINS]  # S == 1 belongs to the top bin
        out = {
            "count": moves.sum(axis=2).ravel(),
            "spend": np.bincount(key, spend, minlength=cols),
            "sat": np.bincount(key, S, minlength=cols) - np.bincount(gone, S[left], minlength=cols),
            "loy": np.bincount(key, L, minlength=cols) - np.bincount(gone, L[left], minlength=cols),
            "churned": moves[:, :, CHURNED].ravel(),
            "transitions": moves.sum(axis=0).ravel(),
            "alive_total": float(moves[:, :4, :4].sum()),
            # zones of the satisfaction–loyalty curve: affection S ≥ 0.85, defection S < 0.5
            "affection": float(hist[AFFECTION_BIN:SAT_BINS].sum()),
            "defection": float(hist[:DEFECTION_BIN].sum()),
            "sat_hist": hist[:SAT_BINS],
        }
        if oc is not None:
            by_code = np.bincount(oc["seg"] * 4 + oc["code"], minlength=n_seg * 4)
            by_code = by_code.reshape(n_seg, 4)
            out["resolved"] = by_code[:, OUTCOME_RESOLVED]
            out["unresolved"] = by_code[:, OUTCOME_UNRESOLVED]
            out["silent"] = by_code[:, OUTCOME_SILENT]
            out["complain"] = out["resolved"] + out["unresolved"]
            out["failures"] = float(oc["seg"].size)
        else:
            for k in ("complain", "resolved", "unresolved", "silent"):
                out[k] = np.zeros(n_seg, np.int64)
            out["failures"] = 0.0
        return out

    # -- records -------------------------------------------------------------------------
    def _grow_wallets(self) -> None:
        """Rising stars' wallets grow while they are customers (hidden potential)."""
        s = self.stars[self.st["stage"][self.stars] < CHURNED]
        self.h["wallet"][s] *= self.h["growth"][s]

    def _record_cohorts(self, t: int) -> None:
        stage = self.st["stage"]
        late_alive = 0
        if self.next_slot > self.n0:
            late = slice(self.n0, self.next_slot)
            alive = stage[late] < CHURNED
            self.cohorts[1:, t] = np.bincount(
                self.entry[late][alive].astype(np.intp), minlength=self.months + 1
            )[1 : self.months + 1]
            late_alive = int(alive.sum())
        self.cohorts[0, t] = round(float(self.n_seg.sum())) - late_alive  # the starting book

    def _record(self, t, agg, n_seg, levers_cost, acq_cost, acquired) -> None:
        """Keep the month's sums; the tables are built once at the end (``_frames``)."""
        self.log.append((agg, n_seg, levers_cost, acq_cost, acquired))
        self.lev_hist.append(self.cp.levers)

    def choose_sample(self, size: int) -> None:
        """A fixed random sample of initial customers followed month by month."""
        k = min(size, self.n0)
        if not k:
            return
        gen = rngs.stream(self.seed, rngs.SAMPLE)
        self.sample_idx = np.sort(gen.choice(self.n0, size=k, replace=False))
        m = self.months
        self.sample = {key: np.full((m, k), np.nan, F32) for key in ("S", "L", "G", "revenue")}
        self.sample["stage"] = np.full((m, k), -1, np.int8)
        self.sample["complaint"] = np.zeros((m, k), np.int8)
        self.sample["terms"] = np.full((k, len(HAZARD_TERMS)), np.nan, F32)
        self.sample_code = np.zeros(k, np.int8)
        self.sample_pos = np.full(self.N, -1, np.int32)  # slot → position in the sample
        self.sample_pos[self.sample_idx] = np.arange(k, dtype=np.int32)

    def _capture(self, sl, left, outcomes, fl, L, S, G, r_kam, stage, tenure, d, mods) -> None:
        """Complaint outcomes of sampled customers, and the hazard terms of those who left."""
        at = self.sample_pos[sl]  # work in proportion to events, not to the sample
        if outcomes is not None:
            pos = at[fl]
            hit = pos >= 0
            self.sample_code[pos[hit]] = outcomes["code"][hit]
        if not left.size:
            return
        pos = at[left]
        gone = pos >= 0
        if not gone.any():
            return
        mp, h = self.mp, self.h
        jj = left[gone]
        g = sl.start + jj
        terms = np.column_stack(
            [
                h["logit_theta"][g],
                -mp.h_loyalty * (L[jj] - 0.5),
                -mp.h_sat * (S[jj] - 0.6),
                mp.h_grievance * G[jj],
                -mp.h_lockin * self.st["C"][g],
                -mp.h_kam * r_kam[jj] if r_kam is not None else np.zeros(jj.size),
                self.stage_hazard[stage[jj]],
                -self.log_tenure[tenure[jj] - 1],
                self._discount_term(d[jj]) if d is not None else np.zeros(jj.size),
                np.full(jj.size, mods["hazard_shift"])
                + mods["key_hazard_shift"] * h["key_resp"][g],
            ]
        )
        self.sample["terms"][pos[gone]] = terms

    def _discount_term(self, d: np.ndarray) -> np.ndarray:
        mp = self.mp
        return -mp.h_discount * np.minimum(d, mp.deep_discount) + mp.h_deep_discount * (
            d > mp.deep_discount
        )

    def _record_sample(self, t: int) -> None:
        idx, st, k = self.sample_idx, self.st, t - 1
        live = (st["stage"][idx] < CHURNED) | (self.churn_month[idx] == t)
        self.sample["S"][k] = np.where(live, st["S"][idx], np.nan)
        self.sample["L"][k] = np.where(live, st["L"][idx], np.nan)
        self.sample["G"][k] = np.where(live, st["G"][idx], np.nan)
        # cumulative revenue; the UI takes differences
        self.sample["revenue"][k] = self.revenue_margin(idx)[0]
        self.sample["stage"][k] = np.where(live | (self.churn_month[idx] > 0), st["stage"][idx], -1)
        self.sample["complaint"][k] = np.where(live, self.sample_code, 0)
        self.sample_code[:] = 0


def _stage_table() -> np.ndarray:
    """Next stage by index may-move << 7 | stage << 4 | back << 3 | low << 2 | up << 1 | ripe."""
    table = np.zeros((2, 8, 16), np.int8)
    for stage in range(8):
        for flags in range(16):
            ripe, up, low, back = (bool(flags >> b & 1) for b in range(4))
            table[0, stage, flags] = new = stage
            if stage == EXPLORE and ripe:
                new = FORM
            elif stage == FORM:
                new = DECLINE if low else STABLE if up else FORM
            elif stage == STABLE and low:
                new = DECLINE
            elif stage == DECLINE and back:
                new = FORM
            table[1, stage, flags] = new
    return table.ravel()


STAGE_TABLE = _stage_table()


# -- public API ------------------------------------------------------------------------------
def _concat(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {k: np.concatenate([a[k], b[k]], axis=-1) for k in a}


def prospect_traits(case: Case, seed: int, count: int) -> tuple[dict, np.ndarray]:
    """Traits of ``count`` prospect slots and their MAN uniforms, drawn per fixed block so a
    slot's luck does not depend on the plan."""
    blocks = [
        _prospect_block(case.population.model_dump_json(), seed, b)
        for b in range(math.ceil(count / PROSPECT_BLOCK))
    ]
    traits = {
        k: np.concatenate([p[0][k] for p in blocks], axis=-1)[..., :count] for k in blocks[0][0]
    }
    return traits, np.concatenate([p[1] for p in blocks])[:count]


@lru_cache(maxsize=PROSPECT_CACHE)
def _prospect_block(spec_json: str, seed: int, block: int) -> tuple[dict, np.ndarray]:
    """One block of prospect traits (read-only; callers concatenate, which copies)."""
    from crmsim.cases import PopulationSpec
    from crmsim.population import draw_traits

    gen = rngs.stream(seed, rngs.PROSPECTS, block)
    traits = draw_traits(gen, PROSPECT_BLOCK, PopulationSpec.model_validate_json(spec_json))
    man = gen.random(PROSPECT_BLOCK).astype(F32)
    for arr in (*traits.values(), man):
        arr.flags.writeable = False
    return traits, man


def _kam_order(cp: CompiledPlan, value: np.ndarray, seg: np.ndarray) -> np.ndarray | None:
    """Slots by segment, then observed value (high first): who a manager serves first.
    Only needed when the plan staffs key-account managers."""
    if not (cp.levers[:, L_KAM] > 0).any():
        return None
    return np.lexsort((-value, seg)).astype(np.int64)


def prospect_slots(case: Case, seed: int, count: int) -> tuple[dict, np.ndarray, dict]:
    """Traits, MAN uniforms and not-yet-active state of ``count`` prospect slots."""
    traits, man_u = prospect_traits(case, seed, count)
    state = initial_state(
        traits,
        np.zeros(count),
        case,
        rngs.stream(seed, rngs.PROSPECTS, 2**31),
        np.ones(count, np.int16),
    )
    return traits, man_u, state


def prospect_capacity(case: Case, plan_acq: np.ndarray, months: int) -> int:
    """Upper bound on customers the plan's acquisition budget can bring in ``months``."""
    per_month = 0.0
    for ch, money in zip(CHANNELS, plan_acq, strict=True):
        if money > 0 and ch in case.acquisition:
            mult = case.model.referral_max_mult if ch == "referral" else 1.0
            per_month += money / case.acquisition[ch].cost * max(mult, 1.0)
    return math.ceil(per_month * months) + (len(CHANNELS) if per_month else 0)


def run_history(pop, case: Case, months: int, seed: int) -> dict:
    """Simulate the status-quo history of an existing book, without churn (they are survivors).

    Customers who joined within the window enter in their joining month. Returns the end
    state and the observed purchase summary (RFM, revenue, complaints).
    """
    from crmsim.segmentation import provisional_frame, segment

    hidden = pop.hidden
    n = len(pop.customers)
    tenure_end = pop.customers["tenure_months"].to_numpy().astype(np.int64)
    entry = np.where(tenure_end >= months, 0, months + 1 - tenure_end).astype(np.int16)
    tenure0 = np.maximum(tenure_end - months, 0)
    state = initial_state(hidden, tenure0, case, rngs.stream(seed, rngs.POPULATION, 99), entry)
    frame = provisional_frame(pop.customers, hidden)
    seg = segment(
        frame, case.status_quo.segmentation.method, case.status_quo.segmentation.params, seed=seed
    )
    cp = compile_plan(
        case.status_quo,
        seg.names,
        seg.labels,
        frame["monetary"].to_numpy(),
        scale=n / case.population.customers,
    )
    order = _kam_order(cp, cp.value, cp.seg)
    state["pref"][:] = 1 - cp.levers[cp.seg, L_DISC].astype(F32)
    run = _Run(case, hidden, state, cp, cp.seg, seed, months, 1, True, entry, order, n, None)
    for t in range(1, months + 1):
        run.step(t)
    run.activate(np.flatnonzero(state["stage"] == INACTIVE), months + 1)
    for key in ("sow_base", "logit_base"):
        hidden.pop(key)
    active_months = np.clip(months + 1 - np.maximum(entry, 1), 0, months).astype(np.float64)
    revenue = run.spend.astype(np.float64) * run.revenue_factor
    recency = np.where(run.last_buy >= 0, months - run.last_buy, months).astype(np.int32)
    observed = {
        "recency": recency,
        "frequency": run.buys.astype(np.int32),
        "monetary": np.round(revenue / np.maximum(active_months, 1), 2),
        "revenue": np.round(revenue, 2),
        "complaints": state["complaints"].astype(np.int32),
    }
    return {"state": state, "observed": observed}


def simulate(
    pop,
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
    pop,
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
    # Only these hidden traits change during a run (wallet growth, MAN adjustments); the rest
    # are shared read-only with the population.
    hidden = {k: v.copy() if k in MUTABLE_TRAITS else v for k, v in pop.hidden.items()}
    state = {k: v.copy() for k, v in pop.state.items()}
    seg, entry, value, man_u = cp.seg, np.zeros(n0, np.int16), cp.value, None
    most = np.max(np.stack([c.acquisition for c in cps]), axis=0)
    cap = prospect_capacity(case, most, months)
    if cap:
        traits, man_u, extra = prospect_slots(case, seed, cap)
        hidden = _concat(hidden, {k: traits[k] for k in hidden})
        state = _concat(state, extra)
        seg = np.concatenate([seg, np.full(cap, cp.new_segment, np.int16)])
        entry = np.concatenate([entry, np.full(cap, months + 1, np.int16)])
        value = np.concatenate([value, np.zeros(cap)])
    order = _kam_order(cp, value, seg)
    run = _Run(case, hidden, state, cp, seg, seed, months, 0, False, entry, order, n0, man_u)
    run.choose_sample(sample_size)
    for t in range(1, months + 1):
        if t > 1 and (t - 1) % round_months == 0:
            run.switch_plan(cps[(t - 1) // round_months])
        run.step(t)
        if progress is not None:
            progress(t, months)
    return _result(run, case, pop, plans[-1], seed, months, segmentation)


def _frames(run: _Run) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Monthly, by-segment and by-stage tables from the months' sums."""
    S, T = run.S, len(run.log)
    aggs = [entry[0] for entry in run.log]

    def stack(key: str, shape: tuple) -> np.ndarray:
        return np.array([a[key] for a in aggs], dtype=np.float64).reshape((T, *shape))

    count = stack("count", (S, 6))[:, :, :4]
    churned = stack("churned", (S, 6))[:, :, :4].sum(axis=2)
    spend = stack("spend", (S, 6))[:, :, :4]
    sat = stack("sat", (S, 6))[:, :, :4].sum(axis=2)
    loy = stack("loy", (S, 6))[:, :, :4].sum(axis=2)
    outcome = {k: stack(k, (S,)) for k in ("complain", "resolved", "unresolved", "silent")}
    totals = {
        k: np.array([a[k] for a in aggs], dtype=np.float64)
        for k in ("failures", "alive_total", "affection", "defection")
    }
    n_seg = np.array([entry[1] for entry in run.log])
    levers_cost = np.array([entry[2] for entry in run.log])
    acq_cost = np.array([entry[3] for entry in run.log], dtype=np.float64)
    acquired = np.array([entry[4] for entry in run.log], dtype=np.float64).reshape(T, -1)
    lev = np.stack(run.lev_hist)  # month × segment × lever: plans may change between rounds
    disc, rw = lev[:, :, L_DISC, None], lev[:, :, L_RW, None]
    revenue = spend * (1 - disc)  # month × segment × stage
    gm = spend * (run.case.population.margin_rate - disc)
    rewards = rw * revenue
    months = np.arange(1, T + 1)
    by_segment = pd.DataFrame(
        {
            "month": np.repeat(months, S),
            "segment": np.tile(np.array(run.cp.segments, dtype=object), T),
            "active_start": n_seg.ravel(),
            "active_end": (count.sum(axis=2) - churned).ravel(),
            "churned": churned.ravel(),
            "revenue": revenue.sum(axis=2).ravel(),
            "gross_margin": gm.sum(axis=2).ravel(),
            "service_cost": (levers_cost + rewards.sum(axis=2)).ravel(),
            "complaints": outcome["complain"].ravel(),
            "resolved": outcome["resolved"].ravel(),
            "sat_sum": sat.ravel(),
            "loyalty_sum": loy.ravel(),
        }
    )
    by_stage = pd.DataFrame(
        {
            "month": np.repeat(months, 4),
            "stage": np.tile(np.arange(4), T),
            "active": count.sum(axis=1).ravel(),
            "revenue": revenue.sum(axis=1).ravel(),
            "margin": (gm - rewards).sum(axis=1).ravel(),
        }
    )
    alive = np.maximum(totals["alive_total"], 1.0)
    stage_n = count.sum(axis=1)
    lever_cost = levers_cost.sum(axis=1)
    rewards_cost = rewards.sum(axis=(1, 2))
    gross_margin = gm.sum(axis=(1, 2))
    service_cost = lever_cost + rewards_cost + acq_cost
    monthly = pd.DataFrame(
        {
            "month": months,
            "active_start": n_seg.sum(axis=1),
            "new": acquired.sum(axis=1),
            "active_end": totals["alive_total"],
            "churned": churned.sum(axis=1),
            "revenue": revenue.sum(axis=(1, 2)),
            "gross_margin": gross_margin,
            "lever_cost": lever_cost,
            "rewards_cost": rewards_cost,
            "acquisition_cost": acq_cost,
            "failures": totals["failures"],
            "complaints": outcome["complain"].sum(axis=1),
            "resolved": outcome["resolved"].sum(axis=1),
            "unresolved": outcome["unresolved"].sum(axis=1),
            "silent": outcome["silent"].sum(axis=1),
            "avg_satisfaction": sat.sum(axis=1) / alive,
            "avg_loyalty": loy.sum(axis=1) / alive,
            "affection_share": totals["affection"] / alive,
            "defection_share": totals["defection"] / alive,
            **{f"new_{ch}": acquired[:, i] for i, ch in enumerate(CHANNELS)},
            **{f"stage_{key}": stage_n[:, k] for k, key in enumerate(STAGE_NAMES[:4])},
            "service_cost": service_cost,
            "profit": gross_margin - service_cost,
        }
    )
    return monthly, by_segment, by_stage


def _result(
    run: _Run, case: Case, pop, plan: Plan, seed: int, months: int, segmentation
) -> SimResult:
    monthly, by_seg, by_stage = _frames(run)
    used = run.next_slot
    st = run.st
    churned = run.churn_month[:used] > 0
    revenue, margin = run.revenue_margin(slice(0, used))
    customers = pd.DataFrame(
        {
            "slot": np.arange(used),
            "segment": run.seg[:used].astype(np.int16),
            "entry_month": run.entry[:used],
            "start_stage": run.start_stage[:used],
            "end_stage": st["stage"][:used],
            "churn_month": run.churn_month[:used],
            "revenue": revenue,
            "margin": margin,
            "last_margin": np.where(churned, 0, run.month_spend[:used] * run.margin_factor[:used]),
            "hazard": np.where(churned, np.nan, run.hazard[:used]),
            "satisfaction": np.where(churned, run.exit_sat[:used], st["S"][:used]),
            "complaints": st["complaints"][:used],
        },
        copy=False,  # one block per column, not a consolidated copy: the peak of a 1M run
    )
    sample = dict(run.sample)
    sample["slots"] = run.sample_idx
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
    return SimResult(
        case.id,
        plan.name,
        seed,
        months,
        list(run.cp.segments),
        monthly,
        by_seg,
        by_stage,
        run.transitions,
        run.sat_hist,
        run.cohorts,
        customers,
        sample,
        meta,
    )
