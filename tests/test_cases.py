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


def test_industry_presets_ship():
    assert set(INDUSTRY) <= set(builtin_case_ids())


@pytest.mark.parametrize("cid", INDUSTRY)
def test_presets_are_complete(cid):
    case = load_case(cid)
    assert isinstance(case, Case)
    assert case.title.zh and case.title.en and case.narrative.zh and case.narrative.en
    assert case.currency and case.budget > 0
    assert case.status_quo.monthly_money(case.costs.kam_salary) <= case.budget
    assert case.targets.monthly_churn[0] < case.targets.monthly_churn[1]


def test_retail_is_non_contractual():
    assert load_case("retail").kind == "noncontractual"
    assert {c.kind for c in all_builtin_cases().values()} == {"contractual", "noncontractual"}


@pytest.mark.parametrize("cid", INDUSTRY)
def test_status_quo_lands_in_calibration_bands(cid):
    rows = calibration_report(load_case(cid), seed=2024)
    assert rows, "every preset declares targets"
    missed = [r for r in rows if not r["met"]]
    assert not missed, missed


def _telecom_text() -> str:
    from crmsim.cases import CASES_DIR

    return (CASES_DIR / "telecom.toml").read_text(encoding="utf-8")


BROKEN = [
    # (what is changed, replacement function, expected field, expected message key)
    (
        "unknown top-level key",
        lambda s: 'favourite_colour = "red"\n' + s,
        "favourite_colour",
        "unknown_key",
    ),
    ("negative cost", lambda s: s.replace("care = 3.0", "care = -3.0"), "costs.care", "too_small"),
    (
        "text where a number goes",
        lambda s: s.replace("wallet_median = 120.0", 'wallet_median = "lots"'),
        "population.wallet_median",
        "not_number",
    ),
    (
        "population above the limit",
        lambda s: s.replace("customers = 10000", "customers = 5000000"),
        "population.customers",
        "too_large",
    ),
    (
        "missing English title",
        lambda s: s.replace('en = "Mobile operator: postpaid subscribers"\n', ""),
        "title.en",
        "missing",
    ),
    (
        "status quo over budget",
        lambda s: s.replace("budget = 40000.0", "budget = 100.0"),
        "status_quo",
        "over_budget",
    ),
    (
        "event outside the horizon",
        lambda s: (
            s + '\n[[events]]\nmonth = 48\nkind = "outage"\n'
            'param = "p_fail"\nop = "mul"\nvalue = 3.0\ntitle = { zh = "停机", en = "Outage" }\n'
        ),
        "",
        "event_outside_horizon",
    ),
    (
        "inverted target band",
        lambda s: s.replace("monthly_churn = [0.008, 0.012]", "monthly_churn = [0.02, 0.01]"),
        "targets",
        "bad_band",
    ),
]


@pytest.mark.parametrize(("what", "change", "field", "key"), BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_case_reports_the_field(what, change, field, key):
    text = change(_telecom_text())
    assert text != _telecom_text()
    with pytest.raises(InputError) as info:
        load_case_bytes(text.encode("utf-8"), "broken.toml")
    issues = info.value.issues
    assert any(i.key == key and i.field.startswith(field) for i in issues), issues
    report = info.value.report("zh")
    assert "Traceback" not in report and report.strip()


def test_toml_syntax_error_names_the_line():
    with pytest.raises(InputError) as info:
        load_case_bytes(b'id = "x"\nversion = \n', "bad.toml")
    issue = info.value.issues[0]
    assert issue.key == "bad_toml" and issue.line == 2
    assert "第 2 行" in info.value.report("zh") and "line 2" in info.value.report("en")


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        (b"", "empty_file"),
        (b"\xff\xfe\x00bad", "not_utf8"),
        (b"a" * (1024 * 1024 + 1), "file_too_large"),
    ],
)
def test_unreadable_case_files(raw, key):
    with pytest.raises(InputError) as info:
        load_case_bytes(raw, "x.toml")
    assert info.value.issues[0].key == key


def test_unknown_case_lists_the_known_ones():
    with pytest.raises(InputError) as info:
        load_case("no_such_case")
    assert "telecom" in info.value.report("en")
