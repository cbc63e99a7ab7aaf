"""The monthly update (docs/model.md §3): one function per step, in the order they run.

Every function works on whole arrays of customer slots (numpy over customers; the loop is over
months only, in ``crmsim.model.run``). Arrays named as in the equations: S satisfaction, L
loyalty, E expectation, C lock-in, G grievance, V delivered value, D disconfirmation V − E,
h churn hazard; r_<lever> is a customer's response to a lever this month (her β times the
segment's dose response, ``crmsim.model.levers``). Uniforms come from ``crmsim.rng``: each slot
has its own number per purpose and month, alive or not (common random numbers), and rare
follow-ups reuse the residue of a uniform, which is again uniform given the outcome.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from crmsim.model.case import Case, ModelParams
from crmsim.model.state import CHURNED, DECLINE, EXPLORE, F32, FORM, STABLE, State, Traits

# Complaint outcomes: a problem nobody heard of, a complaint left unresolved, resolved slowly,
# resolved fast (TARP's four groups).
NO_PROBLEM, SILENT, UNRESOLVED, RESOLVED, FAST = range(5)
OUTCOMES = ("silent", "unresolved", "resolved", "fast")
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
EVENT_PARAMS_DEFAULT = {
    "hazard_shift": 0.0,
    "key_hazard_shift": 0.0,
    "quality_shift": 0.0,
    "value_shift": 0.0,
    "wallet_mult": 1.0,
    "kam_capacity": 1.0,
}


def sigmoid(x):
    """σ(x) = 1 / (1 + e^−x)."""
    return 1 / (1 + np.exp(-x))


@dataclass
class Responses:
    """Each customer's response to this month's levers; None for a lever nobody uses (its
    terms are then 0 and skipped)."""

    care: np.ndarray | None
    cross_sell: np.ndarray | None
    kam: np.ndarray | None
    rewards: np.ndarray | None
    discount: np.ndarray | None  # the customer's price discount d (None: no price ever cut)
    fatigue: np.ndarray | None  # quality taken back by over-serving


@dataclass
class Failures:
    """Step 1's outcome: who had a problem, how bad, and the uniform left for what follows."""

    idx: np.ndarray  # slots with a failure this month
    major: np.ndarray
    u: np.ndarray  # uniform again, given failure and severity


@dataclass
class Complaints:
    """Step 3's outcome for each failed customer (aligned with ``Failures.idx``)."""

    outcome: np.ndarray  # SILENT, UNRESOLVED, RESOLVED or FAST
    per_segment: np.ndarray  # complaints voiced per segment
    resolved_per_segment: np.ndarray


# -- 11. Events (applied first: they set this month's parameters) ---------------------------
def event_modifiers(case: Case, month: int | None) -> dict[str, float]:
    """Step 11 — the case's dated events in force in ``month``: each adds to or multiplies one
    named parameter (competitor entry → hazard_shift, outage → p_fail, …). None: no events."""
    mods = {**EVENT_PARAMS_DEFAULT, "p_fail": case.model.p_fail}
    for ev in case.events if month is not None else ():
        if ev.active(month):
            old = mods[ev.param]
            mods[ev.param] = old + ev.value if ev.op == "add" else old * ev.value
    mods["p_fail"] = min(max(mods["p_fail"], 0.0), 1.0)
    mods["wallet_mult"] = max(mods["wallet_mult"], 0.0)
    mods["kam_capacity"] = max(mods["kam_capacity"], 0.0)
    return mods


# -- 1. Failures ------------------------------------------------------------------------------
def failures(
    u_fail: np.ndarray, active: np.ndarray, r_care: np.ndarray, p_fail: float, mp: ModelParams
) -> Failures:
    """Step 1 — service failures: F ~ Bernoulli(p_fail · (1 − care_fail_cut · r_care)); a share
    ``major_share`` of them is major."""
    if r_care is None:
        p = np.full(len(u_fail), p_fail, F32)
    else:
        p = F32(p_fail) * (1 - F32(mp.care_fail_cut) * r_care)
    idx = np.flatnonzero(active & (u_fail < p))
    w = u_fail[idx] / p[idx]  # uniform on [0, 1) given the failure
    ms = F32(mp.major_share)
    major = w < ms
    u = np.where(major, w / max(ms, F32(1e-12)), (w - ms) / max(1 - ms, F32(1e-12)))
    return Failures(idx, major, u)


# -- 2. Delivered value -----------------------------------------------------------------------
def delivered_value(
    st: State,
    tr: Traits,
    r: Responses,
    fails: Failures,
    u_noise: np.ndarray,
    mods: dict,
    mp: ModelParams,
) -> np.ndarray:
    """Step 2 — customer delivered value 让渡价值:

    Q = quality_base + quality_shift + fit + ε + q_care·r_care + q_kam·r_kam
        + (q_cross_sell if S ≥ 0.5 else −cross_sell_annoy)·r_x − fatigue − q_fail·F,
    V = Q − value_shift + price_weight·π·β_discount·(P_ref − P)/P_ref + rewards_value·r_rw,

    with P = 1 − d the price paid and ε uniform noise of s.d. ``quality_noise``. The reference
    price then moves toward the price: P_ref += ref_price_speed·(P − P_ref), so a discount's
    gain fades and its withdrawal is felt as a loss.
    """
    half = F32(mp.quality_noise * math.sqrt(3.0))
    v = u_noise * (2 * half)
    v += F32(mp.quality_base + mods["quality_shift"] - mods["value_shift"]) - half
    v += tr.fit
    if r.care is not None:
        v += F32(mp.q_care) * r.care
    if r.kam is not None:
        v += F32(mp.q_kam) * r.kam
    if r.cross_sell is not None:
        offer = np.where(st.S >= F32(0.5), F32(mp.q_cross_sell), F32(-mp.cross_sell_annoy))
        v += offer * r.cross_sell
    if r.fatigue is not None:
        v -= r.fatigue
    v[fails.idx] -= F32(mp.q_fail)
    if r.discount is not None:
        price = 1 - r.discount
        v += F32(mp.price_weight) * tr.price_sens * tr.beta[5] * (st.pref - price) / st.pref
        st.pref += F32(mp.ref_price_speed) * (price - st.pref)
    if r.rewards is not None:
        v += F32(mp.rewards_value) * r.rewards
    return v


# -- 3. Complaints ----------------------------------------------------------------------------
def complaints(
    st: State,
    tr: Traits,
    seg: np.ndarray,
    fails: Failures,
    money: np.ndarray,
    reputation: np.ndarray,
    case: Case,
) -> Complaints:
    """Step 3 — who of the failed complains, and what becomes of the complaint:

    p_voice = voice · σ(voice_intercept + voice_sat·(0.6 − S) + voice_major·[major])
              · (1 + voice_boost · reputation),
    where a segment's reputation is its recent share of complaints resolved (customers speak
    up where complaints get fixed; most problems are never voiced — TARP);
    money per complaint b = R_segment / complaints in the segment (more complaints dilute it);
    p_resolved = recovery_floor + recovery_gain·(1 − e^(−β_recovery · b/b₀));
    a resolution is fast with probability 1 − e^(−b / (b₀·recovery_fast_cost)).
    """
    from crmsim.model.levers import recovery_per_complaint

    mp, i, n_segments = case.model, fails.idx, len(reputation)
    s = seg[i]
    x = mp.voice_intercept + mp.voice_sat * (F32(0.6) - st.S[i]) + mp.voice_major * fails.major
    p_voice = tr.voice[i] * sigmoid(x.astype(F32))
    p_voice *= (1 + mp.voice_boost * reputation[s]).astype(F32)
    voiced = fails.u < p_voice
    u = fails.u / np.maximum(p_voice, F32(1e-12))  # uniform again among those who voiced
    per_segment = np.bincount(seg[i[voiced]], minlength=n_segments).astype(np.float64)
    dose, fast_share = recovery_per_complaint(money, per_segment, case.costs, mp)
    p_ok = F32(mp.recovery_floor) + F32(mp.recovery_gain) * (1 - np.exp(-tr.beta[1, i] * dose[s]))
    resolved = voiced & (u < p_ok)
    fast = resolved & (u < p_ok * fast_share[s])
    outcome = np.full(i.size, SILENT, np.int8)
    outcome[voiced] = UNRESOLVED
    outcome[resolved] = RESOLVED
    outcome[fast] = FAST
    resolved_per_segment = np.bincount(s[resolved], minlength=n_segments).astype(np.float64)
    return Complaints(outcome, per_segment, resolved_per_segment)


def complaint_reputation(reputation: np.ndarray, comp: Complaints, mp: ModelParams) -> None:
    """Step 3, after the month: each segment's reputation for fixing complaints moves toward
    its share resolved this month, reputation += reputation_speed·(resolved/voiced − reputation)
    (unchanged in a month without complaints)."""
    voiced = comp.per_segment > 0
    share = comp.resolved_per_segment / np.maximum(comp.per_segment, 1)
    reputation[voiced] += mp.reputation_speed * (share[voiced] - reputation[voiced])


# -- 4. Satisfaction --------------------------------------------------------------------------
def satisfaction(
    st: State, v: np.ndarray, fails: Failures, comp: Complaints, mp: ModelParams
) -> np.ndarray:
    """Step 4 — expectation–disconfirmation with loss aversion:

    D = V − E;  f(D) = D if D ≥ 0 else loss_aversion·D;
    S* = clip(sat_intercept + sat_value·(V − 0.6) + sat_disconfirm·f(D), 0, 1);
    S ← sat_memory·S + (1 − sat_memory)·S*.

    A problem then leaves S × silent_mult (nobody heard), × unresolved_mult (complained, not
    resolved), × resolved_mult (resolved slowly), unchanged when resolved fast; a first minor
    problem resolved fast lifts S by recovery_lift (the recovery paradox). Returns D.
    """
    d = v - st.E
    loss = np.minimum(d, F32(0))
    target = F32(mp.sat_intercept - 0.6 * mp.sat_value) + F32(mp.sat_value) * v
    target += F32(mp.sat_disconfirm) * (d + F32(mp.loss_aversion - 1) * loss)
    np.clip(target, F32(0), F32(1), out=target)
    st.S *= F32(mp.sat_memory)
    st.S += F32(1 - mp.sat_memory) * target
    i = fails.idx
    keep = np.array([1.0, mp.silent_mult, mp.unresolved_mult, mp.resolved_mult, 1.0], F32)
    s = st.S[i] * keep[comp.outcome]
    paradox = (comp.outcome == FAST) & ~fails.major & (st.complaints[i] == 0)
    s[paradox] = np.minimum(s[paradox] + F32(mp.recovery_lift), F32(1))
    st.S[i] = s
    st.complaints[i] += comp.outcome >= UNRESOLVED
    return d


# -- 5. Expectations --------------------------------------------------------------------------
def expectations(st: State, d: np.ndarray, mp: ModelParams) -> None:
    """Step 5 — expectations ratchet: E += expect_up·D after a pleasant surprise (D > 0),
    E += expect_down·D after a shortfall; up is faster, so delight decays into a must-be."""
    st.E += np.where(d > 0, F32(mp.expect_up), F32(mp.expect_down)) * d


# -- 6. Loyalty -------------------------------------------------------------------------------
def loyalty(st: State, r_rewards: np.ndarray | None, mp: ModelParams, lockin: bool) -> None:
    """Step 6 — loyalty moves toward the Jones–Sasser curve of satisfaction,
    L += loyalty_speed·(σ(loyalty_slope·(S − loyalty_mid)) − L): defection below S ≈ 0.5,
    indifference in between, affection above ≈ 0.85. Lock-in from rewards:
    C ← (1 − lockin_decay)·C + lockin_decay·r_rw."""
    curve = sigmoid(F32(mp.loyalty_slope) * (st.S - F32(mp.loyalty_mid)))
    st.L += F32(mp.loyalty_speed) * (curve - st.L)
    if lockin:  # no rewards ever given: C stays 0
        st.C *= F32(1 - mp.lockin_decay)
        if r_rewards is not None:
            st.C += F32(mp.lockin_decay) * r_rewards


# -- 7. Grievance -----------------------------------------------------------------------------
def grievance(st: State, fails: Failures, comp: Complaints, mp: ModelParams) -> None:
    """Step 7 — grievance stock: G ← grievance_decay·G + severity·g(outcome), with g = 1.0
    silent, 0.7 unresolved, 0.25 resolved slowly, 0 fast (``grievance_*``) and severity 1 for a
    major problem, ``minor_severity`` for a minor one."""
    st.G *= F32(mp.grievance_decay)
    g = np.array(
        [
            0.0,
            mp.grievance_silent,
            mp.grievance_unresolved,
            mp.grievance_resolved,
            mp.grievance_fast,
        ],
        F32,
    )
    severity = np.where(fails.major, F32(1), F32(mp.minor_severity))
    st.G[fails.idx] += severity * g[comp.outcome]


# -- 8. Churn hazard --------------------------------------------------------------------------
def hazard_terms(
    st: State,
    tr: Traits,
    r: Responses,
    mods: dict,
    stage_hazard: np.ndarray,
    log_tenure: np.ndarray,
    mp: ModelParams,
    lockin: bool = True,
) -> dict[str, np.ndarray | float]:
    """Step 8a — the churn hazard's logit as a sum of named terms (``HAZARD_TERMS``):

    logit h = logit θ − h_loyalty·(L − 0.5) − h_sat·(S − 0.6) + h_grievance·G − h_lockin·C
              − h_kam·r_kam + [h_explore in 考察期, h_decline in 退化期] − h_tenure·ln(1 + tenure)
              − h_discount·min(d, deep) + h_deep_discount·[d > deep] + event shifts.
    """
    d, deep = r.discount, F32(mp.deep_discount)
    no = F32(0)  # a term whose lever nobody uses
    events = F32(mods["hazard_shift"])
    if mods["key_hazard_shift"]:
        events = events + F32(mods["key_hazard_shift"]) * tr.key_resp
    return {
        "frailty": tr.logit_theta,
        "loyalty": F32(-mp.h_loyalty) * (st.L - F32(0.5)),
        "satisfaction": F32(-mp.h_sat) * (st.S - F32(0.6)),
        "grievance": F32(mp.h_grievance) * st.G,
        "lock_in": F32(-mp.h_lockin) * st.C if lockin else no,
        "key_account": no if r.kam is None else F32(-mp.h_kam) * r.kam,
        "stage": stage_hazard[st.stage],
        "tenure": -log_tenure[st.tenure],
        "discount": no
        if d is None
        else F32(-mp.h_discount) * np.minimum(d, deep) + F32(mp.h_deep_discount) * (d > deep),
        "events": events,
    }


def churn(
    terms: dict,
    u_churn: np.ndarray,
    active: np.ndarray,
    bought: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Step 8b — h = σ(Σ terms); churn when U < h. In a non-contractual case (a shop, no
    contract) a customer can only drop out right after a purchase (BG/NBD), so h is 0 in a
    month without one. Returns h and who churned."""
    logit = terms["frailty"].copy()
    for name, term in terms.items():
        if name != "frailty" and (np.ndim(term) or term):
            logit += term
    h = sigmoid(logit)
    if bought is not None:
        h *= bought
    return h, active & (u_churn < h)


# -- 9. Spending ------------------------------------------------------------------------------
def spending(
    st: State, tr: Traits, r: Responses, m_stage: np.ndarray, mods: dict, mp: ModelParams
) -> np.ndarray:
    """Step 9 — share of wallet moves toward its target and the month's expected spend:

    SOW* = clip(SOW₀ + sow_loyalty·(L − 0.5) + sow_cross_sell·r_x + sow_kam·r_kam, 0.02, 1);
    SOW += sow_speed·(SOW* − SOW);
    spend = W·SOW·m_stage·wallet_mult·(1 + 0.5·d·π)   (a discount lifts volume a little).
    """
    target = tr.sow0 + F32(mp.sow_loyalty) * (st.L - F32(0.5))
    if r.cross_sell is not None:
        target += F32(mp.sow_cross_sell) * r.cross_sell
    if r.kam is not None:
        target += F32(mp.sow_kam) * r.kam
    np.clip(target, F32(0.02), F32(1), out=target)
    st.sow += F32(mp.sow_speed) * (target - st.sow)
    expected = tr.wallet * st.sow
    expected *= m_stage[st.stage]
    if mods["wallet_mult"] != 1:
        expected *= F32(mods["wallet_mult"])
    if r.discount is not None:
        expected *= 1 + F32(0.5) * r.discount * tr.price_sens
    return expected


# -- 10. Stages -------------------------------------------------------------------------------
def stages(
    st: State, active: np.ndarray, left: np.ndarray, expected: np.ndarray, mp: ModelParams
) -> np.ndarray:
    """Step 10 — lifecycle moves, each after ``min_dwell`` months in the stage:
    考察→形成 after ``explore_months`` and a purchase; 形成→稳定 when L > stable_loyalty and
    S > stable_sat; 形成/稳定→退化 when S < decline_sat, L < decline_loyalty or spend below
    decline_spend × its own 6-month mean; 退化→形成 when S > recover_sat and L > recover_loyalty;
    any → 流失 on churn. Returns the new stages."""
    stage, S, L = st.stage, st.S, st.L
    can = active & (st.dwell >= mp.min_dwell)
    low = (S < F32(mp.decline_sat)) | (L < F32(mp.decline_loyalty))
    low |= expected < F32(mp.decline_spend) * st.spend_mean
    up = (L > F32(mp.stable_loyalty)) & (S > F32(mp.stable_sat))
    back = (S > F32(mp.recover_sat)) & (L > F32(mp.recover_loyalty))
    ripe = st.bought & (st.tenure >= mp.explore_months - 1)  # this month completes 考察期
    new = stage.copy()
    new[can & (stage == EXPLORE) & ripe] = FORM
    new[can & (stage == FORM) & up] = STABLE
    new[can & ((stage == FORM) | (stage == STABLE)) & low] = DECLINE
    new[can & (stage == DECLINE) & back] = FORM
    new[left] = CHURNED
    return new
