"""CRM Lab home: what the lab teaches, the case to play, population size and seed."""

import streamlit as st

from crmsim.i18n import t
from crmsim.metrics import top_share
from crmsim.money import with_currency
from crmsim.ui import case_store, navigation, runs, state, uploads

lang = navigation.bootstrap("home")

st.title(t("home.title", lang))
st.write(t("home.intro", lang))

if navigation.arrived():  # the setup kept across pages (widget state is not)
    state.seed_home_widgets()
picker = st.container()
uploads.case_upload_panel(state.picked_case(), lang)  # may load a case and pick it
case_id = picker.selectbox(
    t("home.case", lang),
    case_store.case_ids(),
    format_func=lambda cid: case_store.case_label(cid, lang),
    key="case_id",
    on_change=state.case_picked,
)
case = case_store.case(case_id)
st.subheader(case.title.get(lang))
st.write(case.narrative.get(lang))
if case.objectives:
    st.markdown(f"**{t('home.objectives', lang)}**")
    st.markdown("\n".join(f"- {o.get(lang)}" for o in case.objectives))
if case.events:
    st.markdown(f"**{t('home.events', lang)}**")
    st.markdown("\n".join(f"- {case_store.event_line(ev, lang)}" for ev in case.events))

left, right = st.columns(2)
n = left.number_input(
    t("home.customers", lang),
    min_value=100,
    max_value=100_000,
    step=500,
    key="customers",
    help=t("case_list.own_size", lang, n=f"{case_store.own_size(case_id):,}"),
)
seed = right.number_input(t("home.seed", lang), min_value=0, max_value=state.MAX_SEED, key="seed")

state.remember_setup(case_id, int(n), int(seed))
pop = runs.population(case_id, int(n), int(seed), lang)
c = pop.customers
a, b, d = st.columns(3)
a.metric(t("home.metric_customers", lang), f"{len(c):,}")
b.metric(t("home.metric_top20", lang), f"{top_share(c['revenue_12m'].to_numpy()):.0%}")
d.metric(
    t("home.metric_monthly", lang),
    with_currency(f"{c['monetary'].mean():,.0f}", case.currency, lang),
)
mix = (
    c["stage"]
    .value_counts(normalize=True)
    .reindex(["exploration", "formation", "stability", "decline"])
)
st.dataframe(
    {
        t("home.stage", lang): [t(f"stage.{s}", lang) for s in mix.index],
        t("home.share", lang): [f"{v:.0%}" for v in mix.to_numpy()],
    },
    hide_index=True,
)
