"""The hostile-input corpus (tests/data/corpus): every case, plan, customers file and purchase
log through the library, the command line and the app's upload on its page, each held to the
rule written beside it (``rules.toml``: accept with these values, or refuse naming this field).
"""

from __future__ import annotations

import re
import tomllib
from datetime import date
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from crmsim.cases import load_case, load_case_bytes
from crmsim.cli import main
from crmsim.customers_io import read_customers_csv
from crmsim.errors import InputError
from crmsim.i18n import t
from crmsim.plans import check_plan_for_case, load_plan_bytes
from crmsim.transactions import read_transactions, rfm_summary
from tests.conftest import ROOT

CORPUS = Path(__file__).parent / "data" / "corpus"
KINDS = ("cases", "plans", "customers", "transactions")
RULES = {k: tomllib.loads((CORPUS / k / "rules.toml").read_text(encoding="utf-8")) for k in KINDS}
FILES = [(k, name) for k in KINDS for name in RULES[k]]
ENGLISH = re.compile(r"[A-Za-z]{2,} [A-Za-z]{2,}")  # two English words in a row: prose
TODAY = date(2026, 11, 22)


def _read(kind: str, name: str) -> dict:
    """Read one corpus file as the library does; the values its rule speaks of."""
    path = CORPUS / kind / name
    raw = path.read_bytes()
    if kind == "cases":
        case = load_case_bytes(raw, name)
        return {"id": case.id, "budget": case.budget}
    if kind == "plans":
        plan = load_plan_bytes(raw, "json" if path.suffix == ".json" else "toml", name)
        issues = check_plan_for_case(plan, load_case("telecom"))
        if issues:
            raise InputError(issues, name)
        return {"name": plan.name, "method": plan.segmentation.method}
    if kind == "customers":
        table, encoding = read_customers_csv(raw, name)
        got = {"rows": len(table), "encoding": encoding, "monetary": table["monetary"].sum()}
        got["first_id"] = table["customer_id"].iloc[0]
        if "name" in table:
            got["first_name"] = table["name"].iloc[0]
        return got
    tx = read_transactions(raw, source=name, today=TODAY)
    rfm_summary(tx)
    return {
        "rows": len(tx.frame),
        "customers": tx.frame["customer_id"].nunique(),
        "encoding": tx.encoding,
        "first": f"{tx.first_date:%Y-%m-%d}",
        "last": f"{tx.last_date:%Y-%m-%d}",
        "amount": round(float(tx.frame["amount"].sum()), 2),
    }


def test_the_corpus_covers_every_kind_and_every_file_has_its_rule():
    for kind in KINDS:
        files = {p.name for p in (CORPUS / kind).iterdir() if p.name != "rules.toml"}
        assert files == set(RULES[kind]), kind
        rules = RULES[kind].values()
        assert sum("accept" in r for r in rules) >= 3 and sum("refuse" in r for r in rules) >= 10
        assert all(("accept" in r) != ("refuse" in r) and r["why"] for r in rules)


@pytest.mark.parametrize(("kind", "name"), FILES, ids=[n for _, n in FILES])
def test_library(kind, name):
    rule = RULES[kind][name]
    if "accept" in rule:
        got = _read(kind, name)
        assert {k: got[k] for k in rule["accept"]} == pytest.approx(rule["accept"])
        return
    with pytest.raises(InputError) as info:
        _read(kind, name)
    first, want = info.value.issues[0], rule["refuse"]
    assert (first.field, first.key) == (want["field"], want["key"])
    for lang in ("zh", "en"):
        report = info.value.report(lang)
        assert want[lang] in report and "Traceback" not in report
    for line in info.value.report("zh").splitlines():  # no parser English in Chinese
        message = re.sub(r"“[^”]*”|\"[^\"]*\"", "", line.split("：", 1)[-1])
        message = re.sub(r"\b(CSV|UTF|TOML|JSON|GBK|ANSI|Excel|Windows)\b", "", message)
        assert not ENGLISH.search(message), line  # field and column names are fine


def _cli(kind: str, name: str) -> list[str]:
    path = str(CORPUS / kind / name)
    return {
        "cases": ["validate", path, "--kind", "case", "--no-calibration"],
        "plans": ["validate", path, "--kind", "plan", "--case", "telecom"],
        "customers": ["validate", path, "--kind", "customers"],
        "transactions": ["rfm", "--transactions", path],
    }[kind]


@pytest.mark.parametrize(("kind", "name"), FILES, ids=[n for _, n in FILES])
def test_command_line(kind, name, capsys):
    rule = RULES[kind][name]
    code = main(["--lang", "zh", *_cli(kind, name)])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err and "internal error" not in err
    if "accept" in rule:
        assert code == 0, err
        return
    want = rule["refuse"]
    assert code == 1 and name in err and want["zh"] in err
    assert want["field"] in err


# -- the app's uploads -------------------------------------------------------------------------
@pytest.fixture(autouse=True)
def _fresh_caches():
    st.cache_data.clear()
    yield


def _app(page: str | None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=240)
    at.query_params["lang"] = "zh"
    at.session_state["setup"] = {"case_id": "telecom", "customers": 1000, "seed": 5}
    if page:
        at.switch_page(f"pages/{page}.py")
    at.run()
    return at


def _upload(at: AppTest, key: str, name: str, kind: str) -> None:
    raw = (CORPUS / kind / name).read_bytes()
    at.file_uploader(key=key).upload(name, raw, "application/octet-stream").run()
    assert not at.exception, name


def test_every_case_file_through_the_home_page():
    at = _app(None)
    for name, rule in RULES["cases"].items():
        at.selectbox(key="case_id").select("telecom").run()
        _upload(at, "case_upload", name, "cases")
        picked = at.selectbox(key="case_id").value
        if "accept" in rule:
            assert picked.startswith("upload_") and not at.error, name
            assert any(rule["accept"]["id"] in s.value for s in at.success), name
        else:
            assert picked == "telecom", name  # the case chosen before stays
            assert rule["refuse"]["zh"] in at.error[0].value, name
            assert "电信" in at.info[0].value, name  # and the page says so


def test_every_plan_file_through_the_plan_page():
    at = _app("plan")
    for name, rule in RULES["plans"].items():
        before = at.session_state["plan_json"]
        _upload(at, "plan_upload", name, "plans")
        if "accept" in rule:
            assert not at.error, (name, [e.value for e in at.error])
            assert f'"method":"{rule["accept"]["method"]}"' in at.session_state[
                "plan_json"
            ].replace(" ", ""), name
            continue
        want = rule["refuse"]
        report = at.error[0].value
        if want["key"] not in ("unknown_segment", "over_budget"):  # said in the page's words
            assert want["zh"] in report, (name, report)
        assert want["field"] in report, (name, report)
        assert at.session_state["plan_json"] == before, name  # the plan being edited stays
        assert t("problem.upload_kept", "zh") in [i.value for i in at.info], name


def test_every_customers_file_through_the_customers_page():
    at = _app("customers")
    for name, rule in RULES["customers"].items():
        _upload(at, "cust_upload", name, "customers")
        if "accept" in rule:
            assert not at.error, name
            assert len(at.session_state["cust_uploaded"]) == rule["accept"]["rows"], name
        else:
            assert rule["refuse"]["zh"] in at.error[0].value, name
            assert t("cust.kept", "zh") in [i.value for i in at.info], name


def test_every_purchase_log_through_the_real_data_page():
    at = _app("real_data")
    at.radio(key="real_source").set_value("upload").run()
    for name, rule in RULES["transactions"].items():
        _upload(at, "real_upload", name, "transactions")
        if "accept" in rule:
            acc = rule["accept"]
            assert not at.error, (name, [e.value for e in at.error])
            read = t(
                "real.read",
                "zh",
                rows=f"{acc['rows']:,}",
                customers=f"{acc['customers']:,}",
                first=acc["first"],
                last=acc["last"],
                encoding=acc["encoding"],
            )
            assert read in [c.value for c in at.caption], name
        else:
            assert rule["refuse"]["zh"] in at.error[0].value, name
            kept = at.session_state["real_log"]
            assert kept is not None and kept.source != name  # the log analysed before stays
            assert any(i.value.startswith("页面上仍保留") for i in at.info), name
