"""Service plan: split the monthly budget across segments and levers, check it, save it."""

import streamlit as st

from crmsim.i18n import t
from crmsim.plans import PRESETS, plan_to_json, plan_to_toml, segment_spend
from crmsim.reading import PLAN
from crmsim.ui import (
    formatting,
    navigation,
    plan_grid,
    plan_state,
    room_team,
    segments,
    state,
    uploads,
)

lang = navigation.bootstrap("plan")
st.title(t("plan_page.title", lang))
chosen, case, pop = state.chosen_book(lang)
seg = segments.current_segmentation(case, pop)
st.caption(
    t(
        "plan_page.intro",
        lang,
        budget=formatting.with_currency(formatting.money(case.budget, lang), case.currency, lang),
        method=t(f"method.{seg.method}", lang),
    )
)

left, right = st.columns([3, 1])
preset = left.selectbox(
    t("plan_page.preset", lang),
    PRESETS,
    key="plan_preset",
    format_func=lambda p: t(f"preset.{p}", lang),
)
if right.button(t("plan_page.load_preset", lang), key="plan_load"):
    plan_state.set_plan(plan_state.preset_for(preset, case, seg, pop.n))

plan = plan_state.current_plan(case, seg, pop.n)
plan_grid.scroll_hint(lang)
edited = st.data_editor(
    plan_grid.plan_grid(plan, seg, lang),
    key=f"plan_grid_{plan_state.plan_version()}",
    column_config=plan_grid.plan_grid_config(case, lang),
    hide_index=True,
    disabled=[t("plan_page.segment", lang), t("plan_page.customers", lang)],
)
plan_grid.lever_reference(case, lang)
acquisition = plan_grid.acquisition_inputs(plan, case, lang)
plan = plan_grid.plan_from_grid(edited, acquisition, plan, seg, lang)

plan_grid.cost_per_customer(plan, seg, case, pop.n, lang)
spend = segment_spend(pop, seg, case)  # what rewards and discounts are priced on
st.caption(t("dose.title", lang))
st.dataframe(plan_grid.dose_table(plan, seg, case, pop, spend, lang), hide_index=True)

plan_grid.budget_status(plan, case, spend, lang)
status = st.container()  # filled once a plan file, if any, has been read
room_box = st.container()  # a team in a classroom submits exactly this grid from here

d1, d2, up = st.columns(3)
d1.download_button(
    t("plan_page.download_toml", lang),
    plan_to_toml(plan).encode("utf-8"),
    file_name="plan.toml",
    mime="application/toml",
    key="plan_dl_toml",
    on_click="ignore",
)
d2.download_button(
    t("plan_page.download_json", lang),
    plan_to_json(plan).encode("utf-8"),
    file_name="plan.json",
    mime="application/json",
    key="plan_dl_json",
    on_click="ignore",
)
upload = uploads.file_upload(
    up,
    t("plan_page.upload", lang),
    ["toml", "json"],
    "plan_upload",
    PLAN,
    t("plan_page.upload_help", lang, **uploads.limit_params(PLAN)),
)
problem = plan_grid.plan_upload(upload, seg, case, pop, lang)
with status:
    plan_grid.plan_status(plan, seg, case, spend, problem, lang)
with room_box:
    room_team.plan_page_panel(plan, lang)
