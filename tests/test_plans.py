import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmsim.errors import InputError
from crmsim.plans import (
    LEVERS,
    PRESETS,
    Plan,
    budget_use,
    check_plan,
    load_plan_bytes,
    parse_plan,
    plan_to_json,
    plan_to_toml,
    preset_plan,
    segment_spend,
)
from crmsim.segmentation import segment_for_case

SEGS = ["key", "ordinary", "small"]
GOOD = b"""
name = "care first"
[segmentation]
method = "pyramid"
[allocations.key]
care = 10000.0
kam = 1
rewards = 0.05
[allocations.small]
recovery = 2000.0
[acquisition]
online = 1000.0
"""


def test_good_plan_loads_from_toml_and_json(telecom):
    plan = load_plan_bytes(GOOD, "toml")
    assert plan.allocations["key"].kam == 1 and plan.acquisition["online"] == 1000.0
    assert check_plan(plan, SEGS, telecom, {}) == []
    again = load_plan_bytes(plan_to_json(plan).encode(), "json")
    assert again == plan
    assert load_plan_bytes(plan_to_toml(plan).encode(), "toml") == plan


def test_utf8_bom_and_chinese_names_survive():
    raw = "\ufeff" + GOOD.decode().replace("care first", "关怀优先")
    plan = load_plan_bytes(raw.encode("utf-8"), "toml")
    assert plan.name == "关怀优先"
    assert load_plan_bytes(plan_to_toml(plan).encode(), "toml").name == "关怀优先"


@pytest.mark.parametrize(
    ("data", "field", "key"),
    [
        ({"allocations": {"key": {"care": -5}}}, "allocations.key.care", "too_small"),
        ({"allocations": {"key": {"discount": 0.95}}}, "allocations.key.discount", "too_large"),
        ({"allocations": {"key": {"rewards": -0.1}}}, "allocations.key.rewards", "too_small"),
        ({"allocations": {"key": {"massage": 5}}}, "allocations.key.massage", "unknown_key"),
        ({"allocations": {"key": {"kam": 1.5}}}, "allocations.key.kam", "not_integer"),
        ({"allocations": {"key": {"care": "lots"}}}, "allocations.key.care", "not_number"),
        ({"acquisition": {"carrier_pigeon": 5}}, "acquisition.carrier_pigeon", "not_allowed"),
        ({"acquisition": {"online": -1}}, "acquisition.online", "too_small"),
        ({"segmentation": {"method": "astrology"}}, "segmentation.method", "not_allowed"),
        ({"budget": 5}, "budget", "unknown_key"),
    ],
)
def test_bad_plan_fields_are_named(data, field, key):
    with pytest.raises(InputError) as info:
        parse_plan(data)
    assert any(i.field == field and i.key == key for i in info.value.issues), info.value.issues
    assert field in info.value.report("zh") and field in info.value.report("en")


def test_unknown_segment_and_over_budget(telecom):
    plan = parse_plan({"allocations": {"whales": {"care": 1.0}, "key": {"care": 1e7}}})
    issues = check_plan(plan, SEGS, telecom, {})
    keys = {(i.field, i.key) for i in issues}
    assert ("allocations.whales", "unknown_segment") in keys
    assert ("allocations", "over_budget") in keys
    text = "\n".join(i.render("zh") for i in issues)
    assert "whales" in text and "超过预算" in text


def test_channel_must_exist_in_case(telecom):
    plan = parse_plan({"acquisition": {"direct_mail": 10.0}})
    assert [i.key for i in check_plan(plan, SEGS, telecom, {})] == ["channel_not_in_case"]


def test_rewards_and_discounts_count_against_the_budget_as_a_forecast(telecom):
    from crmsim.plans import budget_use

    plan = parse_plan({"allocations": {"key": {"care": 1000.0, "rewards": 0.1, "discount": 0.2}}})
    spend = {"key": 200_000.0, "ordinary": 50_000.0}
    use = budget_use(plan, telecom, spend)
    # discount: 20% of list-price spend given up; rewards: 10% of what is paid after it
    assert use["rates"] == pytest.approx(0.2 * 200_000 + 0.1 * 0.8 * 200_000)
    assert use["total"] == pytest.approx(1000.0 + use["rates"])
    issues = check_plan(plan, SEGS, telecom, spend)
    assert [i.key for i in issues] == ["over_budget"]
    assert f"{use['total']:,.0f}" in issues[0].render("en")
    assert check_plan(plan, SEGS, telecom, {"key": 1000.0}) == []


@pytest.mark.parametrize(
    ("raw", "fmt", "key"),
    [
        (b"", "toml", "empty_file"),
        (b"\xff\xfe\xfa", "toml", "not_utf8"),
        (b"x" * 300_000, "toml", "file_too_large"),
        (b"name = ", "toml", "toml_bad_value"),
        (b"{", "json", "json_key_quotes"),
        (b"[1, 2]", "json", "not_table"),
    ],
)
def test_unreadable_plan_files(raw, fmt, key):
    with pytest.raises(InputError) as info:
        load_plan_bytes(raw, fmt)
    assert info.value.issues[0].key == key


@settings(max_examples=150, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from([*LEVERS, "bogus"]),
        st.one_of(
            st.floats(allow_nan=True, allow_infinity=True),
            st.integers(),
            st.text(max_size=5),
            st.none(),
            st.booleans(),
        ),
        max_size=7,
    )
)
def test_any_lever_mapping_is_a_plan_or_a_clear_error(levers):
    try:
        plan = parse_plan({"allocations": {"key": levers}})
    except InputError as exc:
        assert exc.issues and all(i.field.startswith("allocations.key") for i in exc.issues)
        return
    lv = plan.allocations["key"]
    assert all(getattr(lv, k) >= 0 for k in LEVERS)
    assert lv.rewards <= 0.9 and lv.discount <= 0.9


@pytest.mark.parametrize("name", PRESETS)
def test_presets_fit_the_budget(telecom, pop_small, name):
    seg = segment_for_case(pop_small.customers, "pyramid", {}, telecom)
    plan = preset_plan(name, telecom, seg, pop_small.n)
    assert isinstance(plan, Plan)
    seg2 = segment_for_case(
        pop_small.customers, plan.segmentation.method, plan.segmentation.params, telecom
    )
    spend = segment_spend(pop_small, seg2, telecom)
    assert budget_use(plan, telecom, spend)["total"] <= telecom.budget
    assert check_plan(plan, seg2.names, telecom, spend) == []


def test_pyramid_preset_splits_60_30_10(telecom):
    plan = preset_plan("pyramid", telecom)
    money = [plan.allocations[s].money(telecom.costs.kam_salary) for s in SEGS]
    assert [round(m / sum(money), 2) for m in money] == [0.6, 0.3, 0.1]


def test_key_first_staffs_managers_for_key_accounts(telecom):
    from crmsim.cases import load_case

    b2b = load_case("b2b_it")
    plan = preset_plan("key_first", b2b)
    assert plan.allocations["key"].kam >= 1 and plan.allocations["small"].kam == 0
    # where a manager costs more than three quarters of the money, key accounts get care
    plan = preset_plan("key_first", telecom)
    assert plan.allocations["key"].kam == 0
    assert plan.allocations["key"].care > plan.allocations["small"].care


def test_zero_plan_spends_nothing(telecom):
    assert preset_plan("zero", telecom).monthly_money(telecom.costs.kam_salary) == 0


def test_unknown_preset(telecom):
    with pytest.raises(InputError):
        preset_plan("magic", telecom)


def test_plan_json_is_plain():
    plan = load_plan_bytes(GOOD, "toml")
    assert json.loads(plan_to_json(plan))["allocations"]["key"]["care"] == 10000.0


@pytest.mark.parametrize(
    ("path", "case_id"),
    [("telecom_key_accounts.toml", "telecom"), ("retail_win_back.json", "retail")],
)
def test_sample_plans_are_valid_for_their_case(pop_small, path, case_id):
    from crmsim.cases import load_case
    from crmsim.plans import load_plan
    from crmsim.population import generate
    from tests.conftest import ROOT

    case = load_case(case_id)
    plan = load_plan(ROOT / "sample_data" / "plans" / path)
    pop = generate(case, 1000, seed=1)
    seg = segment_for_case(pop.customers, plan.segmentation.method, plan.segmentation.params, case)
    assert check_plan(plan, seg.names, case, segment_spend(pop, seg, case)) == []
