"""The setup every page works on: the case, population size and seed chosen on the home page,
kept in the session and in the address (``?case=…&n=…&seed=…``, sticky: see ``url_state``)."""

from __future__ import annotations

import streamlit as st

from crmsim.cases import Case
from crmsim.i18n import Lang, t
from crmsim.population import Population
from crmsim.ui import url_state
from crmsim.ui.case_store import adopt_case, case, case_ids, own_size
from crmsim.ui.plan_state import forget_plan
from crmsim.ui.runs import population

DEFAULT_SETUP = {"case_id": "telecom", "customers": 10_000, "seed": 42}
MIN_CUSTOMERS, MAX_CUSTOMERS = 100, 100_000
MAX_SEED = 2**31 - 1


def remember_setup(case_id: str, customers: int, seed: int) -> None:
    """Keep the home page's choices for the other pages (widget state does not survive a
    page change; plain session keys do) and in the address. A new case starts again from its
    own status quo."""
    before = st.session_state.get("setup", {}).get("case_id")
    if before is not None and before != case_id:
        forget_plan()
    st.session_state["setup"] = {"case_id": case_id, "customers": int(customers), "seed": int(seed)}
    url_state.put("case", case_id)
    url_state.put("n", str(int(customers)))
    url_state.put("seed", str(int(seed)))


def picked_case() -> str:
    """The case in the home page's picker (its widget state this run), else the setup's."""
    picked = st.session_state.get("case_id")
    return picked if picked in case_ids() else setup()["case_id"]


def choose_case(case_id: str, customers: int | None = None, seed: int | None = None) -> None:
    """Make ``case_id`` the case of the home page's picker on its next draw, at ``customers``
    (default: the size the case is written for)."""
    chosen = setup()
    remember_setup(
        case_id,
        customers or own_size(case_id),
        chosen["seed"] if seed is None else seed,
    )
    seed_home_widgets()


def seed_home_widgets() -> None:
    """Put the setup into the home page's picker, size and seed (when the page is entered, or
    a case is chosen elsewhere: widget state does not survive a page change)."""
    chosen = setup()
    st.session_state["case_id"] = chosen["case_id"]
    st.session_state["customers"] = chosen["customers"]
    st.session_state["seed"] = chosen["seed"]


def case_picked() -> None:
    """The home page's picker changed: the new case opens at the size it is written for."""
    picked = st.session_state.get("case_id")
    if picked in case_ids():
        st.session_state["customers"] = own_size(picked)


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


def _whole(raw: str | None, low: int, high: int) -> int | None:
    try:
        value = int(raw or "")
    except ValueError:
        return None
    return value if low <= value <= high else None


def _restore(case_id: str) -> None:
    """A new session opened with ``?case=…`` (and ``n``, ``seed``): the setup of that link."""
    if not adopt_case(case_id):
        for name in ("case", "n", "seed"):
            url_state.put(name, None)
        url_state.report_problem("case_gone")
        return
    n = _whole(st.query_params.get("n"), MIN_CUSTOMERS, MAX_CUSTOMERS)
    seed = _whole(st.query_params.get("seed"), 0, MAX_SEED)
    if n is None or seed is None:
        url_state.report_problem("bad_setup")
    st.session_state["setup"] = {
        "case_id": case_id,
        "customers": own_size(case_id) if n is None else n,
        "seed": DEFAULT_SETUP["seed"] if seed is None else seed,
    }
    chosen = st.session_state["setup"]
    url_state.put("n", str(chosen["customers"]))
    url_state.put("seed", str(chosen["seed"]))


url_state.register("case", _restore, order=10)
url_state.register("n", order=11)
url_state.register("seed", order=12)
