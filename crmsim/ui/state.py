"""The setup every page works on: the case, population size and seed chosen on the home page."""

from __future__ import annotations

import streamlit as st

from crmsim.cases import Case
from crmsim.i18n import Lang, t
from crmsim.population import Population
from crmsim.ui.case_store import case, case_ids
from crmsim.ui.plan_state import plan_version
from crmsim.ui.runs import population

DEFAULT_SETUP = {"case_id": "telecom", "customers": 10_000, "seed": 42}


def remember_setup(case_id: str, customers: int, seed: int) -> None:
    """Keep the home page's choices for the other pages (widget state does not survive a
    page change; plain session keys do). A new case starts again from its own status quo."""
    before = st.session_state.get("setup", {}).get("case_id")
    if before is not None and before != case_id:
        for key in ("plan_json", "segmentation"):
            st.session_state.pop(key, None)
        st.session_state["plan_version"] = plan_version() + 1
    st.session_state["setup"] = {"case_id": case_id, "customers": int(customers), "seed": int(seed)}


def picked_case() -> str:
    """The case in the home page's picker (its widget state this run), else the setup's."""
    picked = st.session_state.get("case_id")
    return picked if picked in case_ids() else setup()["case_id"]


def choose_case(case_id: str, customers: int | None = None, seed: int | None = None) -> None:
    """Make ``case_id`` the case of the home page's picker on its next draw."""
    chosen = setup()
    remember_setup(
        case_id, customers or chosen["customers"], chosen["seed"] if seed is None else seed
    )
    for key in ("customers", "seed"):  # the size and seed widgets' state, likewise
        st.session_state.pop(key, None)
    st.session_state.pop("case_id", None)  # the picker's widget state; its index takes over


def setup() -> dict:
    """The case, population size and seed chosen on the home page (defaults otherwise)."""
    chosen = dict(DEFAULT_SETUP)
    chosen.update(st.session_state.get("setup", {}))
    if chosen["case_id"] not in case_ids():  # an upload from a session that has ended
        chosen["case_id"] = DEFAULT_SETUP["case_id"]
    return chosen


def chosen_book(lang: Lang, caption: bool = True) -> tuple[dict, Case, Population]:
    """The case, population size and seed chosen on the home page, the case itself and its
    population; with ``caption``, a line saying which they are."""
    chosen = setup()
    case_obj = case(chosen["case_id"])
    pop = population(chosen["case_id"], chosen["customers"], chosen["seed"], lang)
    if caption:
        st.caption(
            t("sim.setup", lang, case=case_obj.title.get(lang), n=f"{pop.n:,}", seed=chosen["seed"])
        )
    return chosen, case_obj, pop
