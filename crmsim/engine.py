"""The vectorised month-by-month lifecycle engine (DESIGN §3.3, §3.4, §4).

Loop over months only; inside a month, numpy over customer slots in fixed blocks of
``rng.BLOCK`` (the arrays of one block stay in the CPU cache, and a block is also the unit of
random draws, so slot ``i`` sees the same luck under every plan). Each month runs in two
phases because complaint handling couples customers: phase A finds failures and complaints,
then the recovery budget per complaint is known per segment, then phase B updates value,
satisfaction, loyalty, grievance, spending, churn and stages.

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

import numpy as np
import pandas as pd

from crmsim import rng as rngs
from crmsim.cases import Case, ModelParams
from crmsim.plans import CHANNELS, LEVERS, Plan

F32 = np.float32
N_STAGES = 5  # exploration, formation, stability, decline, churned
STAGE_NAMES = ("exploration", "formation", "stability", "decline", "churned")
EXPLORE, FORM, STABLE, DECLINE, CHURNED, INACTIVE = 0, 1, 2, 3, 4, 5
L_CARE, L_REC, L_X, L_KAM, L_RW, L_DISC = range(6)
HAZARD_TERMS = ("frailty", "loyalty", "satisfaction", "grievance", "lock_in", "key_account",
                "stage", "tenure", "discount", "events")
SAMPLE_SIZE = 2000
PROSPECT_BLOCK = 4096
SAT_BINS = 20
NEW_SATISFACTION, NEW_LOYALTY = 0.70, 0.30  # a new relationship: neutral, not yet loyal
MAN_WALLET, MAN_LOGIT = 0.35, 1.0  # prospects failing MAN: smaller wallets, frailer


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


def compile_plan(plan: Plan, segments: list[str], labels: np.ndarray, value: np.ndarray,
                 new_segment: str | None = None, scale: float = 1.0) -> CompiledPlan:
    """Resolve a plan against segment labels; segments without an allocation get nothing.

    Plan money is written for the case's reference population size; ``scale`` (actual size /
    reference size) keeps the effort per customer the same on a larger or smaller book.
    """
    lev = np.zeros((len(segments), len(LEVERS)))
    index = {s: i for i, s in enumerate(segments)}
    for seg, lv in plan.allocations.items():
        if seg in index:
            lev[index[seg]] = [getattr(lv, k) for k in LEVERS]
    acq = np.array([plan.acquisition.get(ch, 0.0) for ch in CHANNELS]) * scale
    lev[:, [L_CARE, L_REC, L_X, L_KAM]] *= scale
    target = plan.new_customer_segment or new_segment or segments[-1]
    return CompiledPlan(plan.name, list(segments), np.asarray(labels, dtype=np.int16), lev, acq,
                        index.get(target, len(segments) - 1), np.asarray(value, dtype=np.float64))


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
    cohorts: np.ndarray  # (months + 1 cohorts, months + 1) active counts by entry month
    customers: pd.DataFrame  # per customer end vectors (seg, entry, churn month, margins, ...)
    sample: dict[str, np.ndarray]
    meta: dict = field(default_factory=dict)


def versions() -> dict[str, str]:
    """Versions of the packages that shape a result (recorded with every run)."""
    out = {"python": platform.python_version()}
    for pkg in ("numpy", "pandas", "crmsim"):
        try:
            out[pkg] = importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:
            from crmsim import __version__

            out[pkg] = __version__ if pkg == "crmsim" else "?"
    return out


def event_modifiers(case: Case, month: int) -> dict[str, float]:
    """Parameter changes in force in ``month`` from the case's dated events."""
    mods = {"hazard_shift": 0.0, "key_hazard_shift": 0.0, "p_fail": case.model.p_fail,
            "quality_shift": 0.0, "value_shift": 0.0, "wallet_mult": 1.0, "kam_capacity": 1.0}
    for ev in case.events:
        if ev.active(month):
            mods[ev.param] = mods[ev.param] + ev.value if ev.op == "add" else mods[ev.param] * ev.value
    mods["p_fail"] = min(max(mods["p_fail"], 0.0), 1.0)
    mods["wallet_mult"] = max(mods["wallet_mult"], 0.0)
    mods["kam_capacity"] = max(mods["kam_capacity"], 0.0)
    return mods


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def initial_state(hidden: dict[str, np.ndarray], tenure: np.ndarray, mp: ModelParams,
                  gen: np.random.Generator, entry: np.ndarray) -> dict[str, np.ndarray]:
    """Dynamic state at the start of the status-quo history."""
    n = len(tenure)
    sat = np.clip(gen.normal(0.70, 0.08, n), 0, 1).astype(F32)
    loy = _sigmoid(mp.loyalty_slope * (sat - mp.loyalty_mid)).astype(F32)
    stage = np.full(n, FORM, dtype=np.int8)
    stage[(loy > mp.stable_loyalty) & (sat > mp.stable_sat)] = STABLE
    stage[sat < mp.decline_sat] = DECLINE
    stage[tenure < mp.explore_months] = EXPLORE
    stage[entry > 0] = INACTIVE
    spend = hidden["wallet"] * hidden["sow0"] * np.asarray(mp.stage_spend + (0, 0), F32)[stage]
    return {
        "S": sat, "L": loy, "E": hidden["expectation0"].copy(), "C": np.zeros(n, F32),
        "G": np.zeros(n, F32), "pref": np.ones(n, F32), "sow": hidden["sow0"].copy(),
        "spend_mean": spend.astype(F32), "tenure": np.clip(tenure, 0, 4000).astype(np.int16),
        "stage": stage, "dwell": np.full(n, 2, np.int16),
        "complaints": np.zeros(n, np.int16), "bought": np.zeros(n, bool),
    }


class _Run:
    """One run's arrays and accumulators; ``step`` advances one month."""

    def __init__(self, case: Case, hidden: dict[str, np.ndarray], state: dict[str, np.ndarray],
                 cp: CompiledPlan, seg: np.ndarray, seed: int, months: int, phase: int,
                 history: bool, entry: np.ndarray, order: np.ndarray,
                 n_initial: int, prospects: dict[str, np.ndarray] | None, dtype=F32):
        self.case, self.mp, self.cp = case, case.model, cp
        self.h, self.st = hidden, state
        self.seg = seg.astype(np.intp)
        self.seg_key = self.seg * 4  # + stage at month start → aggregation column
        self.seed, self.months, self.phase, self.history = seed, months, phase, history
        self.entry, self.order, self.n0 = entry, order, n_initial
        self.prospects = prospects
        self.next_slot = n_initial
        self.N = len(seg)
        self.S = len(cp.segments)
        self.dtype = dtype
        n = self.N
        self.last_buy = np.full(n, -1, np.int16)
        self.buys = np.zeros(n, np.int16)
        self.revenue = np.zeros(n, np.float64)
        self.margin = np.zeros(n, np.float64)
        self.churn_month = np.full(n, -1, np.int16)
        self.hazard = np.zeros(n, F32)
        self.month_margin = np.zeros(n, F32)
        self.complain = np.zeros(n, bool)
        self.fail = np.zeros(n, bool)
        self.major = np.zeros(n, bool)
        self.covered = np.zeros(n, bool)
        self.outcome = np.zeros(n, np.int8)  # 0 none, 1 resolved, 2 unresolved, 3 silent
        self.exit_sat = np.full(n, np.nan, F32)
        mp = case.model
        self.stage_spend = np.array([*mp.stage_spend, 0.0, 0.0], F32)
        self.stage_hazard = np.array([mp.h_explore, 0, 0, mp.h_decline, 0, 0], F32)
        self.log_tenure = (mp.h_tenure * np.log1p(np.arange(4096))).astype(F32)
        self.start_stage = state["stage"].copy()
        # Per-slot MAN qualification uniforms for prospects (drawn once, plan-independent).
        self.rows: list[dict] = []
        self.seg_rows: list[np.ndarray] = []
        self.stage_rows: list[np.ndarray] = []
        self.transitions = np.zeros((months, N_STAGES, N_STAGES), np.int64)
        self.sat_hist = np.zeros((months, SAT_BINS), np.int64)
        self.cohorts = np.zeros((months + 1, months + 1), np.int64)
        self.acq_carry = np.zeros(len(CHANNELS))
        self.prev_affection = 0.0
        self.sample_idx = np.zeros(0, np.int64)
        self.sample: dict[str, np.ndarray] = {}
        active = state["stage"] < CHURNED
        self.cohorts[0, 0] = int(active.sum())

    # -- per-month segment-level quantities --------------------------------------------
    def _activate(self, idx: np.ndarray | slice, t: int) -> None:
        """Start new relationships in 考察期 with a fresh state."""
        st, h = self.st, self.h
        st["stage"][idx] = EXPLORE
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
        st["pref"][idx] = 1.0 - self.cp.levers[self.seg[idx], L_DISC]
        st["spend_mean"][idx] = h["wallet"][idx] * h["sow0"][idx] * self.mp.stage_spend[0]
        self.entry[idx] = t

    def _acquire(self, t: int, mods: dict) -> np.ndarray:
        """Activate new customers bought this month; returns count by channel."""
        got = np.zeros(len(CHANNELS), np.int64)
        if self.history or self.prospects is None or not self.cp.acquisition.any():
            return got
        costs = np.array([self.case.acquisition[ch].cost if ch in self.case.acquisition else np.inf
                          for ch in CHANNELS])
        mult = np.ones(len(CHANNELS))
        ref = CHANNELS.index("referral")
        mult[ref] = min(self.mp.referral_max_mult, self.prev_affection / self.mp.referral_affection)
        expected = np.where(np.isfinite(costs), self.cp.acquisition / costs, 0.0) * mult
        self.acq_carry += expected
        got = np.floor(self.acq_carry + 1e-9).astype(np.int64)
        self.acq_carry -= got
        room = self.N - self.next_slot
        if got.sum() > room:  # capacity is sized from the budget; this is only a guard
            got = np.minimum(got, np.floor(got * room / got.sum()).astype(np.int64))
        h, p = self.h, self.prospects
        for ci, k in enumerate(got):
            if k == 0:
                continue
            sl = slice(self.next_slot, self.next_slot + int(k))
            self.next_slot += int(k)
            man = self.case.acquisition[CHANNELS[ci]].man
            bad = p["man_u"][sl.start - self.n0:sl.stop - self.n0] >= man
            h["wallet"][sl] = np.where(bad, h["wallet"][sl] * MAN_WALLET, h["wallet"][sl])
            h["logit_theta"][sl] = np.where(bad, h["logit_theta"][sl] + MAN_LOGIT,
                                            h["logit_theta"][sl])
            self._activate(sl, t)
        return got

    def _coverage(self, active: np.ndarray, kam_cap: np.ndarray) -> None:
        """Key-account coverage: the highest-valued active customers of each segment first."""
        self.covered[:] = False
        if not (kam_cap > 0).any():
            return
        act_sorted = active[self.order]
        seg_sorted = self.seg[self.order]
        cs = np.cumsum(act_sorted)
        starts = np.searchsorted(seg_sorted, np.arange(self.S))
        before = np.where(starts > 0, cs[np.maximum(starts - 1, 0)], 0)
        rank = cs - before[seg_sorted]
        cov = act_sorted & (rank <= kam_cap[seg_sorted])
        self.covered[self.order] = cov

    # -- the month ----------------------------------------------------------------------
    def step(self, t: int) -> None:
        mp, st, h, lev = self.mp, self.st, self.h, self.cp.levers
        mods = event_modifiers(self.case, t) if not self.history else event_modifiers_none(self.case)
        if self.history:
            self._activate(np.flatnonzero(self.entry == t), t)
        acquired = self._acquire(t, mods)
        stage0 = st["stage"].copy()
        active = stage0 < CHURNED
        n_seg = np.bincount(self.seg[active], minlength=self.S).astype(np.float64)
        safe_n = np.maximum(n_seg, 1.0)
        costs = self.case.costs
        u_care = lev[:, L_CARE] / safe_n / costs.care
        u_x = lev[:, L_X] / safe_n / costs.cross_sell
        u_rw = lev[:, L_RW] / costs.rewards_ref
        disc = lev[:, L_DISC]
        kam_cap = lev[:, L_KAM] * 2 * costs.kam_accounts * mods["kam_capacity"]
        self._coverage(active, kam_cap)
        cov_n = np.minimum(n_seg, np.floor(kam_cap))
        u_kam = np.where(cov_n > 0, lev[:, L_KAM] * costs.kam_accounts * mods["kam_capacity"]
                         / np.maximum(cov_n, 1.0), 0.0)
        h_disc = (-mp.h_discount * np.minimum(disc, mp.deep_discount)
                  + mp.h_deep_discount * (disc > mp.deep_discount))
        segp = {  # per-segment quantities as float32 for gathers
            "u_care": u_care.astype(F32), "u_x": u_x.astype(F32), "u_rw": u_rw.astype(F32),
            "disc": disc.astype(F32), "u_kam": u_kam.astype(F32), "h_disc": h_disc.astype(F32),
            "rw_rate": lev[:, L_RW].astype(F32),
        }
        blocks = range(0, self.N, rngs.BLOCK)
        uni = [rngs.monthly_uniforms(self.seed, self.phase, t, b // rngs.BLOCK) for b in blocks]
        # Phase A: failures and complaints.
        for b, u in zip(blocks, uni, strict=True):
            self._phase_a(slice(b, min(b + rngs.BLOCK, self.N)), u, segp, mods)
        k_seg = np.bincount(self.seg[self.complain], minlength=self.S).astype(np.float64)
        per_complaint = lev[:, L_REC] / np.maximum(k_seg, 1.0) / costs.recovery
        segp["b_rel"] = per_complaint.astype(F32)
        segp["fast"] = (1 - np.exp(-per_complaint)).astype(F32)
        agg = _Agg(self.S)
        for b, u in zip(blocks, uni, strict=True):
            self._phase_b(slice(b, min(b + rngs.BLOCK, self.N)), u, segp, mods, t, agg)
        # Month-level bookkeeping.
        stage1 = st["stage"]
        moved = active
        tr = np.bincount(stage0[moved].astype(np.int64) * N_STAGES + stage1[moved],
                         minlength=N_STAGES * N_STAGES)
        self.transitions[t - 1] = tr.reshape(N_STAGES, N_STAGES)
        alive = stage1 < CHURNED
        sat_bins = np.minimum((st["S"][alive] * SAT_BINS).astype(np.int64), SAT_BINS - 1)
        self.sat_hist[t - 1] = np.bincount(sat_bins, minlength=SAT_BINS)
        coh = np.minimum(self.entry[alive], self.months).astype(np.int64)
        self.cohorts[:, t] = np.bincount(coh, minlength=self.months + 1)
        self.prev_affection = agg.total("affection") / max(agg.total("alive"), 1.0)
        levers_cost = np.where(n_seg > 0, lev[:, L_CARE] + lev[:, L_REC] + lev[:, L_X]
                               + lev[:, L_KAM] * costs.kam_salary, 0.0)
        acq_cost = float(self.cp.acquisition.sum()) if not self.history else 0.0
        self._record(t, agg, n_seg, levers_cost, acq_cost, acquired)
        if self.sample_idx.size:
            self._record_sample(t)

    def _gains(self, sl: slice, segp: dict) -> tuple:
        h, st = self.h, self.st
        seg = self.seg[sl]
        beta = h["beta"][:, sl]
        u_care = segp["u_care"][seg]
        u_x = segp["u_x"][seg]
        r_care = beta[L_CARE] * (1 - np.exp(-u_care))
        r_x = beta[L_X] * (1 - np.exp(-u_x)) * (st["L"][sl] > 0.3)
        uk = np.where(self.covered[sl], segp["u_kam"][seg], F32(0))
        uk2 = uk * uk
        r_kam = beta[L_KAM] * uk2 / (1 + uk2)
        r_rw = beta[L_RW] * (1 - np.exp(-segp["u_rw"][seg]))
        d = segp["disc"][seg]
        return seg, r_care, r_x, r_kam, r_rw, d, u_care, u_x

    def _phase_a(self, sl: slice, u: np.ndarray, segp: dict, mods: dict) -> None:
        mp, st, h = self.mp, self.st, self.h
        n = sl.stop - sl.start
        active = st["stage"][sl] < CHURNED
        seg = self.seg[sl]
        r_care = h["beta"][L_CARE, sl] * (1 - np.exp(-segp["u_care"][seg]))
        p_f = F32(mods["p_fail"]) * (1 - F32(mp.care_fail_cut) * r_care)
        uf = u[rngs.U_FAIL, :n]
        fail = active & (uf < p_f)
        major = fail & (uf < F32(mp.major_share) * p_f)
        x = (F32(mp.voice_intercept) + F32(mp.voice_sat) * (F32(0.6) - st["S"][sl])
             + F32(mp.voice_major) * major)
        p_voice = h["voice"][sl] * _sigmoid(x)
        self.fail[sl] = fail
        self.major[sl] = major
        self.complain[sl] = fail & (u[rngs.U_VOICE, :n] < p_voice)

    def _phase_b(self, sl: slice, u: np.ndarray, segp: dict, mods: dict, t: int,
                 agg: _Agg) -> None:
        """Value, complaint outcomes, satisfaction, loyalty, spending, churn and stages.

        State of slots that are not active (churned, or prospects not yet acquired) is allowed
        to drift: every aggregate is masked by ``active`` and activation resets the state.
        """
        mp, st, h, case = self.mp, self.st, self.h, self.case
        n = sl.stop - sl.start
        stage = st["stage"][sl].copy()  # copies: the state arrays are overwritten below
        active = stage < CHURNED
        if not active.any():
            return
        seg, r_care, r_x, r_kam, r_rw, d, u_care, u_x = self._gains(sl, segp)
        S, L, E = st["S"][sl], st["L"][sl], st["E"][sl]
        fail, major, complain = self.fail[sl], self.major[sl], self.complain[sl]
        price = h["price_sens"][sl]
        beta = h["beta"][:, sl]
        # 2. Delivered value (让渡价值).
        fat = F32(mp.fatigue) * (np.maximum(u_care - F32(mp.fatigue_dose), 0) ** 2
                                 + np.maximum(u_x - F32(mp.fatigue_dose), 0) ** 2)
        x_effect = np.where(S >= 0.5, F32(mp.q_cross_sell), F32(-mp.cross_sell_annoy)) * r_x
        noise = u[rngs.U_NOISE, :n] * F32(2 * mp.quality_noise * math.sqrt(3.0))
        q = (F32(mp.quality_base + mods["quality_shift"] - mp.quality_noise * math.sqrt(3.0))
             + noise + h["fit"][sl] + F32(mp.q_care) * r_care + F32(mp.q_kam) * r_kam + x_effect
             - fat - np.where(fail, F32(mp.q_fail), F32(0)))
        p_now = 1 - d
        pref = st["pref"][sl]
        v = (q + F32(mp.price_weight) * price * beta[L_DISC] * (pref - p_now) / pref
             + F32(mp.rewards_value) * r_rw - F32(mods["value_shift"]))
        # 3. Complaint outcomes.
        b_rel = segp["b_rel"][seg]
        p_ok = F32(mp.recovery_floor) + F32(mp.recovery_gain) * (1 - np.exp(-beta[L_REC] * b_rel))
        ur = u[rngs.U_RESOLVE, :n]
        resolved = complain & (ur < p_ok)
        fast = resolved & (ur < p_ok * segp["fast"][seg])
        unresolved = complain & ~resolved
        silent = fail & ~complain
        # 4. Satisfaction: expectation–disconfirmation with loss aversion.
        dis = v - E
        f = np.where(dis >= 0, dis, F32(mp.loss_aversion) * dis)
        s_star = np.clip(F32(mp.sat_intercept - 0.6 * mp.sat_value) + F32(mp.sat_value) * v
                         + F32(mp.sat_disconfirm) * f, 0, 1)
        S_new = F32(mp.sat_memory) * S + F32(1 - mp.sat_memory) * s_star
        if complain.any() or silent.any():
            paradox = fast & ~major & (st["complaints"][sl] == 0)
            mult = np.where(unresolved, F32(mp.unresolved_mult),
                            np.where(silent, F32(mp.silent_mult), F32(1)))
            S_new = np.where(paradox, np.minimum(S_new + F32(mp.recovery_lift), 1), S_new) * mult
        # 5. Expectations ratchet; 6. loyalty and lock-in; 7. grievance.
        E_new = E + np.where(v > E, F32(mp.expect_up), F32(mp.expect_down)) * dis
        L_new = L + F32(mp.loyalty_speed) * (
            _sigmoid(F32(mp.loyalty_slope) * (S_new - F32(mp.loyalty_mid))) - L)
        C_new = F32(1 - mp.lockin_decay) * st["C"][sl] + F32(mp.lockin_decay) * r_rw
        G_new = F32(mp.grievance_decay) * st["G"][sl]
        if fail.any():
            sev = np.where(major, F32(1), F32(mp.minor_severity))
            G_new += sev * np.where(unresolved, F32(mp.grievance_unresolved), np.where(
                silent, F32(mp.grievance_silent),
                np.where(resolved, F32(mp.grievance_resolved), F32(0))))
        # 9. Spending (before churn: a leaving customer still paid this month).
        sow = st["sow"][sl]
        sow_target = np.clip(h["sow0"][sl] + F32(mp.sow_cross_sell) * r_x + F32(mp.sow_kam) * r_kam
                             + F32(mp.sow_loyalty) * (L_new - F32(0.5)), 0.02, 1)
        sow = sow + F32(mp.sow_speed) * (sow_target - sow)
        m_stage = self.stage_spend[stage]
        expected = (h["wallet"][sl] * F32(mods["wallet_mult"]) * sow * m_stage
                    * (1 + F32(0.5) * d * price))
        q_buy = 1 - np.exp(-h["purchase_rate"][sl] * m_stage)
        buy = u[rngs.U_BUY, :n] < q_buy  # m_stage is 0 for inactive slots, so q_buy is 0
        if case.kind == "contractual":
            spend = expected
        else:
            spend = np.where(buy, expected / np.maximum(q_buy, F32(1e-6)), F32(0))
        # 8. Churn hazard.
        tenure = st["tenure"][sl].copy()
        logit = (h["logit_theta"][sl] - F32(mp.h_loyalty) * (L_new - F32(0.5))
                 - F32(mp.h_sat) * (S_new - F32(0.6)) + F32(mp.h_grievance) * G_new
                 - F32(mp.h_lockin) * C_new - F32(mp.h_kam) * r_kam
                 + self.stage_hazard[stage] - self.log_tenure[tenure]
                 + segp["h_disc"][seg] + F32(mods["hazard_shift"]))
        if mods["key_hazard_shift"]:
            logit += F32(mods["key_hazard_shift"]) * h["key_resp"][sl]
        hz = _sigmoid(logit)
        if case.kind == "noncontractual":
            hz = np.where(buy, hz, F32(0))
        churn = active & (u[rngs.U_CHURN, :n] < hz) if not self.history else np.zeros(n, bool)
        # Money (inactive slots have zero spend through m_stage).
        revenue = spend * p_now
        gm = spend * (F32(case.population.margin_rate) - d)
        rewards_paid = segp["rw_rate"][seg] * revenue
        # 10. Stages with a minimum dwell.
        dwell = st["dwell"][sl]
        can = active & (dwell >= mp.min_dwell)
        bought = st["bought"][sl] | buy
        new_stage = stage.copy()
        low = (S_new < mp.decline_sat) | (L_new < mp.decline_loyalty) | (
            expected < F32(mp.decline_spend) * st["spend_mean"][sl])
        up_ok = (L_new > mp.stable_loyalty) & (S_new > mp.stable_sat)
        new_stage[can & (stage == EXPLORE) & (tenure + 1 >= mp.explore_months) & bought] = FORM
        new_stage[can & (stage == FORM) & up_ok] = STABLE
        new_stage[can & ((stage == FORM) | (stage == STABLE)) & low] = DECLINE
        new_stage[can & (stage == DECLINE) & (S_new > mp.recover_sat)
                  & (L_new > mp.recover_loyalty)] = FORM
        new_stage[churn] = CHURNED
        changed = new_stage != stage
        # Write back.
        st["S"][sl] = S_new
        st["L"][sl] = L_new
        st["E"][sl] = E_new
        st["C"][sl] = C_new
        st["G"][sl] = G_new
        st["pref"][sl] = pref + F32(mp.ref_price_speed) * (p_now - pref)
        st["sow"][sl] = sow
        st["spend_mean"][sl] += F32(2 / 7) * (expected - st["spend_mean"][sl])
        st["tenure"][sl] = tenure + active
        st["dwell"][sl] = np.where(changed, 0, dwell + active)
        st["stage"][sl] = new_stage
        st["complaints"][sl] += complain
        st["bought"][sl] = bought & ~changed
        h["wallet"][sl] *= np.where(active, h["growth"][sl], F32(1))
        self.last_buy[sl][buy] = t
        self.buys[sl] += buy
        self.revenue[sl] += revenue
        margin = gm - rewards_paid
        self.margin[sl] += margin
        self.month_margin[sl] = margin
        self.hazard[sl] = hz
        left = np.flatnonzero(churn)
        if left.size:
            self.churn_month[sl][left] = t
            self.exit_sat[sl][left] = S_new[left]
        agg.add(self.seg_key[sl] + stage, active, new_stage < CHURNED, churn, revenue, gm,
                rewards_paid, S_new, L_new, complain, resolved, unresolved, silent, fail, buy)
        if self.sample_idx.size:
            self.outcome[sl] = resolved * 1 + unresolved * 2 + silent * 3
            if left.size:
                self._capture_terms(sl, churn, h, L_new, S_new, G_new, C_new, r_kam, stage,
                                    tenure, d, mods)

    # -- records -------------------------------------------------------------------------
    def _record(self, t, agg, n_seg, levers_cost, acq_cost, acquired) -> None:
        rewards = agg.by_segment("rewards")
        service = levers_cost + rewards
        seg_cols = {k: agg.by_segment(k) for k in ("alive", "churned", "revenue", "gm",
                                                   "complaints", "resolved", "sat", "loy")}
        for s in range(self.S):
            self.seg_rows.append({
                "month": t, "segment": self.cp.segments[s], "active_start": n_seg[s],
                "active_end": seg_cols["alive"][s], "churned": seg_cols["churned"][s],
                "revenue": seg_cols["revenue"][s], "gross_margin": seg_cols["gm"][s],
                "service_cost": service[s], "complaints": seg_cols["complaints"][s],
                "resolved": seg_cols["resolved"][s], "sat_sum": seg_cols["sat"][s],
                "loyalty_sum": seg_cols["loy"][s]})
        st_n, st_rev = agg.by_stage("active"), agg.by_stage("revenue")
        st_margin = agg.by_stage("gm") - agg.by_stage("rewards")
        for k in range(4):
            self.stage_rows.append(np.array([t, k, st_n[k], st_rev[k], st_margin[k]]))
        alive = max(agg.total("alive"), 1.0)
        row = {
            "month": t, "active_start": float(n_seg.sum()), "new": float(acquired.sum()),
            "active_end": agg.total("alive"), "churned": agg.total("churned"),
            "revenue": agg.total("revenue"), "gross_margin": agg.total("gm"),
            "lever_cost": float(levers_cost.sum()), "rewards_cost": float(rewards.sum()),
            "acquisition_cost": acq_cost, "failures": agg.total("failures"),
            "complaints": agg.total("complaints"), "resolved": agg.total("resolved"),
            "unresolved": agg.total("unresolved"), "silent": agg.total("silent"),
            "buyers": agg.total("buyers"), "avg_satisfaction": agg.total("sat") / alive,
            "avg_loyalty": agg.total("loy") / alive, "affection_share": agg.total("affection") / alive,
            "defection_share": agg.total("defection") / alive,
        }
        for ch, k in zip(CHANNELS, acquired, strict=True):
            row[f"new_{ch}"] = float(k)
        for k, key in enumerate(STAGE_NAMES[:4]):
            row[f"stage_{key}"] = float(st_n[k])
        row["service_cost"] = row["lever_cost"] + row["rewards_cost"] + acq_cost
        row["profit"] = row["gross_margin"] - row["service_cost"]
        self.rows.append(row)

    def choose_sample(self, size: int) -> None:
        """A fixed random sample of initial customers followed month by month."""
        gen = rngs.stream(self.seed, rngs.SAMPLE)
        k = min(size, self.n0)
        self.sample_idx = np.sort(gen.choice(self.n0, size=k, replace=False)) if k else self.sample_idx
        m = self.months
        self.sample = {key: np.full((m, k), np.nan, np.float32) for key in
                       ("S", "L", "hazard", "spend")}
        self.sample["stage"] = np.full((m, k), -1, np.int8)
        self.sample["complaint"] = np.zeros((m, k), np.int8)  # 0 none, 1 resolved, 2 unresolved
        self.sample["terms"] = np.zeros((k, len(HAZARD_TERMS)), np.float32)
        self.sample_pos = {int(i): j for j, i in enumerate(self.sample_idx)}

    def _capture_terms(self, sl, churn, h, L, S, G, C, r_kam, stage, tenure, d, mods) -> None:
        """Split the hazard of sampled customers who churned this month into its terms."""
        mp = self.mp
        lo, hi = np.searchsorted(self.sample_idx, [sl.start, sl.stop])
        if lo == hi:
            return
        idx = self.sample_idx[lo:hi]
        j = idx - sl.start
        terms = np.stack([
            h["logit_theta"][idx], -mp.h_loyalty * (L[j] - 0.5), -mp.h_sat * (S[j] - 0.6),
            mp.h_grievance * G[j], -mp.h_lockin * C[j], -mp.h_kam * r_kam[j],
            mp.h_explore * (stage[j] == EXPLORE) + mp.h_decline * (stage[j] == DECLINE),
            -self.log_tenure[tenure[j]],
            -mp.h_discount * np.minimum(d[j], mp.deep_discount) + mp.h_deep_discount * (
                d[j] > mp.deep_discount),
            np.full(len(j), mods["hazard_shift"]) + mods["key_hazard_shift"] * h["key_resp"][idx],
        ], axis=1).astype(np.float32)
        left = churn[j]
        self.sample["terms"][lo:hi][left] = terms[left]

    def _record_sample(self, t: int) -> None:
        idx = self.sample_idx
        st = self.st
        alive_before = self.entry[idx] < t
        live = (st["stage"][idx] < CHURNED) | (self.churn_month[idx] == t)
        k = t - 1
        self.sample["S"][k] = np.where(live, st["S"][idx], np.nan)
        self.sample["L"][k] = np.where(live, st["L"][idx], np.nan)
        self.sample["hazard"][k] = np.where(live, self.hazard[idx], np.nan)
        self.sample["stage"][k] = np.where(live | alive_before, st["stage"][idx], -1)
        self.sample["complaint"][k] = self.outcome[idx]
        self.sample["spend"][k] = np.where(live, self.month_margin[idx], np.nan)


def event_modifiers_none(case: Case) -> dict[str, float]:
    """Modifiers with no events (the status-quo history before the case starts)."""
    return {"hazard_shift": 0.0, "key_hazard_shift": 0.0, "p_fail": case.model.p_fail,
            "quality_shift": 0.0, "value_shift": 0.0, "wallet_mult": 1.0, "kam_capacity": 1.0}


class _Agg:
    """Per-month accumulators filled block by block.

    Every metric of a block is one row of a float32 matrix; one matrix product with the
    one-hot of (segment, stage at month start) sums them all by segment and stage at once.
    """

    METRICS = ("active", "alive", "churned", "revenue", "gm", "rewards", "complaints",
               "resolved", "unresolved", "silent", "failures", "buyers", "sat", "loy",
               "affection", "defection")

    def __init__(self, n_seg: int):
        self.n_seg = n_seg
        self.sums = np.zeros((len(self.METRICS), n_seg * 4))

    def add(self, key, active, alive, churn, revenue, gm, rewards, S, L, complain, resolved,
            unresolved, silent, fail, buy) -> None:
        n = len(key)
        rows = np.empty((len(self.METRICS), n), F32)
        rows[0] = active
        rows[1] = alive
        rows[2] = churn
        rows[3] = revenue
        rows[4] = gm
        rows[5] = rewards
        rows[6] = complain
        rows[7] = resolved
        rows[8] = unresolved
        rows[9] = silent
        rows[10] = fail
        rows[11] = buy
        np.multiply(S, alive, out=rows[12])
        np.multiply(L, alive, out=rows[13])
        rows[14] = alive & (S > 0.85)
        rows[15] = alive & (S < 0.5)
        idx = np.flatnonzero(active)
        onehot = np.zeros((n, self.n_seg * 4), F32)
        onehot[idx, key[idx]] = 1
        self.sums += rows @ onehot

    def by_segment(self, name: str) -> np.ndarray:
        """Monthly total of one metric per segment."""
        return self.sums[self.METRICS.index(name)].reshape(self.n_seg, 4).sum(axis=1)

    def by_stage(self, name: str) -> np.ndarray:
        """Monthly total of one metric per stage at the start of the month."""
        return self.sums[self.METRICS.index(name)].reshape(self.n_seg, 4).sum(axis=0)

    def total(self, name: str) -> float:
        """Monthly total of one metric."""
        return float(self.sums[self.METRICS.index(name)].sum())


# -- public API ------------------------------------------------------------------------------
def _concat(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {k: np.concatenate([a[k], b[k]], axis=-1) for k in a}


def _prospects(case: Case, seed: int, count: int) -> tuple[dict, np.ndarray]:
    """Traits of ``count`` prospect slots, drawn per fixed block so slot luck is plan-free."""
    from crmsim.population import draw_traits

    parts, man = [], []
    for b in range(math.ceil(count / PROSPECT_BLOCK)):
        gen = rngs.stream(seed, rngs.PROSPECTS, b)
        parts.append(draw_traits(gen, PROSPECT_BLOCK, case.population))
        man.append(gen.random(PROSPECT_BLOCK).astype(F32))
    traits = {k: np.concatenate([p[k] for p in parts], axis=-1)[..., :count] for k in parts[0]}
    return traits, np.concatenate(man)[:count]


def prospect_capacity(case: Case, plan_acq: np.ndarray, months: int) -> int:
    """Upper bound on customers the plan's acquisition budget can bring in ``months``."""
    per_month = 0.0
    for ch, money in zip(CHANNELS, plan_acq, strict=True):
        if money > 0 and ch in case.acquisition:
            mult = case.model.referral_max_mult if ch == "referral" else 1.0
            per_month += money / case.acquisition[ch].cost * max(mult, 1.0)
    return int(math.ceil(per_month * months)) + (len(CHANNELS) if per_month else 0)


def run_history(pop, case: Case, months: int, seed: int) -> dict:
    """Simulate the status-quo history of an existing book, without churn (they are survivors).

    Returns the end state and the observed purchase summary (RFM, revenue, complaints).
    """
    from crmsim.segmentation import provisional_frame, segment

    hidden = pop.hidden
    n = len(pop.customers)
    tenure_end = pop.customers["tenure_months"].to_numpy().astype(np.int64)
    entry = np.where(tenure_end >= months, 0, months + 1 - tenure_end).astype(np.int16)
    tenure0 = np.maximum(tenure_end - months, 0)
    gen = rngs.stream(seed, rngs.POPULATION, 99)
    state = initial_state(hidden, tenure0, case.model, gen, entry)
    frame = provisional_frame(pop.customers, hidden)
    seg = segment(frame, case.status_quo.segmentation.method, case.status_quo.segmentation.params,
                  seed=seed)
    cp = compile_plan(case.status_quo, seg.names, seg.labels, frame["monetary"].to_numpy(),
                      scale=n / case.population.customers)
    order = np.lexsort((-cp.value, cp.seg)).astype(np.int64)
    state["pref"][:] = 1 - cp.levers[cp.seg, L_DISC].astype(F32)
    run = _Run(case, hidden, state, cp, cp.seg, seed, months, 1, True, entry, order, n, None)
    for t in range(1, months + 1):
        run.step(t)
    late = state["stage"] == INACTIVE
    run._activate(np.flatnonzero(late), months + 1)
    active_months = np.clip(months + 1 - np.maximum(entry, 1), 0, months).astype(np.float64)
    recency = np.where(run.last_buy >= 0, months - run.last_buy, months).astype(np.int32)
    observed = {
        "recency": recency, "frequency": run.buys.astype(np.int32),
        "monetary": np.round(run.revenue / np.maximum(active_months, 1), 2),
        "revenue": np.round(run.revenue, 2), "complaints": state["complaints"].astype(np.int32),
    }
    return {"state": state, "observed": observed}


def simulate(pop, case: Case, plan: Plan, months: int | None = None, seed: int | None = None,
             segmentation=None, sample_size: int = SAMPLE_SIZE,
             progress: Callable[[int, int], None] | None = None) -> SimResult:
    """Run ``plan`` on ``pop`` for ``months`` under ``case``; the same seed gives the same luck.

    ``segmentation`` (a ``segmentation.Segmentation``) is computed from the plan's method when
    not given. The population is not modified.
    """
    from crmsim.segmentation import segment_for_case

    months = case.months if months is None else int(months)
    seed = pop.seed if seed is None else int(seed)
    if segmentation is None:
        segmentation = segment_for_case(pop.customers, plan.segmentation.method,
                                        plan.segmentation.params, case, seed)
    cp = compile_plan(plan, segmentation.names, segmentation.labels,
                      pop.customers["monetary"].to_numpy(), segmentation.new_segment,
                      scale=pop.n / case.population.customers)
    n0 = pop.n
    hidden = {k: v.copy() for k, v in pop.hidden.items()}
    state = {k: v.copy() for k, v in pop.state.items()}
    seg = cp.seg
    entry = np.zeros(n0, np.int16)
    cap = prospect_capacity(case, cp.acquisition, months)
    prospects = None
    value = cp.value
    if cap:
        traits, man_u = _prospects(case, seed, cap)
        hidden = _concat(hidden, {k: traits[k] for k in hidden})
        extra = initial_state(traits, np.zeros(cap), case.model, rngs.stream(seed, rngs.PROSPECTS,
                                                                               10_000),
                              np.ones(cap, np.int16))
        state = _concat(state, extra)
        seg = np.concatenate([seg, np.full(cap, cp.new_segment, np.int16)])
        entry = np.concatenate([entry, np.full(cap, months + 1, np.int16)])
        value = np.concatenate([value, np.zeros(cap)])
        prospects = {"man_u": man_u}
    order = np.lexsort((-value, seg)).astype(np.int64)
    run = _Run(case, hidden, state, cp, seg, seed, months, 0, False, entry, order, n0, prospects)
    run.choose_sample(sample_size)
    for t in range(1, months + 1):
        run.step(t)
        if progress is not None:
            progress(t, months)
    return _result(run, case, pop, plan, seed, months, segmentation)


def _result(run: _Run, case: Case, pop, plan: Plan, seed: int, months: int,
            segmentation) -> SimResult:
    monthly = pd.DataFrame(run.rows)
    by_seg = pd.DataFrame(run.seg_rows)
    by_stage = pd.DataFrame(np.array(run.stage_rows),
                            columns=["month", "stage", "active", "revenue", "margin"])
    by_stage[["month", "stage"]] = by_stage[["month", "stage"]].astype(int)
    used = run.next_slot
    st = run.st
    churned = run.churn_month[:used] > 0
    customers = pd.DataFrame({
        "slot": np.arange(used), "segment": run.seg[:used].astype(np.int16),
        "entry_month": run.entry[:used], "start_stage": run.start_stage[:used],
        "end_stage": st["stage"][:used], "churn_month": run.churn_month[:used],
        "revenue": run.revenue[:used], "margin": run.margin[:used],
        "last_margin": np.where(churned, 0, run.month_margin[:used]),
        "hazard": np.where(churned, np.nan, run.hazard[:used]),
        "satisfaction": np.where(churned, run.exit_sat[:used], st["S"][:used]),
        "complaints": st["complaints"][:used],
    })
    sample = dict(run.sample)
    sample["slots"] = run.sample_idx
    meta = {"seed": seed, "case_id": case.id, "case_version": case.version, "plan": plan.name,
            "months": months, "customers": pop.n, "versions": versions(),
            "segmentation": segmentation.method, "currency": case.currency,
            "scale": pop.n / case.population.customers,
            "events": [{"month": e.month, "kind": e.kind, "param": e.param,
                        "title_zh": e.title.zh, "title_en": e.title.en}
                       for e in case.events if e.month <= months]}
    return SimResult(case.id, plan.name, seed, months, list(run.cp.segments), monthly, by_seg,
                     by_stage, run.transitions, run.sat_hist, run.cohorts, customers, sample, meta)
