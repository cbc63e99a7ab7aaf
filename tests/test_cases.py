import pytest

from crmsim.cases import (
    Case,
    all_builtin_cases,
    builtin_case_ids,
    calibration_report,
    load_case,
    load_case_bytes,
)
from crmsim.errors import InputError

INDUSTRY = ("telecom", "retail", "bank", "b2b_it", "saas")
COURSEWARE = (
    "rice_shop",
    "y_company",
    "beijing_post",
    "mobile_operator",
    "retail_bank",
    "online_retailer",
)
ALL = INDUSTRY + COURSEWARE


def test_industry_presets_and_courseware_cases_ship():
    assert set(ALL) == set(builtin_case_ids())
    assert "_template" not in builtin_case_ids()


@pytest.mark.parametrize("cid", ALL)
def test_cases_are_complete(cid):
    case = load_case(cid)
    assert isinstance(case, Case)
    assert case.title.zh and case.title.en and case.narrative.zh and case.narrative.en
    assert case.currency and case.budget > 0
    assert case.status_quo.monthly_money(case.costs.kam_salary) <= case.budget
    assert case.targets.monthly_churn[0] < case.targets.monthly_churn[1]


def test_retail_is_non_contractual():
    assert load_case("retail").kind == "noncontractual"
    assert {c.kind for c in all_builtin_cases().values()} == {"contractual", "noncontractual"}


@pytest.mark.parametrize("cid", ALL)
def test_status_quo_lands_in_calibration_bands(cid):
    rows = calibration_report(load_case(cid), seed=2024)
    assert rows, "every preset declares targets"
    missed = [r for r in rows if not r["met"]]
    assert not missed, missed


def test_toml_syntax_error_names_the_line():
    with pytest.raises(InputError) as info:
        load_case_bytes(b'id = "x"\nversion = \n', "bad.toml")
    issue = info.value.issues[0]
    assert issue.key == "toml_bad_value" and issue.line == 2
    zh, en = info.value.report("zh"), info.value.report("en")
    assert "第 2 行" in zh and "line 2" in en
    assert "Invalid" not in zh  # the parser's English never reaches a Chinese message


def test_unknown_case_lists_the_known_ones():
    with pytest.raises(InputError) as info:
        load_case("no_such_case")
    assert "telecom" in info.value.report("en")


@pytest.mark.parametrize("cid", COURSEWARE)
def test_courseware_cases_teach_in_both_languages(cid):
    case = load_case(cid)
    assert len(case.objectives) >= 2 and len(case.debrief) >= 2
    assert case.targets.complaint_rate is not None
    assert case.events, "every courseware case has a dated turn of events"
    for ev in case.events:
        assert ev.title.zh != ev.title.en and 1 <= ev.month <= case.months


def test_y_company_loses_a_salesperson_with_accounts_and_meets_a_rival():
    case = load_case("y_company")
    kinds = {(e.kind, e.param) for e in case.events}
    assert ("competitor_entry", "hazard_shift") in kinds
    assert ("salesperson_leaves", "key_hazard_shift") in kinds
    assert case.population.names == "company"


def test_rice_shop_is_a_small_neighbourhood_of_households():
    case = load_case("rice_shop")
    assert case.population.customers <= 1000 and case.population.names == "person"
    assert case.kind == "noncontractual"


def test_template_is_a_valid_case_that_shows_every_field():
    from crmsim.cases import CASES_DIR, Channel, Costs, Event, PopulationSpec, Targets

    text = (CASES_DIR / "_template.toml").read_text(encoding="utf-8")
    case = load_case(CASES_DIR / "_template.toml")
    assert case.events and case.acquisition and case.targets.complaint_rate
    keys = {line.split("=")[0].strip() for line in text.splitlines() if "=" in line}
    for model in (Case, PopulationSpec, Costs, Channel, Event, Targets):
        shown = set(model.model_fields) - {"model"} - keys
        shown -= {"title", "narrative", "population", "costs", "acquisition", "status_quo"}
        shown -= {"events", "targets"}  # tables, shown as [section] headers
        # a purchase log's population (crmsim.purchases.like): unset by default, shown commented
        shown -= {"first_purchase_months", "spend_per_purchase"}
        assert not shown, f"{model.__name__} fields missing from the template: {shown}"
    for section in ("[title]", "[narrative]", "[population]", "[costs]", "[status_quo]"):
        assert section in text
    assert "[[events]]" in text and "[targets]" in text and "[model]" in text


def test_docs_describe_every_case_field_and_every_builtin_case():
    import re

    from crmsim.cases import (
        CASES_DIR,
        EVENT_PARAMS,
        Channel,
        Costs,
        Event,
        ModelParams,
        PopulationSpec,
        Targets,
    )
    from crmsim.segmentation import ABC, CLV_TIERS, PYRAMID, RFM_SEGMENTS

    doc = (CASES_DIR.parent.parent / "docs" / "cases.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`([A-Za-z_0-9]+)`", doc))
    for model in (Case, PopulationSpec, Costs, Channel, Event, Targets, ModelParams):
        missing = set(model.model_fields) - named
        assert not missing, f"{model.__name__}: {sorted(missing)}"
    assert set(EVENT_PARAMS) <= named
    assert set(builtin_case_ids()) <= named
    assert set(RFM_SEGMENTS) | set(CLV_TIERS) | set(PYRAMID) | set(ABC) <= named
