"""The lessons' experiments (``crmsim.lessons``): each runs a small experiment on a case and
returns its facts (numbers computed from the runs) and ``chart``, the data of its chart.

One function per lesson, named for it; its last argument is the lesson's knob, the one thing
besides the seed a learner can change, with the default the lesson's claims are about.
"""

from __future__ import annotations

import numpy as np

from crmsim.cases import Case
from crmsim.metrics import clv_by_segment, incremental_roi, kpis, top_share
from crmsim.model.month import FAST, RESOLVED, SILENT, UNRESOLVED
from crmsim.model.outputs import SimResult
from crmsim.model.run import simulate
from crmsim.plans import Levers, Plan, SegmentationSpec, preset_plan
from crmsim.population import Population
from crmsim.segmentation import segment, segment_for_case

STAGES = ("exploration", "formation", "stability", "decline")


def chart(kind: str, x: list, series: dict[str, list], title: str, **axes: object) -> dict:
    """A lesson chart as data (the core draws nothing): ``kind`` "bar" or "line", x values
    (catalog keys when ``x_keys``), one list per series named by its catalog key, the title's
    key under ``lesson_chart.``, and axis options (``x_title``/``y_title`` keys, ``percent``)."""
    return {
        "kind": kind,
        "x": list(x),
        "series": {k: [float(v) for v in vs] for k, vs in series.items()},
        "title": title,
        **axes,
    }


def _run(pop: Population, case: Case, plan: Plan, months: int, seed: int, sample: int = 0):
    return simulate(pop, case, plan, months, seed, sample_size=sample)


def _plan(name: str, method: str, alloc: dict[str, dict], acquisition=None) -> Plan:
    return Plan(
        name=name,
        segmentation=SegmentationSpec(method=method),
        allocations={k: Levers(**v) for k, v in alloc.items()},
        acquisition=acquisition or {},
    )


# -- 1 the lifecycle -----------------------------------------------------------------------
def lifecycle(case: Case, pop: Population, seed: int, months: float = 24) -> dict:
    res = _run(pop, case, case.status_quo, int(months), seed)
    tr = res.transitions.sum(axis=0)  # from stage (rows) to stage/churned (cols)
    at_risk = tr[:4].sum(axis=1)
    churn = tr[:4, 4] / np.maximum(at_risk, 1)
    start = pop.customers["stage"].value_counts(normalize=True)
    return {
        "start_exploration": float(start.get("exploration", 0.0)),
        "start_stability": float(start.get("stability", 0.0)),
        "churn_exploration": float(churn[0]),
        "churn_formation": float(churn[1]),
        "churn_stability": float(churn[2]),
        "churn_decline": float(churn[3]),
        "to_stability": int(tr[1, 2]),
        "to_decline": int(tr[2, 3] + tr[1, 3]),
        "recovered": int(tr[3, 1]),
        "chart": chart(
            "bar",
            [f"stage.{k}" for k in STAGES],
            {"lesson_chart.monthly_churn": churn},
            "lifecycle",
            x_keys=True,
            percent=True,
            y_title="lesson_chart.monthly_churn",
        ),
    }


# -- 2 customer delivered value ------------------------------------------------------------
def delivered_value(case: Case, pop: Population, seed: int, discount: float = 10) -> dict:
    sq = case.status_quo
    cut = discount / 100
    cheaper = {seg: {**lv.model_dump(), "discount": cut} for seg, lv in sq.allocations.items()}
    runs = {
        "none": _run(pop, case, preset_plan("zero", case), 24, seed),
        "service": _run(pop, case, sq, 24, seed),
        "price": _run(pop, case, _plan("price", sq.segmentation.method, cheaper), 24, seed),
    }
    out = {}
    lines = {}
    for name, res in runs.items():
        k = kpis(res, case)
        sat = res.monthly["avg_satisfaction"].to_numpy()
        lines[f"lesson_chart.plan_{name}"] = sat
        out[f"sat_{name}"] = k["avg_satisfaction_end"]
        out[f"sat3_{name}"] = float(sat[2])
        out[f"retention_{name}"] = k["retention_rate"]
        out[f"profit_{name}"] = k["profit"]
    out["price_gain_early"] = out["sat3_price"] - out["sat3_service"]
    out["price_gain_end"] = out["sat_price"] - out["sat_service"]
    out["chart"] = chart(
        "line",
        list(range(1, len(sat) + 1)),
        lines,
        "delivered_value",
        x_title="chart.month",
        y_title="chart.satisfaction",
    )
    return out


# -- 3 segmentation ------------------------------------------------------------------------
def segmentation(case: Case, pop: Population, seed: int, top: float = 10) -> dict:
    c = pop.customers
    abc = segment(c, "abc")
    key = top / 100
    pyr = segment(c, "pyramid", {"shares": [key, 0.3, round(0.7 - key, 9)]})
    rfm = segment(c, "rfm")
    pa, pp, pr = abc.profile.set_index("segment"), pyr.profile.set_index("segment"), rfm.profile
    champions = pr.set_index("segment").loc["champions"]
    lost = pr.set_index("segment").loc["lost"]
    return {
        "a_customers": float(pa.loc["A", "share"]),
        "a_revenue": float(pa.loc["A", "revenue_share"]),
        "key_customers": float(pp.loc["key", "share"]),
        "key_revenue": float(pp.loc["key", "revenue_share"]),
        "small_revenue": float(pp.loc["small", "revenue_share"]),
        "champions_recency": float(champions["mean_recency"]),
        "lost_recency": float(lost["mean_recency"]),
        "champions_share": float(champions["share"]),
        "chart": chart(
            "bar",
            [f"seg.{name}" for name in pp.index],
            {
                "lesson_chart.share_customers": pp["share"].to_numpy(),
                "lesson_chart.share_revenue": pp["revenue_share"].to_numpy(),
            },
            "segmentation",
            x_keys=True,
            percent=True,
        ),
    }


# -- 4 key accounts and 80/20 --------------------------------------------------------------
def key_accounts(case: Case, pop: Population, seed: int, managers: float = 8) -> dict:
    base = {
        "key": {"care": 60000.0, "recovery": 20000.0},
        "ordinary": {"care": 60000.0, "recovery": 20000.0},
        "small": {"care": 30000.0, "recovery": 10000.0},
    }
    staffed = {**base, "key": {**base["key"], "kam": int(managers)}}
    plain = _run(pop, case, _plan("no_kam", "pyramid", base), 36, seed)
    kam = _run(pop, case, _plan("kam", "pyramid", staffed), 36, seed)

    def key_retention(res: SimResult) -> float:
        c = res.customers
        key = (c["segment"] == res.segments.index("key")) & (c["entry_month"] == 0)
        return float((c.loc[key, "churn_month"] < 0).mean())

    def key_revenue(res: SimResult) -> float:
        c = res.customers
        return float(c.loc[c["segment"] == res.segments.index("key"), "revenue"].sum())

    return {
        "top20": top_share(pop.customers["revenue_12m"].to_numpy(), 0.2),
        "key_retention_without": key_retention(plain),
        "key_retention_with": key_retention(kam),
        "key_revenue_gain": key_revenue(kam) / max(key_revenue(plain), 1e-9) - 1,
        "roi_kam": incremental_roi(kam, plain, case) or 0.0,
        "chart": chart(
            "bar",
            ["lesson_chart.without_kam", "lesson_chart.with_kam"],
            {"lesson_chart.key_retention": [key_retention(plain), key_retention(kam)]},
            "key_accounts",
            x_keys=True,
            percent=True,
        ),
    }


# -- 5 zones of defection, indifference, affection -----------------------------------------
def zones(case: Case, pop: Population, seed: int, months: float = 36) -> dict:
    res = _run(pop, case, case.status_quo, int(months), seed, sample=2000)
    c = res.customers
    churners = c[c["churn_month"] > 0]
    S, slots = res.sample["S"], res.sample["slots"]
    left = c["churn_month"].to_numpy()[slots]
    out = {"satisfied_churners": float((churners["satisfaction"] >= 0.5).mean())}
    for zone, lo, hi in (
        ("defection", 0.0, 0.5),
        ("indifference", 0.5, 0.85),
        ("affection", 0.85, 2),
    ):
        at_risk = churned = 0
        for m in range(1, res.months):
            before = S[m - 1]
            alive = ~np.isnan(before) & ((left < 0) | (left > m))
            inside = alive & (before >= lo) & (before < hi)
            at_risk += int(inside.sum())
            churned += int((inside & (left == m + 1)).sum())
        out[f"churn_{zone}"] = churned / max(at_risk, 1)
    out["indifference_vs_affection"] = out["churn_indifference"] / max(out["churn_affection"], 1e-9)
    zones = ("defection", "indifference", "affection")
    out["chart"] = chart(
        "bar",
        [f"lesson_chart.zone_{z}" for z in zones],
        {"lesson_chart.monthly_churn": [out[f"churn_{z}"] for z in zones]},
        "zones",
        x_keys=True,
        percent=True,
        y_title="lesson_chart.monthly_churn",
    )
    return out


# -- 6 complaints and service recovery -----------------------------------------------------
def recovery(case: Case, pop: Population, seed: int, after: float = 6) -> dict:
    sq = case.status_quo
    wait = int(after)  # months after the problem to stay or leave
    generous = {
        seg: {**lv.model_dump(), "recovery": lv.recovery * 4 + 2000}
        for seg, lv in sq.allocations.items()
    }
    stingy = {seg: {**lv.model_dump(), "recovery": 0.0} for seg, lv in sq.allocations.items()}
    method = sq.segmentation.method
    # resolved (slow or fast), of them fast, unresolved, silent: [n, stayed]
    counts = {code: [0, 0] for code in (RESOLVED, FAST, UNRESOLVED, SILENT)}
    kept = {}
    for name, alloc in (("generous", generous), ("stingy", stingy)):
        res = _run(pop, case, _plan(name, method, alloc), 36, seed)
        c = res.customers  # each customer's first problem, how it ended, and when she left
        outcome, month = c["problem"].to_numpy(), c["problem_month"].to_numpy()
        left = c["churn_month"].to_numpy()
        seen = (month > 0) & (month <= res.months - wait)  # followed for ``wait`` months
        stayed = (left < 0) | (left > month + wait)
        for code in counts:
            hit = seen & ((outcome == code) | ((code == RESOLVED) & (outcome == FAST)))
            counts[code][0] += int(hit.sum())
            counts[code][1] += int((hit & stayed).sum())
        k = kpis(res, case)
        kept[name] = (k["recovery_rate"] or 0.0, k["retention_rate"], k["complaints"])
    stay = {code: s / max(n, 1) for code, (n, s) in counts.items()}
    return {
        "stay_resolved": stay[RESOLVED],
        "stay_fast": stay[FAST],
        "stay_unresolved": stay[UNRESOLVED],
        "stay_silent": stay[SILENT],
        "n_resolved": counts[RESOLVED][0],
        "n_fast": counts[FAST][0],
        "n_unresolved": counts[UNRESOLVED][0],
        "n_silent": counts[SILENT][0],
        "resolved_rate_generous": kept["generous"][0],
        "resolved_rate_stingy": kept["stingy"][0],
        "retention_generous": kept["generous"][1],
        "retention_stingy": kept["stingy"][1],
        "chart": chart(
            "bar",
            ["chart.silent", "chart.unresolved", "chart.resolved", "chart.resolved_fast"],
            {
                "lesson_chart.stayed_6m": [
                    stay[SILENT],
                    stay[UNRESOLVED],
                    stay[RESOLVED],
                    stay[FAST],
                ]
            },
            "recovery",
            x_keys=True,
            percent=True,
        ),
    }


# -- 7 diminishing returns and over-serving ------------------------------------------------
def diminishing(case: Case, pop: Population, seed: int, most: float = 12) -> dict:
    sq = case.status_quo
    seg = segment_for_case(pop.customers, "pyramid", {}, case, seed)
    base = preset_plan("pyramid", case, seg, pop.n)
    alloc = {s: lv.model_dump() for s, lv in base.allocations.items()}
    zero_small = {**alloc, "small": {**alloc["small"], "care": 0.0}}
    r0 = _run(pop, case, _plan("small0", "pyramid", zero_small), 24, seed)
    high = int(most)
    out = {"mult_low": 1, "mult_mid": 4, "mult_high": high}
    money = sq.allocations.get("small", base.allocations["small"]).care or 3000.0
    for name, mult in (("1", 1), ("4", 4), ("12", high)):  # roi_small_12x: the highest dose
        more = {**alloc, "small": {**alloc["small"], "care": money * mult}}
        r = _run(pop, case, _plan(f"small{mult}", "pyramid", more), 24, seed)
        out[f"roi_small_{name}x"] = incremental_roi(r, r0, case) or 0.0
    zero_key = {**alloc, "key": {**alloc["key"], "care": 0.0}}
    rk0 = _run(pop, case, _plan("key0", "pyramid", zero_key), 24, seed)
    more_key = {**alloc, "key": {**alloc["key"], "care": money}}
    rk = _run(pop, case, _plan("key1", "pyramid", more_key), 24, seed)
    out["roi_key_1x"] = incremental_roi(rk, rk0, case) or 0.0
    out["care_money"] = money
    out["chart"] = chart(
        "bar",
        [f"{m}×" for m in (1, 4, high)],
        {
            "lesson_chart.roi_small": [
                out["roi_small_1x"],
                out["roi_small_4x"],
                out["roi_small_12x"],
            ]
        },
        "diminishing",
        x_title="lesson_chart.care_multiple",
        y_title="chart.roi_axis",
    )
    return out


# -- 8 CLV and the economics of retention --------------------------------------------------
def clv(case: Case, pop: Population, seed: int, better: float = 0.5) -> dict:
    res = _run(pop, case, case.status_quo, 36, seed)
    clv = clv_by_segment(res, case).set_index("segment")
    formula = clv["retention_formula"] if "retention_formula" in clv else clv.iloc[:, 1]
    k = kpis(res, case)
    alive = res.customers["equity_alive"]
    margin = float(res.customers["equity_margin"][alive].mean())
    r = 1 - k["monthly_churn"]
    d = case.monthly_discount

    def annuity(rr: float) -> float:
        return margin * rr / (1 + d - rr)

    up = min(r + better / 100, 0.999)
    return {
        "clv_key": float(formula.loc["key"]),
        "clv_small": float(formula.loc["small"]),
        "key_vs_small": float(formula.loc["key"] / max(formula.loc["small"], 1e-9)),
        "monthly_retention": r,
        "clv_now": annuity(r),
        "clv_better": annuity(up),
        "clv_gain": annuity(up) / annuity(r) - 1,
        "chart": chart(
            "bar",
            ["lesson_chart.retention_now", "lesson_chart.retention_better"],
            {"lesson_chart.clv_formula": [annuity(r), annuity(up)]},
            "clv",
            x_keys=True,
            money=True,
        ),
    }


# -- 9 prospecting channels and MAN --------------------------------------------------------
def prospecting(case: Case, pop: Population, seed: int, money: float = 6000) -> dict:
    sq = case.status_quo
    money = float(money)
    out = {}
    for ch in ("referral", "telephone"):
        plan = sq.model_copy(update={"acquisition": {ch: money}, "name": ch})
        res = _run(pop, case, plan, 24, seed)
        c = res.customers
        new = c[c["entry_month"] > 0]
        acquired = len(new)
        kept = int((new["churn_month"] < 0).sum())
        out[f"{ch}_acquired"] = acquired
        out[f"{ch}_kept"] = kept
        out[f"{ch}_kept_share"] = kept / max(acquired, 1)
        out[f"{ch}_cost_per_kept"] = money * res.months / max(kept, 1)
    out["man_referral"] = case.acquisition["referral"].man
    out["man_telephone"] = case.acquisition["telephone"].man
    channels = ("referral", "telephone")
    out["chart"] = chart(
        "bar",
        [f"channel.{ch}" for ch in channels],
        {
            "lesson_chart.acquired": [out[f"{ch}_acquired"] for ch in channels],
            "lesson_chart.kept": [out[f"{ch}_kept"] for ch in channels],
        },
        "prospecting",
        x_keys=True,
        y_title="chart.customers",
    )
    return out
