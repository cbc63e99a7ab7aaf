"""Simulate: pick a plan, run it over the months, read the dashboards."""

import numpy as np
import streamlit as st

from crmsim import charts
from crmsim.i18n import t
from crmsim.metrics import cohort_table, kaplan_meier, kpis, run_story
from crmsim.ui import formatting, navigation, plan_state, runs, segments, state

lang = navigation.bootstrap("simulate")
st.title(t("sim.title", lang))

chosen, case, pop = state.chosen_book(lang)

left, right = st.columns([2, 1])
preset = left.selectbox(
    t("sim.plan", lang),
    plan_state.plan_choices(),
    key="sim_preset",
    format_func=lambda p: t(f"preset.{p}", lang),
)
months = right.slider(t("sim.months", lang), 12, 60, min(case.months, 60), key="sim_months")
segmentation = segments.status_quo_segmentation(case, pop)
plan = plan_state.chosen_plan(preset, case, segmentation, pop.n)
args = (chosen["case_id"], chosen["customers"], chosen["seed"], lang)

if st.button(t("sim.run", lang), type="primary", key="sim_run"):
    bar = st.progress(0.0, text=t("sim.running", lang))
    runs.run(*args, case.status_quo.model_dump_json(), months)
    runs.run(
        *args,
        plan.model_dump_json(),
        months,
        progress=lambda m, total: bar.progress(m / total, text=t("sim.running", lang)),
    )
    bar.empty()
    st.session_state["sim_last"] = (plan.model_dump_json(), months)

if st.session_state.get("sim_last") != (plan.model_dump_json(), months):
    st.info(t("sim.press_run", lang))
    st.stop()

res = runs.run(*args, plan.model_dump_json(), months)
base = runs.run(*args, case.status_quo.model_dump_json(), months)
k, b = kpis(res, case, base), kpis(base, case)
cards = st.columns(6)
shown = {
    "retention_rate": lambda v, d=False: f"{v:+.1%}" if d else f"{v:.1%}",
    "profit": lambda v, d=False: formatting.money(v, lang, d),
    "npv": lambda v, d=False: formatting.money(v, lang, d),
    "avg_satisfaction_end": lambda v, d=False: f"{v:+.3f}" if d else f"{v:.3f}",
    "recovery_rate": lambda v, d=False: f"{v:+.0%}" if d else f"{v:.0%}",
    "score": lambda v, d=False: formatting.money(v, lang, d),
}
for col, (key, fmt) in zip(cards, shown.items(), strict=True):
    val, ref = k[key], b[key]
    delta = None if val is None or ref is None or res is base else fmt(val - ref, True)
    col.metric(t(f"kpi.{key}", lang), "—" if val is None else fmt(val), delta)

story = run_story(res, case, base)
st.markdown(formatting.story_text(story, lang))
if case.debrief:
    with st.expander(t("sim.debrief", lang)):
        st.markdown("\n".join(f"{i}. {q.get(lang)}" for i, q in enumerate(case.debrief, 1)))

tabs = st.tabs(
    [
        t(f"sim.tab_{k}", lang)
        for k in ("money", "retention", "satisfaction", "complaints", "roi", "customer")
    ]
)
with tabs[0]:
    st.plotly_chart(
        charts.money_over_time(res.monthly, res.meta["events"], lang, case.currency), key="c_money"
    )
with tabs[1]:
    st.plotly_chart(
        charts.retention_curves(kaplan_meier(res), lang, res.meta["events"]), key="c_km"
    )
    st.plotly_chart(charts.cohort_heatmap(cohort_table(res), lang), key="c_cohort")
with tabs[2]:
    st.plotly_chart(
        charts.satisfaction_heatmap(res.sat_hist, lang, res.meta["events"]), key="c_sat"
    )
    st.plotly_chart(charts.stage_sankey(res.transitions, lang), key="c_sankey")
with tabs[3]:
    st.plotly_chart(
        charts.complaints_over_time(res.monthly, lang, res.meta["events"]), key="c_complaints"
    )
with tabs[4]:
    st.caption(t("sim.roi_note", lang))
    roi_key = ("sim_roi", plan.model_dump_json(), months, args)
    if st.button(t("sim.roi_button", lang), key="sim_roi_run"):
        bar = st.progress(0.0)
        st.session_state["sim_roi"] = (
            roi_key,
            runs.roi_breakdown(
                args, plan, months, case, lang, progress=lambda i, n: bar.progress(i / n)
            ),
        )
        bar.empty()
    stored = st.session_state.get("sim_roi")
    if stored and stored[0] == roi_key:
        table = stored[1]
        shown = table.dropna(subset=["roi"])
        if not shown.empty:
            st.plotly_chart(charts.roi_bars(shown, lang), key="c_roi")
        st.dataframe(
            table.assign(
                roi=[
                    f"{v:.2f}" if v == v and v is not None else t("sim.roi_none", lang)
                    for v in table["roi"]
                ]
            )[["label", "roi"]].rename(columns={"label": "", "roi": t("chart.roi_axis", lang)}),
            hide_index=True,
        )
with tabs[5]:
    slots = res.sample["slots"]
    left_in = res.customers["churn_month"].to_numpy()[slots]
    churned = left_in > 0
    # leavers with the longest stories first, then those who stayed
    order = np.lexsort((-left_in, ~churned))[:200]
    names = pop.customers["name"].to_numpy()
    pick = st.selectbox(
        t("sim.customer", lang),
        order,
        key="sim_customer",
        format_func=lambda j: formatting.customer_label(names[slots[j]], churned[j], lang),
    )
    st.plotly_chart(charts.customer_timeline(res.sample, int(pick), lang), key="c_timeline")
    if churned[pick]:
        st.plotly_chart(charts.churn_reasons(res.sample["terms"][pick], lang), key="c_reasons")
