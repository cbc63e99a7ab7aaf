"""Service plan: split the monthly budget across segments and levers, check it, save it."""

import streamlit as st

from crmsim.errors import InputError
from crmsim.i18n import t
from crmsim.plans import PRESETS, check_plan, load_plan_bytes, plan_to_json, plan_to_toml
from crmsim.ui import formatting, navigation, plan_grid, plan_state, segments, state, uploads

lang = navigation.bootstrap("plan")
st.title(t("plan_page.title", lang))
chosen, case, pop = state.chosen_book(lang)
seg = segments.current_segmentation(case, pop)
st.caption(
    t(
        "plan_page.intro",
        lang,
        budget=formatting.money(case.budget, lang),
        currency=case.currency,
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
edited = st.data_editor(
    plan_grid.plan_grid(plan, seg, lang),
    key=f"plan_grid_{plan_state.plan_version()}",
    column_config=plan_grid.plan_grid_config(lang),
    hide_index=True,
    disabled=[t("plan_page.segment", lang), t("plan_page.customers", lang)],
)
acquisition = plan_grid.acquisition_inputs(plan, case, lang)
plan = plan_grid.plan_from_grid(edited, acquisition, plan, seg, lang)

st.dataframe(plan_grid.cost_per_customer(plan, seg, case, pop.n, lang), hide_index=True)

money = plan.monthly_money(case.costs.kam_salary)
a, b = st.columns(2)
a.metric(
    t("plan_page.total", lang),
    f"{formatting.money(money, lang)} {case.currency}",
    f"{formatting.money(case.budget - money, lang, signed=True)} {t('plan_page.left', lang)}",
    delta_color="normal" if money <= case.budget else "inverse",
)
b.progress(
    min(money / case.budget, 1.0),
    text=t("plan_page.used", lang, share=f"{money / case.budget:.0%}"),
)
issues = check_plan(plan, seg.names, case)
if issues:
    st.error("\n".join(f"- {i.render(lang)}" for i in issues))
else:
    st.success(t("plan_page.valid", lang))
    plan_state.keep_plan(plan)

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
upload = up.file_uploader(t("plan_page.upload", lang), type=["toml", "json"], key="plan_upload")
if upload is not None and st.session_state.get("plan_uploaded") != upload.file_id:
    st.session_state["plan_uploaded"] = upload.file_id
    try:
        loaded = load_plan_bytes(
            upload.getvalue(),
            "json" if upload.name.lower().endswith(".json") else "toml",
            t("plan_page.your_file", lang),
        )
        problems = check_plan(loaded, seg.names, case)
        if problems:
            raise InputError(problems, t("plan_page.your_file", lang))
        plan_state.set_plan(loaded)
        st.rerun()
    except InputError as exc:
        uploads.show_input_error(exc, lang)
