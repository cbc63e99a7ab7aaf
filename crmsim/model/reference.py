"""The engine's oracle: docs/model.md applied one customer at a time, in plain float64 Python.

It reads the same random numbers as the engine (slot ``i``'s uniforms of each month) and writes
every step of the month out again, for reading rather than speed. Tests compare its monthly
sums and per-customer results with the vectorised engine's; the benchmark reports how much
faster the engine is on the same run. Setup that is not monthly dynamics (segmentation, plan
compilation, prospect traits) is shared with the engine.
"""

from __future__ import annotations

import math

from crmsim import rng as rngs
from crmsim.model.acquisition import MAN_LOGIT, MAN_WALLET, capacity, prospect_slots
from crmsim.model.case import Case
from crmsim.model.month import FAST, RESOLVED, SILENT, UNRESOLVED, event_modifiers
from crmsim.model.plan import CHANNELS, LEVERS, Plan
from crmsim.model.run import compile_for
from crmsim.model.state import (
    CHURNED,
    DECLINE,
    EXPLORE,
    FORM,
    NEW_LOYALTY,
    NEW_SATISFACTION,
    STABLE,
)

CARE, RECOVERY, CROSS_SELL, KAM, REWARDS, DISCOUNT = range(len(LEVERS))


def _sig(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


class Customer:
    """One slot's traits and state as plain Python numbers."""

    def __init__(self, i: int, tr, st, seg: int):
        self.i, self.seg = i, seg
        self.wallet = float(tr.wallet[i])
        self.sow0 = float(tr.sow0[i])
        self.logit_theta = float(tr.logit_theta[i])
        self.price = float(tr.price_sens[i])
        self.e0 = float(tr.expectation0[i])
        self.voice = float(tr.voice[i])
        self.beta = [float(b) for b in tr.beta[:, i]]
        self.rate = float(tr.purchase_rate[i])
        self.fit = float(tr.fit[i])
        self.growth = float(tr.growth[i])
        self.key_resp = float(tr.key_resp[i])
        for k in ("S", "L", "E", "C", "G", "pref", "sow", "spend_mean"):
            setattr(self, k, float(getattr(st, k)[i]))
        self.stage = int(st.stage[i])
        self.dwell = int(st.dwell[i])
        self.tenure = int(st.tenure[i])
        self.complaints = int(st.complaints[i])
        self.bought = bool(st.bought[i])
        self.churn_month = -1
        self.revenue = 0.0
        self.margin = 0.0
        self.problem = 0
        self.val_margin = 0.0
        self.val_hazard = 0.0


class ReferenceRun:
    """Forward simulation of one plan, customer by customer."""

    def __init__(self, pop, case: Case, plan: Plan, months: int, seed: int, segmentation):
        self.case, self.mp, self.months, self.seed = case, case.model, months, seed
        cp = compile_for(pop, case, plan, segmentation)
        self.cp, self.n0 = cp, pop.n
        self.lev = cp.levers.tolist()
        tr, st = pop.traits.copy(), pop.state.copy()
        seg = [int(s) for s in cp.seg]
        self.value = [float(v) for v in cp.value]
        cap = capacity(case, cp.acquisition, months + case.model.valuation_months, pop.n)
        self.man_u: list[float] = []
        if cap:
            p_tr, p_st, man_u = prospect_slots(case, seed, cap)
            tr, st = tr.concat(p_tr), st.concat(p_st)
            seg += [cp.new_segment] * cap
            self.value += [0.0] * cap
            self.man_u = [float(x) for x in man_u]
        self.people = [Customer(i, tr, st, seg[i]) for i in range(len(seg))]
        self.next_slot = self.n0
        self.m_stage = [*self.mp.stage_spend, 0.0, 0.0]
        scale = pop.n / case.population.customers
        acq = case.acquisition
        self.pool = [
            acq[ch].pool * case.population.customers * scale
            if ch in acq and ch != "referral"
            else 0.0
            for ch in CHANNELS
        ]
        self.pool_full = list(self.pool)
        self.carry = [0.0] * len(CHANNELS)
        self.affection = 0.0
        self.reputation = [self.mp.recovery_floor] * len(cp.segments)
        self.monthly: list[dict] = []

    # -- acquisition ----------------------------------------------------------------------
    def _acquire(self, t: int) -> int:
        acq, mp = self.case.acquisition, self.mp
        got = []
        for ci, ch in enumerate(CHANNELS):
            money = float(self.cp.acquisition[ci])
            if ch not in acq:
                got.append(0)
                continue
            pool = mp.referral_rate * self.affection if ch == "referral" else self.pool[ci]
            won = (
                pool * (1 - math.exp(-money / (acq[ch].cost * pool)))
                if money > 0 and pool > 0
                else 0.0
            )
            if ch != "referral":
                rest = self.pool[ci] - won
                self.pool[ci] = rest + acq[ch].refill * (self.pool_full[ci] - rest)
            self.carry[ci] += won
            k = math.floor(self.carry[ci] + 1e-9)
            self.carry[ci] -= k
            got.append(k)
        for ci, k in enumerate(got):
            for _ in range(k):
                c = self.people[self.next_slot]
                if self.man_u[self.next_slot - self.n0] >= acq[CHANNELS[ci]].man:
                    c.wallet *= MAN_WALLET
                    c.logit_theta += MAN_LOGIT
                c.stage, c.dwell, c.tenure = EXPLORE, 0, 0
                c.S, c.L, c.E, c.C, c.G = NEW_SATISFACTION, NEW_LOYALTY, c.e0, 0.0, 0.0
                c.sow, c.complaints, c.bought = c.sow0, 0, False
                c.pref = 1.0 - self.lev[c.seg][DISCOUNT]
                self.next_slot += 1
        return sum(got)

    # -- one month ------------------------------------------------------------------------
    def step(self, t: int) -> None:
        """One month for every customer, steps 1–10 of docs/model.md §3 in order."""
        mp, case, costs = self.mp, self.case, self.case.costs
        mods = event_modifiers(case, t)
        new = self._acquire(t) if any(self.cp.acquisition) else 0
        active = [c for c in self.people[: self.next_slot] if c.stage < CHURNED]
        S_ = len(self.cp.segments)
        n_seg = [0] * S_
        for c in active:
            n_seg[c.seg] += 1
        doses = self._doses(active, n_seg, mods)
        fat = doses[3]
        month_u = rngs.MonthlyStreams(self.seed).uniforms(0, t, self.next_slot).tolist()

        def u(i: int, k: int) -> float:
            return month_u[k][i]

        resp, fails, k_seg = self._responses_and_failures(active, doses, mods, u)
        dose = [self.lev[s][RECOVERY] / max(k_seg[s], 1) / costs.recovery for s in range(S_)]
        fast_share = [1 - math.exp(-b / mp.recovery_fast_cost) for b in dose]
        resolved_seg = [0] * S_
        tot = dict.fromkeys(
            ("churned", "revenue", "gm", "rewards", "sat", "loy", "affection", "alive"), 0.0
        )
        tot.update(dict.fromkeys(("failures", "silent", "unresolved", "resolved", "fast"), 0))
        for c in active:
            lv = self.lev[c.seg]
            r_rw = resp[c.i][3]
            d = lv[DISCOUNT]
            fail = fails.get(c.i)
            v = self._delivered_value(
                c, lv, resp[c.i], fail, fat[c.seg], mods, u(c.i, rngs.U_NOISE)
            )
            outcome = 0
            if fail:
                outcome = self._complaint_outcome(c, fail, dose[c.seg], fast_share[c.seg])
                resolved_seg[c.seg] += outcome >= RESOLVED
            dis = self._satisfaction(c, v, fail, outcome)
            if fail:
                tot["failures"] += 1
                tot[("", "silent", "unresolved", "resolved", "fast")[outcome]] += 1
                if self.people[c.i].problem == 0:
                    c.problem = outcome
            self._attitudes(c, dis, r_rw, fail, outcome)  # steps 5–7
            hz, churn, expected, spend = self._churn_and_spend(c, resp[c.i], d, mods, u)  # 8, 9
            # 10. Stages.
            old = c.stage
            if c.dwell >= mp.min_dwell:
                c.stage = self._next_stage(c, expected)
            if churn:
                c.stage = CHURNED
                c.churn_month = t
            c.spend_mean += 2 / 7 * (expected - c.spend_mean)
            c.tenure += 1
            c.dwell += 1
            if c.stage != old:
                c.dwell = 0
                c.bought = False
            self._book_month(c, lv, spend, churn, hz, n_seg[c.seg], t, tot)
        for s in range(S_):  # complaint reputation: the share resolved this month
            if k_seg[s]:
                share = resolved_seg[s] / k_seg[s]
                self.reputation[s] += mp.reputation_speed * (share - self.reputation[s])
        for c in active:
            if c.stage < CHURNED and c.growth != 1:
                c.wallet *= c.growth
        self.affection = tot["affection"]
        if t <= self.months:
            self.monthly.append(self._month_row(t, len(active), new, tot))

    def _churn_and_spend(self, c, resp, d: float, mods: dict, u) -> tuple:
        """Steps 8–9: the month's purchase and churn draws (in a shop dropout only follows a
        purchase), share of wallet and spending."""
        mp = self.mp
        _, r_kam, r_x, _ = resp
        contractual = self.case.kind == "contractual"
        # 8. Churn hazard.
        q_buy = 1 - math.exp(-c.rate * self.m_stage[c.stage])
        buy = (not contractual) and u(c.i, rngs.U_BUY) < q_buy
        hz = _sig(self._hazard_logit(c, r_kam, d, mods))
        if not contractual and not buy:
            hz = 0.0
        uc = u(c.i, rngs.U_CHURN)
        churn = uc < hz
        if contractual:
            buy = (not churn) and c.stage == EXPLORE and (uc - hz) < q_buy * (1 - hz)
        # 9. Spending.
        target = c.sow0 + mp.sow_loyalty * (c.L - 0.5) + mp.sow_cross_sell * r_x
        target += mp.sow_kam * r_kam
        c.sow += mp.sow_speed * (min(max(target, 0.02), 1.0) - c.sow)
        expected = c.wallet * c.sow * self.m_stage[c.stage] * mods["wallet_mult"]
        expected *= 1 + 0.5 * d * c.price
        if contractual:
            spend = expected
        else:
            spend = expected / max(q_buy, 1e-6) if buy else 0.0
        c.bought = c.bought or buy
        return hz, churn, expected, spend

    def _attitudes(self, c, dis: float, r_rw: float, fail, outcome: int) -> None:
        """Steps 5–7: expectations ratchet, loyalty toward the Jones–Sasser curve and lock-in,
        grievance from the problem's outcome."""
        mp = self.mp
        c.E += (mp.expect_up if dis > 0 else mp.expect_down) * dis  # 5
        c.L += mp.loyalty_speed * (_sig(mp.loyalty_slope * (c.S - mp.loyalty_mid)) - c.L)  # 6
        c.C += mp.lockin_decay * (r_rw - c.C)
        c.G *= mp.grievance_decay  # 7
        if fail:
            g = {
                SILENT: mp.grievance_silent,
                UNRESOLVED: mp.grievance_unresolved,
                RESOLVED: mp.grievance_resolved,
                FAST: mp.grievance_fast,
            }[outcome]
            c.G += (1.0 if fail[0] else mp.minor_severity) * g

    def _book_month(self, c, lv, spend, churn, hz, n_seg: int, t: int, tot: dict) -> None:
        """The month's money for one customer, the month's totals, and in the last valuation
        months her smoothed margin net of service and hazard (§5)."""
        mp, costs = self.mp, self.case.costs
        d = lv[DISCOUNT]
        g_rate = self.case.population.margin_rate
        margin = spend * (g_rate - d - lv[REWARDS] * (1 - d))
        c.revenue += spend * (1 - d)
        c.margin += margin
        tot["revenue"] += spend * (1 - d)
        tot["gm"] += spend * (g_rate - d)
        tot["rewards"] += lv[REWARDS] * spend * (1 - d)
        if churn:
            tot["churned"] += 1
        else:
            tot["alive"] += 1
            tot["sat"] += c.S
            tot["loy"] += c.L
            tot["affection"] += c.S >= 0.85
        if t > self.months and t > self.months + mp.valuation_months - mp.valuation_smoothing:
            k = min(mp.valuation_smoothing, mp.valuation_months)
            cost = (lv[CARE] + lv[RECOVERY] + lv[CROSS_SELL] + lv[KAM] * costs.kam_salary) / max(
                n_seg, 1
            )
            c.val_margin += (margin - cost) * (not churn) / k
            c.val_hazard += (hz if not churn else 1.0) / k

    def _doses(self, active: list, n_seg: list[int], mods: dict) -> tuple:
        """Each segment's dose response g = 1 − e^(−u) for care, marketing and rewards, its
        bounded fatigue, the managers' Hill term, and the accounts they cover (§2)."""
        mp, costs = self.mp, self.case.costs
        g_care, g_x, g_rw, fat, hill, cap = [], [], [], [], [], []
        for s in range(len(self.cp.segments)):
            lv, n = self.lev[s], max(n_seg[s], 1)
            u_care = lv[CARE] / n / costs.care
            u_x = lv[CROSS_SELL] / n / costs.cross_sell
            g_care.append(1 - math.exp(-u_care))
            g_x.append(1 - math.exp(-u_x))
            g_rw.append(1 - math.exp(-lv[REWARDS] / costs.rewards_ref))
            over = 0.0
            for u in (u_care, u_x):
                over += 1 - math.exp(-max(u - mp.fatigue_dose, 0.0) / mp.fatigue_dose)
            fat.append(mp.fatigue * over)
            served = lv[KAM] * costs.kam_accounts * mods["kam_capacity"]
            covered_n = min(n_seg[s], served)
            u_kam = served / covered_n if covered_n > 0 else 0.0
            hill.append(u_kam**2 / (1 + u_kam**2))
            cap.append(served)
        covered: set[int] = set()
        for s, served in enumerate(cap):
            if served > 0:  # managers serve the highest observed value first
                members = sorted(
                    (c for c in active if c.seg == s), key=lambda c: (-self.value[c.i], c.i)
                )
                covered.update(c.i for rank, c in enumerate(members, 1) if rank <= served)
        return g_care, g_x, g_rw, fat, hill, covered

    def _responses_and_failures(self, active: list, doses: tuple, mods: dict, u) -> tuple:
        """Responses, step 1 (failures) and the voice part of step 3, for everyone first:
        complaint money per complaint needs the month's complaints."""
        mp = self.mp
        g_care, g_x, g_rw, _, hill, covered = doses
        any_x = any(lv[CROSS_SELL] > 0 for lv in self.lev)
        any_rw = any(lv[REWARDS] > 0 for lv in self.lev)
        resp, fails = {}, {}
        k_seg = [0] * len(self.cp.segments)
        for c in active:
            r_care = c.beta[CARE] * g_care[c.seg]
            r_kam = c.beta[KAM] * hill[c.seg] if c.i in covered else 0.0
            r_x = c.beta[CROSS_SELL] * g_x[c.seg] * (c.L > 0.3) if any_x else 0.0
            r_rw = c.beta[REWARDS] * g_rw[c.seg] if any_rw else 0.0
            resp[c.i] = (r_care, r_kam, r_x, r_rw)
            p_f = mods["p_fail"] * (1 - mp.care_fail_cut * r_care)
            uf = u(c.i, rngs.U_FAIL)
            if uf < p_f:
                w = uf / p_f
                major = w < mp.major_share
                uv = w / mp.major_share if major else (w - mp.major_share) / (1 - mp.major_share)
                x = mp.voice_intercept + mp.voice_sat * (0.6 - c.S) + mp.voice_major * major
                p_voice = c.voice * _sig(x) * (1 + mp.voice_boost * self.reputation[c.seg])
                voiced = uv < p_voice
                fails[c.i] = (major, voiced, uv / max(p_voice, 1e-12))
                k_seg[c.seg] += voiced
        return resp, fails, k_seg

    def _delivered_value(self, c, lv, resp, fail, fatigue: float, mods: dict, u_noise) -> float:
        """Step 2: V = quality + price gain against the reference price + rewards (the
        reference price then adapts)."""
        mp = self.mp
        r_care, r_kam, r_x, r_rw = resp
        half = mp.quality_noise * math.sqrt(3.0)
        q = (u_noise - 0.5) * 2 * half
        q += mp.quality_base + mods["quality_shift"] - mods["value_shift"] + c.fit
        q += mp.q_care * r_care + mp.q_kam * r_kam
        q += (mp.q_cross_sell if c.S >= 0.5 else -mp.cross_sell_annoy) * r_x
        q -= fatigue
        if fail:
            q -= mp.q_fail
        price = 1 - lv[DISCOUNT]
        v = q + mp.price_weight * c.price * c.beta[DISCOUNT] * (c.pref - price) / c.pref
        v += mp.rewards_value * r_rw
        c.pref += mp.ref_price_speed * (price - c.pref)
        return v

    def _complaint_outcome(self, c, fail, dose: float, fast_share: float) -> int:
        """Step 3: silent, or voiced and unresolved / resolved / resolved fast, from the
        segment's money per complaint."""
        mp = self.mp
        _, voiced, u_res = fail
        if not voiced:
            return SILENT
        p_ok = mp.recovery_floor + mp.recovery_gain * (1 - math.exp(-c.beta[RECOVERY] * dose))
        if u_res >= p_ok:
            return UNRESOLVED
        return FAST if u_res < p_ok * fast_share else RESOLVED

    def _satisfaction(self, c, v: float, fail, outcome: int) -> float:
        """Step 4: expectation–disconfirmation with loss aversion, then the problem's outcome
        (the recovery paradox for a first minor problem fixed fast); returns V − E."""
        mp = self.mp
        dis = v - c.E
        f = dis if dis >= 0 else mp.loss_aversion * dis
        target = min(
            max(mp.sat_intercept + mp.sat_value * (v - 0.6) + mp.sat_disconfirm * f, 0.0), 1.0
        )
        c.S = mp.sat_memory * c.S + (1 - mp.sat_memory) * target
        if fail:
            keep = {
                SILENT: mp.silent_mult,
                UNRESOLVED: mp.unresolved_mult,
                RESOLVED: mp.resolved_mult,
                FAST: 1.0,
            }[outcome]
            c.S *= keep
            if outcome == FAST and not fail[0] and c.complaints == 0:
                c.S = min(c.S + mp.recovery_lift, 1.0)
            if outcome >= UNRESOLVED:
                c.complaints += 1
        return dis

    def _hazard_logit(self, c, r_kam: float, d: float, mods: dict) -> float:
        """Step 8: the churn hazard's logit, one term per driver."""
        mp = self.mp
        stage_h = (mp.h_explore, 0.0, 0.0, mp.h_decline)[c.stage]
        return (
            c.logit_theta
            - mp.h_loyalty * (c.L - 0.5)
            - mp.h_sat * (c.S - 0.6)
            + mp.h_grievance * c.G
            - mp.h_lockin * c.C
            - mp.h_kam * r_kam
            + stage_h
            - mp.h_tenure * math.log1p(c.tenure)
            - mp.h_discount * min(d, mp.deep_discount)
            + mp.h_deep_discount * (d > mp.deep_discount)
            + mods["hazard_shift"]
            + mods["key_hazard_shift"] * c.key_resp
        )

    def _next_stage(self, c, expected: float) -> int:
        """Step 10: the lifecycle stage after the minimum dwell."""
        mp, old = self.mp, c.stage
        low = (
            c.S < mp.decline_sat
            or c.L < mp.decline_loyalty
            or expected < mp.decline_spend * c.spend_mean
        )
        up = c.L > mp.stable_loyalty and c.S > mp.stable_sat
        if old == EXPLORE and c.bought and c.tenure >= mp.explore_months - 1:
            return FORM
        if old in (FORM, STABLE) and low:
            return DECLINE
        if old == FORM and up:
            return STABLE
        if old == DECLINE and c.S > mp.recover_sat and c.L > mp.recover_loyalty:
            return FORM
        return old

    @staticmethod
    def _month_row(t: int, n_active: int, new: int, tot: dict) -> dict:
        alive = max(tot["alive"], 1.0)
        return {
            "month": t,
            "active_start": float(n_active),
            "new": float(new),
            "active_end": tot["alive"],
            "churned": tot["churned"],
            "revenue": tot["revenue"],
            "gross_margin": tot["gm"],
            "rewards_cost": tot["rewards"],
            "complaints": tot["unresolved"] + tot["resolved"] + tot["fast"],
            "resolved": tot["resolved"] + tot["fast"],
            "resolved_fast": tot["fast"],
            "unresolved": tot["unresolved"],
            "silent": tot["silent"],
            "failures": tot["failures"],
            "avg_satisfaction": tot["sat"] / alive,
            "avg_loyalty": tot["loy"] / alive,
        }


def reference_simulate(
    pop, case: Case, plan: Plan, months: int, seed: int, segmentation=None
) -> ReferenceRun:
    """Run the per-customer reference model, valuation months included; returns the run with
    ``monthly`` (the horizon's months) and ``people``."""
    from crmsim.segmentation import segment_for_case

    if segmentation is None:
        segmentation = segment_for_case(
            pop.customers, plan.segmentation.method, plan.segmentation.params, case, seed
        )
    run = ReferenceRun(pop, case, plan, months, seed, segmentation)
    for t in range(1, months + case.model.valuation_months + 1):
        run.step(t)
        if t == months:  # each customer at the horizon
            run.horizon = [(c.churn_month, c.margin, c.revenue) for c in run.people]
    return run
