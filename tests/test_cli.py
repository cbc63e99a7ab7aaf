import json

import pandas as pd
import pytest

from crmsim.cli import main

SIM_KEYS = {
    "customers_start",
    "active_end",
    "churned",
    "retention_rate",
    "revenue",
    "gross_margin",
    "service_cost",
    "profit",
    "npv",
    "customer_equity_end",
    "roi_vs_status_quo",
    "avg_satisfaction_end",
    "complaints",
    "recovery_rate",
    "by_segment",
    "monthly",
}


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def test_cases_lists_presets(capsys):
    code, out, _ = run(capsys, "--lang", "zh", "cases")
    assert code == 0 and "telecom" in out and "移动运营商" in out


def test_simulate_writes_every_documented_key(capsys, tmp_path):
    path = tmp_path / "out.json"
    code, _, _ = run(
        capsys,
        "simulate",
        "--case",
        "telecom",
        "--preset",
        "pyramid",
        "--customers",
        "1000",
        "--months",
        "12",
        "--seed",
        "3",
        "--json",
        str(path),
    )
    assert code == 0
    data = json.loads(path.read_text(encoding="utf-8"))
    assert set(data) >= SIM_KEYS
    assert len(data["monthly"]) == 12 and set(data["by_segment"]) == {"key", "ordinary", "small"}
    assert data["roi_vs_status_quo"] is not None
    assert data["meta"]["seed"] == 3


def test_simulate_with_a_plan_file_in_both_languages(capsys, tmp_path):
    plan = tmp_path / "p.toml"
    plan.write_text('name = "mine"\n[allocations.key]\ncare = 5000.0\n', encoding="utf-8")
    argv = ["simulate", "--case", "telecom", "--plan", str(plan), "--customers", "500"]
    code, out, _ = run(capsys, "--lang", "en", *argv, "--months", "6")
    assert code == 0 and "\nProfit: " in out and "Complaints resolved: " in out
    code, out, _ = run(capsys, "--lang", "zh", *argv, "--months", "6")
    assert code == 0 and "\n利润: " in out and "投诉解决率: " in out


def test_bad_plan_gets_field_messages_and_exit_1(capsys, tmp_path):
    plan = tmp_path / "p.toml"
    plan.write_text("[allocations.whales]\ncare = -1\n", encoding="utf-8")
    code, _, err = run(
        capsys,
        "--lang",
        "en",
        "simulate",
        "--case",
        "telecom",
        "--plan",
        str(plan),
        "--customers",
        "500",
        "--months",
        "3",
    )
    assert code == 1 and "allocations.whales.care" in err and "minimum" in err


def test_plan_for_missing_segment(capsys, tmp_path):
    plan = tmp_path / "p.json"
    plan.write_text('{"allocations": {"whales": {"care": 1}}}', encoding="utf-8")
    code, _, err = run(
        capsys,
        "--lang",
        "zh",
        "simulate",
        "--case",
        "telecom",
        "--plan",
        str(plan),
        "--customers",
        "500",
        "--months",
        "3",
    )
    assert code == 1 and "whales" in err and "细分群" in err


@pytest.mark.parametrize(
    "argv",
    [
        ["simulate", "--case", "nope"],
        ["simulate", "--case", "telecom", "--customers", "5"],
        ["simulate", "--case", "telecom", "--customers", "500", "--months", "500"],
        ["simulate", "--case", "telecom", "--plan", "/no/such/file.toml"],
        ["segment", "--case", "telecom", "--params", "{oops"],
        ["validate", "/no/such/case.toml"],
    ],
)
def test_bad_arguments_exit_1_without_traceback(capsys, argv):
    code, _, err = run(capsys, *argv)
    assert code == 1 and err.strip()


def test_validate_good_case_with_calibration(capsys):
    from crmsim.cases import CASES_DIR

    code, out, _ = run(
        capsys, "--lang", "en", "validate", str(CASES_DIR / "saas.toml"), "--customers", "5000"
    )
    assert code == 0 and "monthly churn" in out and "met" in out


def test_validate_broken_case(capsys, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('id = "x"\nversion = "1"\n[title]\nzh = "甲"\n', encoding="utf-8")
    code, _, err = run(capsys, "--lang", "zh", "validate", str(bad))
    assert code == 1 and "title.en" in err and "缺少必填项" in err


def test_validate_plan_against_a_case(capsys, tmp_path):
    plan = tmp_path / "p.toml"
    plan.write_text("[allocations.key]\ncare = 900000.0\n", encoding="utf-8")
    code, _, err = run(
        capsys, "--lang", "en", "validate", str(plan), "--kind", "plan", "--case", "telecom"
    )
    assert code == 1 and "above the budget" in err


def test_generate_writes_excel_friendly_csv(capsys, tmp_path):
    path = tmp_path / "c.csv"
    code, _, _ = run(
        capsys, "generate", "--case", "telecom", "--customers", "300", "--out", str(path)
    )
    assert code == 0
    assert path.read_bytes()[:3] == b"\xef\xbb\xbf"
    df = pd.read_csv(path, encoding="utf-8-sig")
    assert len(df) == 300 and df["name"].str.contains(r"[\u4e00-\u9fff]").all()


def test_segment_prints_profiles(capsys, tmp_path):
    out_json = tmp_path / "seg.json"
    code, out, _ = run(
        capsys,
        "--lang",
        "zh",
        "segment",
        "--case",
        "telecom",
        "--customers",
        "1000",
        "--method",
        "rfm",
        "--json",
        str(out_json),
    )
    assert code == 0 and "冠军客户" in out
    assert len(json.loads(out_json.read_text(encoding="utf-8"))) == 8


def test_compare_presets(capsys):
    code, out, _ = run(
        capsys,
        "compare",
        "--case",
        "telecom",
        "--customers",
        "1000",
        "--months",
        "6",
        "--presets",
        "status_quo",
        "zero",
    )
    assert code == 0 and "status_quo" in out and "zero" in out


def test_bench_quick_reports_every_key(capsys, tmp_path):
    path = tmp_path / "b.json"
    code, _, _ = run(capsys, "bench", "--quick", "--json", str(path))
    data = json.loads(path.read_text())
    assert code == 0
    assert {"ns_per_customer_month", "population_100k_s", "ratio_vs_reference", "machine"} <= set(
        data
    )
    assert all(v > 0 for v in data["ns_per_customer_month"].values())
    assert data["ratio_vs_reference"] > 1
    assert data["clv_fit_master_s"] > 0 and set(data["clv_fit_steps_s"]) == {
        "read",
        "summary",
        "bgnbd",
        "gamma_gamma",
    }
