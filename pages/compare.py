"""Compare: up to four plans on one population and seed, and replicate seeds for the noise."""

import pandas as pd
import streamlit as st

from crmsim import charts
from crmsim.i18n import t
from crmsim.metrics import kpis
from crmsim.ui import formatting, navigation, plan_state, runs, segments, state

MAX_PLANS = 4
FIGURES = ("retention_rate", "profit", "npv", "score", "avg_satisfaction_end", "recovery_rate")

lang = navigation.bootstrap("compare")
st.title(t("cmp.title", lang))
chosen, case, pop = state.chosen_book(lang)

names = st.multiselect(
    t("cmp.plans", lang),
    plan_state.plan_choices(),
    default=["status_quo", "zero", "pyramid"],
    format_func=lambda p: t(f"preset.{p}", lang),
    key="cmp_plans",
    bind="query-params",
)
if len(names) > MAX_PLANS:
    st.warning(t("cmp.too_many", lang))
    names = names[:MAX_PLANS]
left, mid = st.columns(2)
months = left.slider(
    t("sim.months", lang), 12, 60, min(case.months, 60), key="cmp_months", bind="query-params"
)
replicates = mid.slider(t("cmp.replicates", lang), 1, 5, 3, key="cmp_reps", bind="query-params")
segmentation = segments.status_quo_segmentation(case, pop)
plans = {
    t(f"preset.{n}", lang): plan_state.chosen_plan(n, case, segmentation, pop.n).model_dump_json()
    for n in names
}
request = (tuple(plans.values()), months, replicates)

# A reload (or a shared link) of a page that showed a comparison shows it again.
reloaded = st.query_params.get("ran") == "1" and "cmp_last" not in st.session_state
if names and (st.button(t("cmp.run", lang), type="primary", key="cmp_run") or reloaded):
    bar = st.progress(0.0)
    todo = [(p, r) for p in plans.values() for r in range(replicates)]
    for i, (plan_json, r) in enumerate(todo):
        runs.run(
            chosen["case_id"], chosen["customers"], chosen["seed"] + r, lang, plan_json, months
        )
        bar.progress((i + 1) / len(todo))
    bar.empty()
    st.session_state["cmp_last"] = request

if not names or st.session_state.get("cmp_last") != request:
    st.query_params.pop("ran", None)
    st.info(t("cmp.press_run", lang))
    st.stop()
st.query_params["ran"] = "1"


def result(plan_json: str, r: int = 0):
    return runs.run(
        chosen["case_id"], chosen["customers"], chosen["seed"] + r, lang, plan_json, months
    )


results = {name: result(pj) for name, pj in plans.items()}
figures = {name: kpis(res, case) for name, res in results.items()}
first = next(iter(figures.values()))
table = pd.DataFrame(
    {
        name: [
            formatting.figure_with_delta(key, k[key], first[key], lang, name == next(iter(figures)))
            for key in FIGURES
        ]
        for name, k in figures.items()
    },
    index=[t(f"kpi.{key}", lang) for key in FIGURES],
)
table.index.name = t("cmp.metric", lang)
st.subheader(t("cmp.kpi_table", lang))
st.dataframe(table)

events = next(iter(results.values())).meta["events"]
retention = {
    name: pd.Series(res.cohorts[0, 1:] / res.cohorts[0, 0], index=range(1, res.months + 1))
    for name, res in results.items()
}
st.plotly_chart(
    charts.overlay_lines(
        retention,
        t("cmp.retention_title", lang),
        t("chart.still_customers", lang),
        lang,
        percent=True,
        events=events,
    ),
    key="cmp_retention",
)
profit = {name: res.monthly.set_index("month")["profit"] for name, res in results.items()}
st.plotly_chart(
    charts.overlay_lines(
        profit, t("cmp.profit_title", lang), "", lang, events=events, currency=case.currency
    ),
    key="cmp_profit",
)
spread = {
    name: [kpis(result(pj, r), case)["profit"] for r in range(replicates)]
    for name, pj in plans.items()
}
st.plotly_chart(
    charts.replicate_ranges(spread, t("cmp.replicate_title", lang), lang, currency=case.currency),
    key="cmp_replicates",
)
