"""State that survives: a reload, a shared link or a reconnect starts a new session with only
the address, and the app must come back to the same screen (AppTest, no browser)."""

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from crmsim.i18n import t
from crmsim.ui import plan_state, url_state
from tests.conftest import ROOT


@pytest.fixture(autouse=True)
def _fresh_caches():
    st.cache_data.clear()
    yield


def _open(page: str | None, params: dict) -> AppTest:
    """A new session (a reload, a shared link) opening ``page`` with these query parameters."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    for key, value in params.items():
        at.query_params[key] = value
    if page:
        at.switch_page(f"pages/{page}.py")
    at.run()
    assert not at.exception
    return at


def _address(at: AppTest) -> dict:
    """The query parameters the session has written (what the browser's address shows)."""
    return {k: (v[0] if isinstance(v, list) else v) for k, v in at.query_params.items()}


def test_token_round_trip_and_damaged_tokens():
    spec = {"method": "clv", "params": {"shares": [0.1, 0.2, 0.3, 0.4]}}
    token = plan_state.plan_token(spec, None)
    assert len(token) < 120 and token.isascii()
    assert plan_state.read_plan_token(token) == (spec, None)
    for bad in ("", "not-a-token", token[:-6], "A" * 5000, url_state.encode_token([1, 2])):
        with pytest.raises(ValueError):
            plan_state.read_plan_token(bad)
    bomb = url_state.encode_token({"s": "x" * 200_000})  # inflates past the cap
    assert url_state.decode_token(bomb) is None


def test_a_courseware_case_opens_at_its_own_size_and_lands_in_the_address():
    at = _open(None, {"lang": "zh"})
    labels = at.selectbox(key="case_id").options  # as the list shows them
    assert labels[0].startswith("课程案例 · 王永庆卖米")
    assert any(label.startswith("行业预设 · ") for label in labels)
    assert len(set(labels)) == len(labels)  # named uniquely
    at.selectbox(key="case_id").select("y_company").run()
    assert not at.exception
    assert at.number_input(key="customers").value == 3000
    at.selectbox(key="case_id").select("rice_shop").run()
    assert at.number_input(key="customers").value == 400
    assert at.metric[0].value == "400"
    address = _address(at)
    assert (address["case"], address["n"], address["lang"]) == ("rice_shop", "400", "zh")


def test_a_reload_mid_workflow_returns_to_the_same_setup_segmentation_and_plan():
    at = _open(None, {"lang": "en"})
    at.selectbox(key="case_id").select("y_company").run()
    at.number_input(key="customers").set_value(900).run()
    at.number_input(key="seed").set_value(11).run()
    at.switch_page("pages/segments.py").run()
    at.selectbox(key="seg_method").set_value("abc").run()
    at.number_input(key="seg_share_0").set_value(70).run()
    at.number_input(key="seg_share_1").set_value(20).run()
    at.number_input(key="seg_share_2").set_value(10).run()
    assert not at.exception and not at.error
    at.switch_page("pages/plan.py").run()
    channel = next(n for n in at.number_input if n.key.startswith("plan_acq_"))
    channel.set_value(12345.0).run()
    assert not at.exception and at.success
    kept = at.session_state["plan_json"]
    assert "12345.0" in kept
    address = _address(at)
    assert {"case", "n", "seed", "plan", "lang"} <= set(address)

    # the reload: a new session with only the address
    again = _open("plan", address)
    assert again.session_state["setup"] == {"case_id": "y_company", "customers": 900, "seed": 11}
    assert again.session_state["plan_json"] == kept
    assert again.session_state["segmentation"]["method"] == "abc"
    assert any("Company Y" in c.value for c in again.caption)
    assert again.success and not again.error
    again.switch_page("pages/segments.py").run()
    assert again.selectbox(key="seg_method").value == "abc"
    assert [again.number_input(key=f"seg_share_{i}").value for i in range(3)] == [70, 20, 10]


def test_returning_to_segments_shows_the_method_chosen_before():
    at = _open("segments", {"lang": "en"})
    at.selectbox(key="seg_method").set_value("kmeans").run()
    at.slider(key="seg_k").set_value(6).run()
    at.switch_page("pages/plan.py").run()
    at.switch_page("pages/segments.py").run()
    assert not at.exception
    assert at.selectbox(key="seg_method").value == "kmeans"
    assert at.slider(key="seg_k").value == 6
    assert at.dataframe[0].value.shape[0] == 6


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_damaged_link_is_explained_and_the_status_quo_used(lang):
    at = _open("plan", {"lang": lang, "case": "telecom", "n": "800", "seed": "3", "plan": "x!"})
    assert at.warning[0].value == t("url.bad_plan", lang)
    from crmsim.plans import Plan
    from crmsim.ui.case_store import case

    assert at.success  # the status quo, valid
    kept = Plan.model_validate_json(at.session_state["plan_json"])
    assert kept.allocations == case("telecom").status_quo.allocations
    assert plan_state.read_plan_token(_address(at)["plan"])[1] == kept  # a good token now
    gone = _open(None, {"lang": lang, "case": "upload_0123456789ab", "n": "800"})
    assert gone.warning[0].value == t("url.case_gone", lang)
    assert gone.selectbox(key="case_id").value == "telecom"
    odd = _open(None, {"lang": lang, "case": "bank", "n": "lots", "seed": "-4"})
    assert odd.warning[0].value == t("url.bad_setup", lang)
    assert odd.session_state["setup"] == {"case_id": "bank", "customers": 10_000, "seed": 42}


def test_links_carry_the_sticky_state_and_a_newer_choice_wins_over_an_old_link():
    at = _open(None, {"lang": "en", "case": "saas", "n": "700", "seed": "8"})
    links = [link.proto for link in at.get("page_link")]
    assert links and all("case=saas" in p.query_string and "n=700" in p.query_string for p in links)
    at.selectbox(key="case_id").select("bank").run()
    links = [link.proto for link in at.get("page_link")]
    assert all("case=bank" in p.query_string for p in links)  # drawn again after the change
    # in-app navigation with an older link's parameters keeps the session's choice
    at.query_params["case"] = "saas"
    at.switch_page("pages/customers.py").run()
    assert at.session_state["setup"]["case_id"] == "bank"
    assert _address(at)["case"] == "bank"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_reloaded_simulate_page_shows_its_results_again(lang):
    params = {"lang": lang, "case": "telecom", "n": "1200", "seed": "4"}
    at = _open("simulate", params)
    assert at.info and not at.metric
    at.selectbox(key="sim_preset").select("zero")
    at.slider(key="sim_months").set_value(14)
    at.button(key="sim_run").click().run()
    assert len(at.metric) == 6 and _address(at)["ran"] == "1"
    again = _open(
        "simulate",
        {
            **params,
            "ran": "1",
            "sim_preset": t("preset.zero", lang),  # a bound select box keeps its label
            "sim_months": "14",
            "sim_tab": t("sim.tab_complaints", lang),
        },
    )
    assert len(again.metric) == 6
    assert [m.value for m in again.metric] == [m.value for m in at.metric]
    assert again.session_state["sim_tab"] == t("sim.tab_complaints", lang)
    assert len(again.get("plotly_chart")) == 1  # the complaints tab, open as it was


def test_lessons_passed_stay_in_the_address_on_every_page():
    at = _open("learn", {"lang": "en", "done": "zones,bogus,zones"})
    assert at.session_state["lessons_done"] == ["zones"]
    at.switch_page("pages/glossary.py").run()
    assert _address(at)["done"] == "zones"
    assert all("done=zones" in link.proto.query_string for link in at.get("page_link"))


def test_the_first_page_of_a_process_imports_scikit_learn_in_the_background():
    """The first k-means of a session does not wait for scikit-learn: the first page drawn
    starts its import in one background thread per process, never a second one."""
    import sys

    from crmsim.ui import navigation

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    assert not at.exception
    assert navigation._warming is not None  # started by the page (this one or an earlier one)
    first = navigation.warm_imports()
    assert navigation.warm_imports() is first and first.name == "crm-imports"
    first.join(60)
    assert not first.is_alive()
    assert all(name in sys.modules for name in navigation.SLOW_IMPORTS)
