"""Segments: choose a method and its parameters, read the profiles, look at the customers."""

import streamlit as st

from crmsim import charts
from crmsim.errors import InputError
from crmsim.i18n import t
from crmsim.plans import SEGMENT_METHODS
from crmsim.ui import customers as customer_table
from crmsim.ui import live_chart, navigation, plan_state, problems, segments, state

lang = navigation.bootstrap("segments")
st.title(t("seg_page.title", lang))
chosen, case, pop = state.chosen_book(lang)
customers = pop.customers

if navigation.arrived():  # from another page, a reload or a link: show the choice made
    segments.seed_widgets(segments.current_spec(case))
method = st.selectbox(
    t("seg_page.method", lang),
    SEGMENT_METHODS,
    key="seg_method",
    format_func=lambda m: t(f"method.{m}", lang),
)
params = segments.segmentation_params(method, lang)
try:
    view = segments.segments_view(chosen, case, pop, method, params, lang)
except InputError as exc:
    st.error(t("seg_page.invalid", lang) + "\n\n" + problems.segmentation_problem(exc, lang))
    st.stop()
plan_state.remember_segmentation({"method": method, "params": params})
st.dataframe(view.profile, hide_index=True)
left, right = st.columns(2)
left.plotly_chart(view.share_chart, key="seg_pyramid")
right.plotly_chart(segments.rfm_chart(chosen, pop, lang), key="seg_rfm")


@st.fragment
def customer_scatter() -> None:
    """The scatter and the customers picked in it: a selection reruns only this part of the
    page. Its axes are chosen in menus on the chart itself, which the browser switches alone."""
    picked = live_chart.scatter_chart(
        view.scatter, view.scatter_json, key="seg_scatter", config=charts.SCATTER_CONFIG
    )
    if len(customers) > charts.MAX_POINTS:
        st.caption(
            t(
                "seg_page.showing",
                lang,
                shown=f"{min(len(customers), charts.MAX_POINTS):,}",
                total=f"{len(customers):,}",
            )
        )
    numeric = segments.SCATTER_AXES
    rows = segments.selected_rows(customers, picked, numeric, charts.MAX_POINTS)
    if rows.size:
        st.markdown(t("seg_page.selected", lang, n=f"{rows.size:,}"))
        shown = customers.iloc[rows[:1000]][["customer_id", "name", "city", *numeric]]
        st.dataframe(customer_table.translated_customers(shown, lang), hide_index=True)
    else:
        st.caption(t("seg_page.select_hint", lang))


customer_scatter()
