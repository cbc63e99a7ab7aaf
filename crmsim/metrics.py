"""KPIs, retention curves, cohorts, CLV three ways, ROI and the balanced score (DESIGN §3.4).

Everything here is computed from a ``SimResult``'s aggregates and per-customer end vectors.
Money is in the case currency; rates are monthly unless named otherwise.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmsim.model.case import Case
from crmsim.model.month import HAZARD_TERMS
from crmsim.model.outputs import SimResult
from crmsim.model.state import CHURNED, N_STAGES

KPI_KEYS = (
    "customers_start",
    "active_end",
    "churned",
    "retention_rate",
    "monthly_churn",
    "revenue",
    "gross_margin",
    "service_cost",
    "profit",
    "npv",
    "customer_equity_end",
    "score",
    "roi_vs_status_quo",
    "avg_satisfaction_end",
    "complaints",
    "recovery_rate",
)


def _discounts(months: int, rate: float) -> np.ndarray:
    return (1 + rate) ** -np.arange(1, months + 1)


def npv(result: SimResult, case: Case) -> float:
    """Net present value of monthly profit (gross margin − service cost) at the case rate."""
    m = result.monthly
    return float((m["profit"].to_numpy() * _discounts(len(m), case.monthly_discount)).sum())


def annuity(hazard: np.ndarray, monthly_rate: float, horizon: int) -> np.ndarray:
    """Σ_{k=1..H} ((1 − h)/(1 + d))^k: months of margin a customer with monthly hazard h is
    worth over a horizon of H months, discounted."""
    r = (1 - np.asarray(hazard, np.float64)) / (1 + monthly_rate)
    return np.where(r < 1, r * (1 - r**horizon) / np.where(r < 1, 1 - r, 1), horizon)


def customer_equity(result: SimResult, case: Case) -> float:
    """Terminal customer equity at the end of the run (docs/model.md §5): the final plan
    played on for ``valuation_months`` without acquisition (the profit of those months,
    discounted), then each customer still there valued at her margin net of her share of the
    service money and her hazard, both averaged over the last ``valuation_smoothing`` of those
    months, capitalised over ``equity_horizon`` months. No change confined to the final
    months can dress this up: whatever the final plan does plays on before it is valued."""
    d = case.monthly_discount
    profit = np.asarray(result.valuation["profit"], np.float64)
    played = float((profit * _discounts(len(profit), d)).sum())
    c = result.customers
    alive = c["equity_alive"].to_numpy()
    margin = c["equity_margin"].to_numpy(np.float64)[alive]
    hazard = c["equity_hazard"].to_numpy(np.float64)[alive]
    rest = float((margin * annuity(hazard, d, case.model.equity_horizon)).sum())
    return played + rest * (1 + d) ** -len(profit)


def score(result: SimResult, case: Case) -> float:
    """Balanced score: NPV of profit plus terminal customer equity discounted to today, so
    cutting service in the last months does not win."""
    back = (1 + case.monthly_discount) ** -result.months
    return npv(result, case) + customer_equity(result, case) * back


def service_cost_npv(result: SimResult, case: Case) -> float:
    """Present value of service spending (levers, rewards, acquisition)."""
    m = result.monthly
    return float((m["service_cost"].to_numpy() * _discounts(len(m), case.monthly_discount)).sum())


def roi(result: SimResult, baseline: SimResult, case: Case) -> float | None:
    """Extra balanced score over ``baseline`` (same population and seed) per unit of this
    plan's service money, both in present value. Against the zero-service plan this is the
    classic return on service spending; against the status quo it says how much better each
    unit of the plan's spend does. None when the plan spends nothing."""
    cost = service_cost_npv(result, case)
    if cost <= 0:
        return None
    return float((score(result, case) - score(baseline, case)) / cost)


def kpis(result: SimResult, case: Case, status_quo: SimResult | None = None) -> dict:
    """The headline numbers of a run (keys in ``KPI_KEYS``)."""
    m = result.monthly
    start = float(result.cohorts[0, 0])
    acquired = float(m["new"].sum())
    end = float(m["active_end"].iloc[-1])
    complaints = float(m["complaints"].sum())
    at_risk = float(m["active_start"].sum())
    return {
        "customers_start": int(start),
        "acquired": int(acquired),
        "active_end": int(end),
        "churned": int(m["churned"].sum()),
        "retention_rate": float(result.cohorts[0, -1] / start) if start else 0.0,
        "monthly_churn": float(m["churned"].sum() / at_risk) if at_risk else 0.0,
        "revenue": float(m["revenue"].sum()),
        "gross_margin": float(m["gross_margin"].sum()),
        "service_cost": float(m["service_cost"].sum()),
        "profit": float(m["profit"].sum()),
        "npv": npv(result, case),
        "customer_equity_end": customer_equity(result, case),
        "score": score(result, case),
        "roi_vs_status_quo": roi(result, status_quo, case) if status_quo is not None else None,
        "avg_satisfaction_end": float(m["avg_satisfaction"].iloc[-1]),
        "complaints": int(complaints),
        "recovery_rate": float(m["resolved"].sum() / complaints) if complaints else None,
    }


def segment_summary(result: SimResult, case: Case) -> pd.DataFrame:
    """Per segment over the run: customers, churn, money, satisfaction, complaints, CLV."""
    bs = result.by_segment
    g = bs.groupby("segment", sort=False)
    last = bs[bs["month"] == result.months].set_index("segment")
    cust = result.customers
    start = np.bincount(cust["segment"][cust["entry_month"] == 0], minlength=len(result.segments))
    out = pd.DataFrame(
        {
            "segment": result.segments,
            "customers_start": start,
            "active_end": last["active_end"].reindex(result.segments).to_numpy(),
            "churned": g["churned"].sum().reindex(result.segments).to_numpy(),
            "revenue": g["revenue"].sum().reindex(result.segments).to_numpy(),
            "gross_margin": g["gross_margin"].sum().reindex(result.segments).to_numpy(),
            "service_cost": g["service_cost"].sum().reindex(result.segments).to_numpy(),
            "complaints": g["complaints"].sum().reindex(result.segments).to_numpy(),
            "resolved": g["resolved"].sum().reindex(result.segments).to_numpy(),
        }
    )
    at_risk = g["active_start"].sum().reindex(result.segments).to_numpy()
    out["monthly_churn"] = np.where(at_risk > 0, out["churned"] / np.maximum(at_risk, 1), 0.0)
    out["profit"] = out["gross_margin"] - out["service_cost"]
    end = last.reindex(result.segments)
    out["avg_satisfaction_end"] = (end["sat_sum"] / end["active_end"].replace(0, np.nan)).to_numpy()
    out["recovery_rate"] = out["resolved"] / out["complaints"].replace(0, np.nan)
    clv = clv_by_segment(result, case)
    return out.merge(clv, on="segment", how="left")


def kaplan_meier(result: SimResult) -> pd.DataFrame:
    """Kaplan–Meier survival by segment over months since joining (late entrants censored at
    the end of the run). Columns: segment, month, survival, at_risk."""
    c = result.customers
    entry = c["entry_month"].to_numpy().astype(int)
    churned = c["churn_month"].to_numpy() > 0
    exit_month = np.where(churned, c["churn_month"].to_numpy(), result.months)
    duration = exit_month - entry
    rows = []
    for s, name in enumerate(result.segments):
        mask = c["segment"].to_numpy() == s
        dur, ev = duration[mask], churned[mask]
        horizon = result.months
        deaths = np.bincount(dur[ev], minlength=horizon + 1)[: horizon + 1]
        leaving = np.bincount(dur, minlength=horizon + 1)[: horizon + 1]
        at_risk = mask.sum() - np.concatenate([[0], np.cumsum(leaving)[:-1]])
        hazard = np.where(at_risk > 0, deaths / np.maximum(at_risk, 1), 0.0)
        surv = np.cumprod(1 - hazard)
        surv[0] = 1.0
        for k in range(horizon + 1):
            rows.append(
                {
                    "segment": name,
                    "month": k,
                    "survival": float(surv[k]),
                    "at_risk": int(at_risk[k]),
                }
            )
    return pd.DataFrame(rows)


def cohort_table(result: SimResult) -> pd.DataFrame:
    """Share of each entry cohort still active at the end of each month (0 = starting book)."""
    sizes = np.concatenate([[result.cohorts[0, 0]], result.monthly["new"].to_numpy()])
    rows = []
    for c in range(result.months + 1):
        if sizes[c] <= 0:
            continue
        for t in range(c, result.months + 1):
            rows.append(
                {
                    "cohort": c,
                    "month": t,
                    "age": t - c,
                    "retention": float(result.cohorts[c, t] / sizes[c]) if t > c or c == 0 else 1.0,
                }
            )
    return pd.DataFrame(rows)


def stage_matrix(result: SimResult) -> np.ndarray:
    """Monthly transition probabilities between stages (rows: from, columns: to; 流失 absorbs)."""
    counts = result.transitions.sum(axis=0).astype(float)
    p = np.zeros((N_STAGES, N_STAGES))
    totals = counts.sum(axis=1)
    for i in range(N_STAGES):
        p[i] = counts[i] / totals[i] if totals[i] > 0 else np.eye(N_STAGES)[i]
    p[CHURNED] = np.eye(N_STAGES)[CHURNED]
    return p


def clv_by_segment(result: SimResult, case: Case) -> pd.DataFrame:
    """CLV per customer three ways: realised over the run, the retention formula
    m·r/(1+d−r) capped at the equity horizon, and a Markov chain on the stage matrix."""
    d = case.monthly_discount
    horizon = case.model.equity_horizon
    bs = result.by_segment
    c = result.customers
    seg = c["segment"].to_numpy()
    # Realised: margin minus the segment's service cost, per customer who was ever in it.
    ever = np.bincount(seg, minlength=len(result.segments)).astype(float)
    margin = np.bincount(seg, c["margin"].to_numpy(), minlength=len(result.segments))
    cost = bs.groupby("segment", sort=False)["service_cost"].sum().reindex(result.segments)
    realised = (margin - cost.to_numpy()) / np.maximum(ever, 1)
    # Retention formula with the segment's average churn and margin per active month.
    g = bs.groupby("segment", sort=False)
    at_risk = g["active_start"].sum().reindex(result.segments).to_numpy()
    churn = g["churned"].sum().reindex(result.segments).to_numpy() / np.maximum(at_risk, 1)
    m_month = margin / np.maximum(at_risk, 1)
    r = (1 - churn) / (1 + d)
    formula = m_month * r * (1 - r**horizon) / np.where(r < 1, 1 - r, 1)
    # Markov chain: expected discounted margin from each stage, weighted by the start mix.
    p = stage_matrix(result)
    st = result.by_stage
    stage_n = st.groupby("stage")["active"].sum().reindex(range(4), fill_value=0).to_numpy()
    stage_m = st.groupby("stage")["margin"].sum().reindex(range(4), fill_value=0).to_numpy()
    m_stage = np.concatenate([stage_m / np.maximum(stage_n, 1), [0.0]])
    value = np.zeros(N_STAGES)
    step = np.eye(N_STAGES)
    for k in range(horizon):
        value += step @ m_stage / (1 + d) ** k
        step = step @ p
    start = c["start_stage"].to_numpy()
    markov = np.zeros(len(result.segments))
    for s in range(len(result.segments)):
        mask = (seg == s) & (start < CHURNED)
        if mask.any():
            markov[s] = value[start[mask]].mean()
    return pd.DataFrame(
        {
            "segment": result.segments,
            "clv_realised": realised,
            "clv_formula": formula,
            "clv_markov": markov,
        }
    )


def top_share(values: np.ndarray, share: float = 0.2) -> float:
    """Share of the total held by the top ``share`` of customers (0.2 → the 80/20 check)."""
    v = np.sort(np.asarray(values, dtype=float))[::-1]
    total = v.sum()
    k = max(round(len(v) * share), 1)
    return float(v[:k].sum() / total) if total > 0 else 0.0


def summary_json(result: SimResult, case: Case, status_quo: SimResult | None = None) -> dict:
    """What ``python -m crmsim simulate --json`` writes: KPIs, by segment, monthly, metadata."""
    out = kpis(result, case, status_quo)
    seg = segment_summary(result, case)
    out["by_segment"] = {
        row["segment"]: {k: _plain(v) for k, v in row.items() if k != "segment"}
        for row in seg.to_dict("records")
    }
    cols = [
        "month",
        "active_start",
        "new",
        "churned",
        "active_end",
        "revenue",
        "gross_margin",
        "service_cost",
        "profit",
        "avg_satisfaction",
        "avg_loyalty",
        "complaints",
        "resolved",
        "failures",
    ]
    out["monthly"] = [
        {k: _plain(v) for k, v in row.items()} for row in result.monthly[cols].to_dict("records")
    ]
    out["meta"] = result.meta
    return out


def _plain(v):
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, float | np.floating):
        return None if not np.isfinite(v) else float(v)
    return v


def run_story(result: SimResult, case: Case, status_quo: SimResult | None = None) -> dict:
    """Facts for a plain-language summary of a run, all computed from it: retention and profit
    against the status quo, the segment that lost most, and the hazard term that pushed the
    sampled leavers out most."""
    k = kpis(result, case, status_quo)
    seg = segment_summary(result, case)
    worst = seg.sort_values("monthly_churn", ascending=False).iloc[0]
    terms = result.sample.get("terms")
    driver = None
    if terms is not None and np.isfinite(terms).any():
        gone = np.isfinite(terms).all(axis=1)
        # the push of each term above its average among those who stayed is not observed;
        # rank the terms that raised the hazard most on average among the leavers
        mean = terms[gone][:, 1:].mean(axis=0)  # leave out personal frailty (not actionable)
        driver = HAZARD_TERMS[1 + int(np.argmax(mean))]
    out = {
        "retention": k["retention_rate"],
        "profit": k["profit"],
        "satisfaction": k["avg_satisfaction_end"],
        "worst_segment": str(worst["segment"]),
        "worst_churn": float(worst["monthly_churn"]),
        "driver": driver,
    }
    if status_quo is not None and status_quo is not result:
        base = kpis(status_quo, case)
        out["retention_delta"] = k["retention_rate"] - base["retention_rate"]
        out["profit_delta"] = k["profit"] - base["profit"]
        out["score_delta"] = k["score"] - base["score"]
    return out


def incremental_roi(result: SimResult, without: SimResult, case: Case) -> float | None:
    """(score − score without it) ÷ (service money − service money without it), both in
    present value, on the same seed: the return of what was removed. None when removing it
    saves no service money (a discount costs margin, not service money)."""
    d_cost = service_cost_npv(result, case) - service_cost_npv(without, case)
    if d_cost <= 1e-9:
        return None
    return float((score(result, case) - score(without, case)) / d_cost)
