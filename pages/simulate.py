"""Simulate: pick a plan, run it over the months, read the dashboards."""

import streamlit as st

from crmsim.i18n import t
from crmsim.metrics import kpis, run_story
from crmsim.ui import dashboards, formatting, navigation, plan_state, runs, segments, state

lang = navigation.bootstrap("simulate")
st.title(t("sim.title", lang))

chosen, case, pop = state.chosen_book(lang)

left, right = st.columns([2, 1])
choices = plan_state.plan_choices()
preset = left.selectbox(
    t("sim.plan", lang),
    choices,
    index=choices.index("my_plan") if "my_plan" in choices else 0,  # the plan the user made
    key="sim_preset",
    format_func=lambda p: t(f"preset.{p}", lang),
    bind="query-params",
)
months = right.slider(
    t("sim.months", lang), 12, 60, min(case.months, 60), key="sim_months", bind="query-params"
)
segmentation = segments.status_quo_segmentation(case, pop)
plan = plan_state.chosen_plan(preset, case, segmentation, pop.n)
args = (chosen["case_id"], chosen["customers"], chosen["seed"], lang)

# A reload (or a shared link) of a page that showed results shows them again.
reloaded = st.query_params.get("ran") == "1" and "sim_last" not in st.session_state
if st.button(t("sim.run", lang), type="primary", key="sim_run") or reloaded:
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
    st.query_params.pop("ran", None)
    st.info(t("sim.press_run", lang))
    st.stop()
st.query_params["ran"] = "1"

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

labels = [t(f"sim.tab_{k}", lang) for k in dashboards.TABS]
tabs = dict(zip(dashboards.TABS, st.tabs(labels, key="sim_tab", bind="query-params"), strict=True))
draw = {
    "money": lambda: dashboards.money(res, case, lang),
    "retention": lambda: dashboards.retention(res, lang),
    "satisfaction": lambda: dashboards.satisfaction(res, lang),
    "complaints": lambda: dashboards.complaints(res, lang),
    "roi": lambda: dashboards.roi(args, plan, months, case, lang),
    "customer": lambda: dashboards.customer(res, pop, lang),
}
for name, tab in tabs.items():
    if tab.open:  # only the open tab is drawn; switching tabs reruns the page
        with tab:
            draw[name]()
