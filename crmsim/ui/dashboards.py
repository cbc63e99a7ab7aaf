"""The Simulate page's dashboards, one function per tab (only the open tab is drawn)."""

from __future__ import annotations

import numpy as np
import streamlit as st

from crmsim import charts
from crmsim.cases import Case
from crmsim.i18n import Lang, t
from crmsim.metrics import cohort_table, kaplan_meier
from crmsim.model.outputs import SimResult
from crmsim.plans import Plan
from crmsim.population import Population
from crmsim.ui import formatting, runs

TABS = ("money", "retention", "satisfaction", "complaints", "roi", "customer")


def money(res: SimResult, case: Case, lang: Lang) -> None:
    st.plotly_chart(
        charts.money_over_time(res.monthly, res.meta["events"], lang, case.currency), key="c_money"
    )


def retention(res: SimResult, lang: Lang) -> None:
    st.plotly_chart(
        charts.retention_curves(kaplan_meier(res), lang, res.meta["events"]), key="c_km"
    )
    st.plotly_chart(charts.cohort_heatmap(cohort_table(res), lang), key="c_cohort")


def satisfaction(res: SimResult, lang: Lang) -> None:
    st.plotly_chart(
        charts.satisfaction_heatmap(res.sat_hist, lang, res.meta["events"]), key="c_sat"
    )
    st.plotly_chart(charts.stage_sankey(res.transitions, lang), key="c_sankey")


def complaints(res: SimResult, lang: Lang) -> None:
    st.plotly_chart(
        charts.complaints_over_time(res.monthly, lang, res.meta["events"]), key="c_complaints"
    )


def roi(args: tuple, plan: Plan, months: int, case: Case, lang: Lang) -> None:
    """Each lever's and segment's return, from counterfactual runs made when asked."""
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
    if not stored or stored[0] != roi_key:
        return
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


def drill_down_order(res: SimResult, limit: int = 200) -> np.ndarray:
    """Sampled customers in the order the drill-down lists them: leavers whose risk was pushed
    above a customer like them with the average's other parts (the ones the chart explains),
    then leavers who were better off than that (propensity and luck), then those who stayed;
    within each, the longest stories first."""
    left_in = res.customers["churn_month"].to_numpy()[res.sample["slots"]]
    explained = np.zeros(len(left_in), bool)
    for j in np.flatnonzero(left_in > 0):
        average = res.sample["terms_mean"][int(left_in[j]) - 1]  # the month she left
        mine, like_average, _ = charts.churn_push(res.sample["terms"][j], average)
        explained[j] = mine > like_average
    return np.lexsort((-left_in, ~explained, left_in <= 0))[:limit]


def customer(res: SimResult, pop: Population, lang: Lang) -> None:
    """One sampled customer's months, and for a leaver why she left."""
    slots = res.sample["slots"]
    left_in = res.customers["churn_month"].to_numpy()[slots]
    churned = left_in > 0
    order = drill_down_order(res)
    names = pop.customers["name"].to_numpy()
    pick = st.selectbox(
        t("sim.customer", lang),
        order,
        key="sim_customer",
        format_func=lambda j: formatting.customer_label(names[slots[j]], churned[j], lang),
    )
    st.plotly_chart(charts.customer_timeline(res.sample, int(pick), lang), key="c_timeline")
    if churned[pick]:
        terms = res.sample["terms"][pick]
        average = res.sample["terms_mean"][int(left_in[pick]) - 1]  # in the month she left
        st.markdown(charts.churn_reason_words(terms, average, lang))
        st.plotly_chart(charts.churn_reasons(terms, average, lang), key="c_reasons")
