"""A plain per-customer implementation of the monthly update: the engine's oracle.

It reads the same random numbers as ``engine`` (slot ``i``'s uniforms of block ``i // BLOCK``)
and applies DESIGN §3.3 one customer at a time in float64 Python arithmetic, written for
reading rather than speed. Tests compare its aggregates with the vectorised engine's; the
benchmark reports how much faster the engine is on the same run.

Setup (segmentation, plan compilation, prospect traits) is shared with the engine; everything
that happens in a month is written out again here.
"""

from __future__ import annotations

import math

import numpy as np

from crmsim import rng as rngs
from crmsim.cases import Case
from crmsim.engine import (
    CHURNED,
    DECLINE,
    EXPLORE,
    FORM,
    INACTIVE,
    L_CARE,
    L_DISC,
    L_KAM,
    L_REC,
    L_RW,
    L_X,
    MAN_LOGIT,
    MAN_WALLET,
    NEW_LOYALTY,
    NEW_SATISFACTION,
    STABLE,
    compile_for,
    event_modifiers,
    prospect_capacity,
    prospect_slots,
)
from crmsim.plans import CHANNELS, Plan


def _sig(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


class _Customer:
    """One customer's traits and state as plain Python numbers."""

    def __init__(self, i: int, h: dict, st: dict, seg: int):
        self.i, self.seg = i, seg
        self.wallet = float(h["wallet"][i])
        self.sow0 = float(h["sow0"][i])
        self.logit_theta = float(h["logit_theta"][i])
        self.price = float(h["price_sens"][i])
        self.e0 = float(h["expectation0"][i])
        self.voice = float(h["voice"][i])
        self.beta = [float(b) for b in h["beta"][:, i]]
        self.rate = float(h["purchase_rate"][i])
        self.fit = float(h["fit"][i])
        self.growth = float(h["growth"][i])
        self.key_resp = float(h["key_resp"][i])
        for k in ("S", "L", "E", "C", "G", "pref", "sow", "spend_mean", "q_buy"):
            setattr(self, k, float(st[k][i]))
        self.stage = int(st["stage"][i])
        self.dwell = int(st["dwell"][i])
        self.tenure = int(st["tenure"][i])
        self.complaints = int(st["complaints"][i])
        self.bought = bool(st["bought"][i])
        self.churn_month = -1
        self.revenue = 0.0
        self.margin = 0.0


class ReferenceRun:
    """Forward simulation of one plan, customer by customer."""

    def __init__(self, pop, case: Case, plan: Plan, months: int, seed: int, segmentation):
        self.case, self.mp, self.months, self.seed = case, case.model, months, seed
        cp = compile_for(pop, case, plan, segmentation)
        self.cp, self.n0 = cp, pop.n
        self.lev = cp.levers.tolist()
        h = {k: v.copy() for k, v in pop.hidden.items()}
        st = {k: v.copy() for k, v in pop.state.items()}
        seg = list(cp.seg.astype(int))
        value = list(cp.value)
        cap = prospect_capacity(case, cp.acquisition, months)
        self.man_u: list[float] = []
        if cap:
            traits, man_u, extra = prospect_slots(case, seed, cap)
            h = {k: np.concatenate([h[k], traits[k]], axis=-1) for k in h}
            st = {k: np.concatenate([st[k], extra[k]]) for k in st}
            seg += [cp.new_segment] * cap
            value += [0.0] * cap
            self.man_u = [float(x) for x in man_u]
        self.people = [_Customer(i, h, st, seg[i]) for i in range(len(seg))]
        self.value = value
        self.next_slot = self.n0
        self.carry = [0.0] * len(CHANNELS)
        self.prev_affection = 0.0
        self.monthly: list[dict] = []
        self.stage_spend = [*self.mp.stage_spend, 0.0, 0.0]
        self.price_live = bool((st["pref"] != 1).any() or (cp.levers[:, L_DISC] > 0).any())
        self.c_live = bool((st["C"] != 0).any() or (cp.levers[:, L_RW] > 0).any())

    # -- helpers ------------------------------------------------------------------------
    def _q_buy(self, c: _Customer) -> float:
        return 1 - math.exp(-c.rate * self.stage_spend[c.stage])

    def _activate(self, c: _Customer) -> None:
        c.stage, c.dwell, c.tenure = EXPLORE, 0, 0
        c.S, c.L, c.E, c.C, c.G = NEW_SATISFACTION, NEW_LOYALTY, c.e0, 0.0, 0.0
        c.sow, c.complaints, c.bought = c.sow0, 0, False
        c.pref = 1.0 - self.lev[c.seg][L_DISC]
        c.spend_mean = c.wallet * c.sow0 * self.stage_spend[EXPLORE]
        c.q_buy = self._q_buy(c)

    def _acquire(self) -> int:
        acq = self.case.acquisition
        got_total = 0
        for ci, ch in enumerate(CHANNELS):
            money = self.cp.acquisition[ci]
            if ch not in acq:
                continue
            mult = 1.0
            if ch == "referral":
                mult = min(
                    self.mp.referral_max_mult, self.prev_affection / self.mp.referral_affection
                )
            self.carry[ci] += money / acq[ch].cost * mult
        got = [math.floor(c + 1e-9) for c in self.carry]
        for ci, k in enumerate(got):
            self.carry[ci] -= k
            for _ in range(k):
                c = self.people[self.next_slot]
                if self.man_u[self.next_slot - self.n0] >= acq[CHANNELS[ci]].man:
                    c.wallet *= MAN_WALLET
                    c.logit_theta += MAN_LOGIT
                self._activate(c)
                self.next_slot += 1
                got_total += 1
        return got_total

    # -- one month ----------------------------------------------------------------------
    def step(self, t: int) -> None:
        mp, case, costs = self.mp, self.case, self.case.costs
        mods = event_modifiers(case, t)
        new = self._acquire() if self.cp.acquisition.any() else 0
        n_seg_count = len(self.cp.segments)
        active = [c for c in self.people if c.stage < CHURNED]
        n_seg = [0] * n_seg_count
        for c in active:
            n_seg[c.seg] += 1
        # Per-segment doses.
        g_care, g_x, g_rw, hill, q0, h_disc, covered_n = [], [], [], [], [], [], []
        covered: set[int] = set()
        for s in range(n_seg_count):
            lv = self.lev[s]
            n = max(n_seg[s], 1)
            u_care = lv[L_CARE] / n / costs.care
            u_x = lv[L_X] / n / costs.cross_sell
            fat = mp.fatigue * (
                max(u_care - mp.fatigue_dose, 0) ** 2 + max(u_x - mp.fatigue_dose, 0) ** 2
            )
            g_care.append(1 - math.exp(-u_care))
            g_x.append(1 - math.exp(-u_x))
            g_rw.append(1 - math.exp(-lv[L_RW] / costs.rewards_ref))
            q0.append(
                mp.quality_base + mods["quality_shift"] - fat - mp.quality_noise * math.sqrt(3.0)
            )
            d = lv[L_DISC]
            h_disc.append(
                -mp.h_discount * min(d, mp.deep_discount)
                + mp.h_deep_discount * (d > mp.deep_discount)
            )
            capacity = lv[L_KAM] * 2 * costs.kam_accounts * mods["kam_capacity"]
            if capacity > 0:  # managers serve the highest observed value first
                members = sorted(
                    (c for c in active if c.seg == s), key=lambda c: (-self.value[c.i], c.i)
                )
                covered.update(c.i for rank, c in enumerate(members, 1) if rank <= capacity)
            cov = min(n_seg[s], math.floor(capacity))
            u_kam = (
                lv[L_KAM] * costs.kam_accounts * mods["kam_capacity"] / max(cov, 1)
                if cov > 0
                else 0.0
            )
            covered_n.append(cov)
            hill.append(u_kam**2 / (1 + u_kam**2))
        bool(covered)
        any_x = any(lv[L_X] > 0 for lv in self.lev)
        any_rw = any(lv[L_RW] > 0 for lv in self.lev)
        # Slot i's draws this month: the i-th number of each purpose's stream.
        month_u = rngs.MonthlyStreams(self.seed).uniforms(0, t, len(self.people)).tolist()

        def u(i: int, k: int) -> float:
            return month_u[k][i]

        # Phase A: failures and complaints.
        pf = mods["p_fail"]
        fails = {}
        k_seg = [0] * n_seg_count
        for c in active:
            r_care = c.beta[L_CARE] * g_care[c.seg]
            p_f = pf - pf * mp.care_fail_cut * r_care
            uf = u(c.i, rngs.U_FAIL)
            if uf < p_f:
                w = uf / p_f  # uniform given the failure: major or minor, then the voice draw
                major = w < mp.major_share
                uv = w / mp.major_share if major else (w - mp.major_share) / (1 - mp.major_share)
                x = mp.voice_intercept + mp.voice_sat * (0.6 - c.S) + mp.voice_major * major
                p_voice = c.voice * _sig(x)
                complain = uv < p_voice
                fails[c.i] = (major, complain, uv / max(p_voice, 1e-12))
                k_seg[c.seg] += complain
        b_rel = [self.lev[s][L_REC] / max(k_seg[s], 1) / costs.recovery for s in range(n_seg_count)]
        fast_share = [1 - math.exp(-b) for b in b_rel]
        # Phase B.
        tot = dict.fromkeys(
            (
                "churned",
                "revenue",
                "gross_margin",
                "rewards",
                "complaints",
                "resolved",
                "unresolved",
                "silent",
                "failures",
                "sat",
                "loy",
                "affection",
                "alive",
            ),
            0.0,
        )
        stage_haz = [mp.h_explore, 0, 0, mp.h_decline, 0, 0]
        for c in active:
            lv = self.lev[c.seg]
            r_care = c.beta[L_CARE] * g_care[c.seg]
            r_kam = c.beta[L_KAM] * hill[c.seg] if c.i in covered else 0.0
            r_x = c.beta[L_X] * g_x[c.seg] * (c.L > 0.3) if any_x else 0.0
            r_rw = c.beta[L_RW] * g_rw[c.seg] if any_rw else 0.0
            q = (
                q0[c.seg]
                + u(c.i, rngs.U_NOISE) * 2 * mp.quality_noise * math.sqrt(3.0)
                + c.fit
                + mp.q_care * r_care
                + mp.q_kam * r_kam
            )
            if any_x:
                q += (mp.q_cross_sell if c.S >= 0.5 else -mp.cross_sell_annoy) * r_x
            fail = fails.get(c.i)
            if fail:
                q -= mp.q_fail
            v = q - mods["value_shift"]
            d = lv[L_DISC] if self.price_live else 0.0
            p_now = 1 - d
            if self.price_live:
                v += mp.price_weight * c.price * c.beta[L_DISC] * (c.pref - p_now) / c.pref
                c.pref += mp.ref_price_speed * (p_now - c.pref)
            v += mp.rewards_value * r_rw
            dis = v - c.E
            s_star = (
                mp.sat_intercept
                + mp.sat_value * (v - 0.6)
                + mp.sat_disconfirm * dis
                + mp.sat_disconfirm * (mp.loss_aversion - 1) * min(dis, 0.0)
            )
            s_new = mp.sat_memory * c.S + (1 - mp.sat_memory) * min(max(s_star, 0.0), 1.0)
            c.E += (mp.expect_up if dis > 0 else mp.expect_down) * dis
            c.G *= mp.grievance_decay
            if fail:
                major, complain, u_res = fail
                tot["failures"] += 1
                p_ok = mp.recovery_floor + mp.recovery_gain * (
                    1 - math.exp(-c.beta[L_REC] * b_rel[c.seg])
                )
                resolved = complain and u_res < p_ok
                fast = resolved and u_res < p_ok * fast_share[c.seg]
                severity = 1.0 if major else mp.minor_severity
                if resolved:
                    if fast and not major and c.complaints == 0:
                        s_new = min(s_new + mp.recovery_lift, 1.0)
                    c.G += severity * mp.grievance_resolved
                    tot["resolved"] += 1
                elif complain:
                    s_new *= mp.unresolved_mult
                    c.G += severity * mp.grievance_unresolved
                    tot["unresolved"] += 1
                else:
                    s_new *= mp.silent_mult
                    c.G += severity * mp.grievance_silent
                    tot["silent"] += 1
                if complain:
                    c.complaints += 1
                    tot["complaints"] += 1
            c.S = s_new
            c.L += mp.loyalty_speed * (_sig(mp.loyalty_slope * (c.S - mp.loyalty_mid)) - c.L)
            if self.c_live:
                c.C = (1 - mp.lockin_decay) * c.C + mp.lockin_decay * r_rw
            target = (
                c.sow0 + mp.sow_loyalty * (c.L - 0.5) + mp.sow_cross_sell * r_x + mp.sow_kam * r_kam
            )
            c.sow += mp.sow_speed * (min(max(target, 0.02), 1.0) - c.sow)
            expected = (
                c.wallet
                * c.sow
                * self.stage_spend[c.stage]
                * mods["wallet_mult"]
                * (1 + 0.5 * d * c.price)
            )
            contractual = case.kind == "contractual"
            buy = False if contractual else u(c.i, rngs.U_BUY) < c.q_buy
            if contractual:
                spend = expected
            else:
                spend = expected / max(c.q_buy, 1e-6) if buy else 0.0
            logit = (
                c.logit_theta
                - mp.h_loyalty * (c.L - 0.5)
                - mp.h_sat * (c.S - 0.6)
                + mp.h_grievance * c.G
                + stage_haz[c.stage]
                + mods["hazard_shift"]
                - mp.h_tenure * math.log1p(c.tenure)
                - mp.h_lockin * c.C
                - mp.h_kam * r_kam
                + (h_disc[c.seg] if self.price_live else 0.0)
                + mods["key_hazard_shift"] * c.key_resp
            )
            hz = _sig(logit)
            if case.kind == "noncontractual" and not buy:
                hz = 0.0
            uc = u(c.i, rngs.U_CHURN)
            churn = uc < hz
            if contractual and not churn:  # the churn draw's residue decides purchases
                buy = (uc - hz) / (1 - hz) < c.q_buy
            revenue = spend * p_now
            gm = spend * (case.population.margin_rate - d)
            rewards = lv[L_RW] * revenue
            # Stages.
            c.bought = c.bought or buy
            old = c.stage
            can = c.dwell >= mp.min_dwell
            low = (
                mp.decline_sat > c.S
                or mp.decline_loyalty > c.L
                or expected < mp.decline_spend * c.spend_mean
            )
            if can and old == EXPLORE and c.bought and c.tenure + 1 >= mp.explore_months:
                c.stage = FORM
            elif can and old in (FORM, STABLE) and low:
                c.stage = DECLINE
            elif can and old == FORM and mp.stable_loyalty < c.L and mp.stable_sat < c.S:
                c.stage = STABLE
            elif can and old == DECLINE and mp.recover_sat < c.S and mp.recover_loyalty < c.L:
                c.stage = FORM
            if churn:
                c.stage = CHURNED
                c.churn_month = t
            c.spend_mean += 2 / 7 * (expected - c.spend_mean)
            c.tenure += 1
            c.dwell += 1
            if c.stage != old:
                c.dwell = 0
                c.bought = False
                c.q_buy = self._q_buy(c)
            c.revenue += revenue
            c.margin += gm - rewards
            tot["revenue"] += revenue
            tot["gross_margin"] += gm
            tot["rewards"] += rewards
            if churn:
                tot["churned"] += 1
            else:
                tot["alive"] += 1
                tot["sat"] += c.S
                tot["loy"] += c.L
                tot["affection"] += c.S >= 0.85  # the top three bins of the histogram
        for c in active:
            if c.stage < CHURNED and c.growth != 1:
                c.wallet *= c.growth
        alive = max(tot["alive"], 1.0)
        self.prev_affection = tot["affection"] / alive
        self.monthly.append(
            {
                "month": t,
                "active_start": float(len(active)),
                "new": float(new),
                "active_end": tot["alive"],
                "churned": tot["churned"],
                "revenue": tot["revenue"],
                "gross_margin": tot["gross_margin"],
                "rewards_cost": tot["rewards"],
                "complaints": tot["complaints"],
                "resolved": tot["resolved"],
                "unresolved": tot["unresolved"],
                "silent": tot["silent"],
                "failures": tot["failures"],
                "avg_satisfaction": tot["sat"] / alive,
                "avg_loyalty": tot["loy"] / alive,
            }
        )


def reference_simulate(
    pop, case: Case, plan: Plan, months: int, seed: int, segmentation=None
) -> ReferenceRun:
    """Run the per-customer reference model; returns the run with ``monthly`` and customers."""
    from crmsim.segmentation import segment_for_case

    if segmentation is None:
        segmentation = segment_for_case(
            pop.customers, plan.segmentation.method, plan.segmentation.params, case, seed
        )
    run = ReferenceRun(pop, case, plan, months, seed, segmentation)
    for t in range(1, months + 1):
        run.step(t)
    return run


__all__ = ["INACTIVE", "ReferenceRun", "reference_simulate"]
