"""Model v2's stylized facts (issue 14), each as a seeded statistical test with a tolerance, on
the cases where it is cheap; the ``facts`` command itself, on small books; and a deliberately
broken case that the command must catch."""

import json

import numpy as np
import pytest

from crmsim import facts
from crmsim.cases import builtin_case_ids, load_case
from crmsim.cli import main

SEEDS = (1, 2, 3)


@pytest.fixture(autouse=True)
def smaller_big_book(monkeypatch):
    """The complaint facts use a big book (complaints are rare); 20k keeps tests quick."""
    monkeypatch.setattr(facts, "TARP_CUSTOMERS", 20_000)


@pytest.fixture(scope="module")
def telecom_runs():
    return facts.CaseRuns(load_case("telecom"), 4000, SEEDS)


def _by_key(found: list[facts.Fact]) -> dict[str, facts.Fact]:
    return {f.key: f for f in found}


def test_complaints_end_as_tarp_found_them(telecom_runs):
    """Silent < unresolved < resolved < resolved fast, for small and for large problems."""
    got = _by_key(facts.tarp_order(telecom_runs))
    for size in ("small", "large"):
        f = got[f"tarp_{size}"]
        stay = [f.detail[f"stay_{k}"] for k in ("silent", "unresolved", "resolved", "fast")]
        assert f.passed, stay
        assert min(f.detail["n"].values()) >= 100  # each group measured on enough problems


@pytest.mark.parametrize("cid", ["telecom", "bank", "b2b_it", "y_company"])
def test_complaint_money_pays_back_where_failures_are_material(cid):
    runs = facts.CaseRuns(load_case(cid), 3000, SEEDS)
    f = facts.complaints_pay(runs)[0]
    assert load_case(cid).targets.complaint_money_pays and f.passed and f.value > 1.2, f.value


@pytest.mark.parametrize("cid", builtin_case_ids())
def test_satisfaction_moves_churn_as_jones_and_sasser_found(cid):
    """Churn near S ≈ 0.7 is 3–8× churn at S ≥ 0.9, in each case's status quo run."""
    f = facts.satisfaction_matters(facts.CaseRuns(load_case(cid), 5000, (1, 2)))[0]
    assert f.passed, (f.value, f.detail)


def test_acquisition_saturates_and_costs_several_times_keeping(telecom_runs):
    sat = facts.acquisition_saturates(telecom_runs)[0]
    assert sat.passed and sat.detail["return_at_100pct"] < sat.detail["return_at_5pct"] / 3
    keep = facts.win_vs_keep(telecom_runs)[0]
    assert keep.passed and keep.value >= 3


def test_over_serving_is_bounded_not_a_cliff(telecom_runs):
    """2× any lever of the status quo keeps retention within noise; 4× returns less than 1×."""
    got = facts.over_serving(telecom_runs)
    assert {f.key for f in got} >= {"twice_care", "return_4x_care", "twice_cross_sell"}
    assert all(f.passed for f in got), [(f.key, f.value, f.target) for f in got if not f.passed]


@pytest.mark.parametrize("cid", builtin_case_ids())
def test_status_quo_fits_its_budget_and_spends_what_was_forecast(cid):
    runs = facts.CaseRuns(load_case(cid), 3000, (1,))
    fits, error = facts.budget_forecast(runs)
    assert fits.passed, fits.detail
    assert error.passed, (error.value, error.detail)


@pytest.mark.parametrize("cid", ["telecom", "retail", "online_retailer"])
def test_no_change_confined_to_the_end_raises_the_score(cid):
    runs = facts.CaseRuns(load_case(cid), 3000, SEEDS)
    got = facts.no_window_dressing(runs)
    assert len(got) >= 2
    assert all(f.passed for f in got), [(f.key, f.value, f.detail) for f in got]


def test_what_the_first_audit_confirmed_still_holds():
    for cid in ("telecom", "b2b_it"):
        got = _by_key(facts.what_works(facts.CaseRuns(load_case(cid), 3000, (1, 2))))
        assert got["zero_service_loses"].passed and got["blanket_discount_loses"].passed
    assert got["key_accounts_first"].passed  # b2b_it: key accounts first beats an equal split


def test_facts_command_prints_a_table_and_writes_json(capsys, tmp_path):
    out_file = tmp_path / "facts.json"
    args = ["--case", "rice_shop", "--customers", "1500", "--seeds", "2", "--json", str(out_file)]
    code = main(["--lang", "en", "facts", *args])
    out, err = capsys.readouterr()
    rows = json.loads(out_file.read_text(encoding="utf-8"))
    assert "Traceback" not in out + err
    assert {r["fact"] for r in rows} >= {"churn_band", "tarp_small", "sat_churn_ratio"}
    assert all(r["case"] == "rice_shop" and r["title"] for r in rows)
    failed = [r for r in rows if r["passed"] is False]
    assert code == (1 if failed else 0)
    assert "ok" in out and f"{len(rows)} facts, {len(failed)} not met" in err


def test_facts_command_fails_a_case_with_a_cliff_of_fatigue(capsys, tmp_path):
    """A case whose over-serving is a cliff (fatigue huge, from a low dose) must fail."""
    data = json.loads(load_case("telecom").model_dump_json())
    data["model"]["fatigue"] = 5.0
    data["model"]["fatigue_dose"] = 0.3
    data["id"] = "broken_telecom"
    from crmsim.model.case import Case

    broken = Case.model_validate(data)
    got = _by_key(facts.over_serving(facts.CaseRuns(broken, 2000, (1, 2))))
    assert got["twice_care"].passed is False and got["twice_care"].value < 0
    path = tmp_path / "broken.toml"
    path.write_text(_toml(data), encoding="utf-8")
    code = main(
        ["--lang", "zh", "facts", "--case", str(path), "--customers", "1500", "--seeds", "2"]
    )
    out, err = capsys.readouterr()
    assert code == 1 and "FAIL" in out and "Traceback" not in out + err


def test_facts_command_refuses_bad_arguments(capsys):
    assert main(["--lang", "en", "facts", "--case", "telecom", "--seeds", "0"]) == 1
    assert "seeds" in capsys.readouterr().err


def _toml(data: dict) -> str:
    """A case mapping as TOML (enough for this test: tables, arrays, strings, numbers)."""

    def value(v):
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, str):
            return json.dumps(v, ensure_ascii=False)
        if isinstance(v, list | tuple):
            return "[" + ", ".join(value(x) for x in v) + "]"
        if isinstance(v, dict):
            kept = [(k, x) for k, x in v.items() if x is not None]
            return "{ " + ", ".join(f"{json.dumps(k)} = {value(x)}" for k, x in kept) + " }"
        return repr(v)

    lines = []
    for k, v in data.items():
        if v is None or (isinstance(v, dict) and not v and k != "acquisition"):
            continue
        lines.append(f"{k} = {value(v)}")
    return "\n".join(lines) + "\n"


def test_sat_churn_bins_cover_the_run():
    """The Jones–Sasser figure reads the run's own counts: at risk and churned by satisfaction."""
    runs = facts.CaseRuns(load_case("telecom"), 2000, (1,))
    res = runs.run("sq", runs.sq, 1)
    assert res.sat_risk.shape == res.sat_churn.shape == (res.months, 20)
    np.testing.assert_array_equal(res.sat_risk.sum(axis=1), res.monthly["active_start"])
    np.testing.assert_array_equal(res.sat_churn.sum(axis=1), res.monthly["churned"])
