"""Real purchase logs: import, the buy-till-you-die summary, BG/NBD and Gamma-Gamma checked
against the published CDNOW results, parameter recovery on simulated data, bad files."""

import json
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from crmsim.cli import main
from crmsim.errors import InputError
from crmsim.transactions import (
    BGNBD,
    analyse,
    customer_values,
    fit_bgnbd,
    fit_gamma_gamma,
    holdout_table,
    population_like,
    read_transactions,
    rfm_summary,
    segment_frame,
)

CDNOW = Path(__file__).parent / "data" / "cdnow_sample.csv"
TODAY = date(2026, 11, 22)


@pytest.fixture(scope="module")
def cdnow():
    tx = read_transactions(CDNOW.read_bytes(), today=TODAY)
    return tx, rfm_summary(tx, "1997-09-30", "1998-06-30", "W")


def _csv(rows: list[str], header: str = "customer_id,date,amount") -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode("utf-8")


# -- the published numbers -----------------------------------------------------------------
def test_cdnow_summary_is_the_papers(cdnow):
    _, s = cdnow
    assert len(s) == 2357
    assert int(s["frequency"].sum()) == 2457  # repeat transactions in weeks 1–39
    assert int((s["frequency"] == 0).sum()) == 1411
    assert s["T"].max() == pytest.approx(272 / 7)  # first buyers on 1 January 1997
    first = s.loc["0001"]  # bought 1997-01-01, 01-18, 08-02: two repeats, last in week 30.43
    assert (first["frequency"], round(first["recency"], 2), round(first["T"], 2)) == (
        2,
        30.43,
        38.86,
    )


def test_bgnbd_matches_fader_hardie_lee_2005_within_1_percent(cdnow):
    _, s = cdnow
    bg = fit_bgnbd(s)
    paper = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    for name, value in paper.items():
        assert getattr(bg, name) == pytest.approx(value, rel=0.01), name
    assert bg.log_likelihood == pytest.approx(-9582.4, abs=0.1)


def test_gamma_gamma_matches_fader_hardie_2013_within_1_percent(cdnow):
    _, s = cdnow
    gg = fit_gamma_gamma(s)
    for name, value in {"p": 6.25, "q": 3.74, "v": 15.44}.items():
        assert getattr(gg, name) == pytest.approx(value, rel=0.01), name
    assert gg.n == 946


def test_holdout_predictions_track_the_actual_purchases(cdnow):
    _, s = cdnow
    bg = fit_bgnbd(s)
    table = holdout_table(s, bg)
    assert list(table["group"]) == list(range(8)) and table["customers"].sum() == 2357
    actual = (table["actual"] * table["customers"]).sum()
    predicted = (table["predicted"] * table["customers"]).sum()
    assert actual == s["frequency_holdout"].sum()
    assert abs(predicted / actual - 1) < 0.15
    # more purchases in calibration → more in the holdout, for both the data and the model
    assert np.all(np.diff(table["predicted"]) > 0)
    assert table["actual"].iloc[-1] > 5 * table["actual"].iloc[0]


# -- the model's own logic -----------------------------------------------------------------
def test_p_alive_and_expected_purchases_behave():
    bg = BGNBD(r=0.5, alpha=5.0, a=1.5, b=3.0, log_likelihood=0.0, n=0)
    assert bg.p_alive(0, 0, 30) == pytest.approx(
        1.0
    )  # never bought again: never had a chance to drop
    recent, lapsed = bg.p_alive([3, 3], [29, 5], [30, 30])
    assert 0 < lapsed < recent < 1
    t = np.array([1.0, 10.0, 50.0])
    e = bg.expected(t, 3, 29, 30)
    assert np.all(np.diff(e) > 0) and e[0] > 0
    assert bg.expected(10, 3, 5, 30) < bg.expected(10, 3, 29, 30)
    # a brand-new customer (x = t_x = T = 0) is expected_new
    assert bg.expected(12.0, 0, 0, 0) == pytest.approx(bg.expected_new(12.0), rel=1e-9)


def _simulate_bgnbd(n, r, alpha, a, b, T, seed):
    """Customers drawn from the BG/NBD story: λ ~ Gamma(r, α), p ~ Beta(a, b), Poisson
    purchases, dropout after each purchase with probability p."""
    rng = np.random.default_rng(seed)
    lam = rng.gamma(r, 1 / alpha, n)
    p = rng.beta(a, b, n)
    x, t_x = np.zeros(n), np.zeros(n)
    for i in range(n):
        t = 0.0
        while True:
            t += rng.exponential(1 / lam[i])
            if t > T:
                break
            x[i] += 1
            t_x[i] = t
            if rng.random() < p[i]:
                break
    return pd.DataFrame({"frequency": x, "recency": t_x, "T": np.full(n, T)})


def test_bgnbd_recovers_the_parameters_it_was_simulated_with():
    truth = {"r": 0.8, "alpha": 6.0, "a": 0.9, "b": 3.5}
    s = _simulate_bgnbd(8000, **truth, T=52.0, seed=2024)
    bg = fit_bgnbd(s)
    for name, value in truth.items():
        assert getattr(bg, name) == pytest.approx(value, rel=0.25), name
    # and the fitted model forecasts the next period of a fresh draw from the same process
    assert bg.expected_new(52.0) == pytest.approx(s["frequency"].mean(), rel=0.05)


def test_gamma_gamma_recovers_its_parameters():
    rng = np.random.default_rng(7)
    p, q, v, n = 4.0, 3.0, 20.0, 6000
    nu = rng.gamma(q, 1 / v, n)
    x = rng.integers(1, 8, n)
    m = np.array([rng.gamma(p, 1 / nu[i], x[i]).mean() for i in range(n)])
    gg = fit_gamma_gamma(pd.DataFrame({"frequency": x, "monetary": m}))
    assert gg.p == pytest.approx(p, rel=0.15) and gg.q == pytest.approx(q, rel=0.2)
    assert gg.p * gg.v / (gg.q - 1) == pytest.approx(p * v / (q - 1), rel=0.1)


def test_summary_of_a_hand_made_log():
    raw = _csv(
        [
            "a,2024-01-01,10",
            "a,2024-01-01,5",  # same day: one purchase day of 15
            "a,2024-01-15,20",
            "a,2024-01-29,30",
            "b,2024-01-08,7",
            "c,2024-02-05,9",  # after the calibration end: not in the summary
            "a,2024-02-12,40",  # holdout
        ]
    )
    tx = read_transactions(raw, today=TODAY)
    s = rfm_summary(tx, "2024-01-29", "2024-02-26", "W")
    assert list(s.index) == ["a", "b"]
    a, b = s.loc["a"], s.loc["b"]
    assert (a["frequency"], a["recency"], a["T"], a["monetary"]) == (2, 4.0, 4.0, 25.0)
    assert (b["frequency"], b["recency"], b["T"], b["monetary"]) == (0, 0.0, 3.0, 0.0)
    assert a["total_spend"] == 65.0
    assert (a["frequency_holdout"], a["monetary_holdout"], a["duration_holdout"]) == (1, 40.0, 4.0)
    days = rfm_summary(tx, "2024-01-29", None, "D")
    assert days.loc["a", "T"] == 28.0


def test_customer_values_rank_the_valuable_first(cdnow):
    _, s = cdnow
    bg, gg = fit_bgnbd(s), fit_gamma_gamma(s)
    v = customer_values(s, bg, gg, "W", months=12)
    assert v.index.equals(s.index) and (v["clv"] >= 0).all()
    top = v["clv"].nlargest(100).index
    assert s.loc[top, "frequency"].mean() > 3 * s["frequency"].mean()
    longer = customer_values(s, bg, gg, "W", months=24)
    assert (longer["clv"] >= v["clv"] - 1e-9).all()
    frame = segment_frame(s, v, "W")
    assert list(frame.columns[:5]) == [
        "customer_id",
        "recency",
        "frequency",
        "monetary",
        "revenue_12m",
    ]


def test_population_like_the_data(cdnow):
    from crmsim.cases import load_case
    from crmsim.population import generate

    _, s = cdnow
    bg = fit_bgnbd(s)
    base = load_case("online_retailer")
    made = population_like(s, bg, "W", base, name="cdnow")  # no Gamma-Gamma: the mean spend
    assert made.kind == "noncontractual" and made.id.startswith("like_")
    assert made.population.spend_per_purchase[2] == pytest.approx(
        s["total_spend"].sum() / (s["frequency"] + 1).sum()
    )
    # BG/NBD's mean dropout, raised for the model's hazard terms that lower it (probe run)
    assert bg.a / (bg.a + bg.b) < made.population.base_churn <= 0.5
    assert made.population.frailty_concentration == pytest.approx(bg.a + bg.b)
    pop = generate(made, 4000, seed=3).customers
    months = s["T"] / (365.25 / 12 / 7)
    data_spend = np.median((s["total_spend"] / np.maximum(months, 1))[s["total_spend"] > 0])
    assert np.median(pop["monetary"][pop["monetary"] > 0]) == pytest.approx(data_spend, rel=0.25)
    # the base case's money scales with the spend level, so the status quo still fits
    factor = made.budget / base.budget
    assert made.costs.care == pytest.approx(base.costs.care * factor)
    assert made.status_quo.monthly_money(made.costs.kam_salary) <= made.budget * (1 + 1e-9)


# -- reading files -------------------------------------------------------------------------
def test_reads_gbk_with_chinese_headers_returns_and_duplicates():
    text = (
        '客户编号,交易日期,消费金额\nA1,2024年1月3日,"￥1,200.50"\nA1,2024年1月3日,"￥1,200.50"\n'
    )
    text += "A1,2024年2月1日,-300\nB2,2024年1月9日,88\nB2,2024年1月20日,\n"
    tx = read_transactions(text.encode("gbk"), today=TODAY)
    assert tx.encoding == "gb18030" and tx.date_format == "%Y年%m月%d日"
    assert tx.columns == {"customer": "客户编号", "date": "交易日期", "amount": "消费金额"}
    keys = {n.key for n in tx.notes}
    assert keys == {"tx_returns", "tx_duplicates_kept", "tx_blank_amounts"}
    assert len(tx.frame) == 3 and tx.frame["amount"].max() == 1200.5
    dropped = read_transactions(text.encode("gbk"), today=TODAY, drop_duplicates=True)
    assert len(dropped.frame) == 2
    note = next(n for n in tx.notes if n.key == "tx_returns")
    assert "1 笔退货" in note.render("zh") and "300.00" in note.render("en")


@pytest.mark.parametrize(
    ("raw", "kwargs", "key", "field"),
    [
        (_csv(["a,2024-01-01,5"], "client,when,amount"), {}, "tx_column_not_found", "customer"),
        (_csv(["a,2024-01-01,5"]), {"amount_col": "price"}, "tx_column_missing", "amount"),
        (_csv(["a,yesterday,5", "b,soon,6"]), {}, "tx_bad_dates", "date"),
        (_csv(["a,2024-01-01,", "b,2024-01-02, "]), {}, "column_empty", "amount"),
        (_csv(["a,2030-01-01,5", "b,2024-01-02,6"]), {}, "tx_future", "date"),
        (_csv([",2024-01-01,5"]), {}, "column_blank", "customer_id"),
        (b"customer_id,date,amount\n", {}, "tx_no_rows", ""),
        (b"", {}, "empty_file", ""),
        (b"x" * (100 * 1024 * 1024 + 1), {}, "file_too_large", ""),
    ],
)
def test_bad_logs_are_refused_with_the_column_named(raw, kwargs, key, field):
    with pytest.raises(InputError) as info:
        read_transactions(raw, today=TODAY, **kwargs)
    issue = info.value.issues[0]
    assert issue.key == key and issue.field == field
    for lang in ("zh", "en"):
        text = info.value.report(lang)
        assert text and "Traceback" not in text and "{" not in text


def test_a_single_customer_or_no_repeat_buyers_cannot_be_fitted():
    one = read_transactions(_csv(["a,2024-01-01,5", "a,2024-02-01,6"]), today=TODAY)
    with pytest.raises(InputError) as info:
        analyse(one, "2024-02-01")
    assert info.value.issues[0].key == "tx_too_few"
    rows = [f"c{i},2024-01-{i % 28 + 1:02d},5" for i in range(40)]
    with pytest.raises(InputError) as info:
        analyse(read_transactions(_csv(rows), today=TODAY))
    assert info.value.issues[0].key == "tx_no_repeat"


def test_calibration_end_outside_the_data_is_refused(cdnow):
    tx, _ = cdnow
    for end in ("1996-12-31", "1999-01-01"):
        with pytest.raises(InputError) as info:
            rfm_summary(tx, end)
        assert info.value.issues[0].key == "tx_calibration_end"
        assert "1997-01-01" in info.value.report("en")


# -- command line --------------------------------------------------------------------------
def test_cli_clv_writes_the_documented_json(tmp_path, capsys):
    out = tmp_path / "clv.json"
    table = tmp_path / "clv.csv"
    code = main(
        [
            "clv",
            "--transactions",
            str(CDNOW),
            "--customer-col",
            "customer_id",
            "--date-col",
            "date",
            "--amount-col",
            "amount",
            "--calibration-end",
            "1997-09-30",
            "--time-unit",
            "W",
            "--json",
            str(out),
            "--out",
            str(table),
            "--lang",
            "en",
        ]
    )
    stdout, stderr = capsys.readouterr()
    assert code == 0 and "Traceback" not in stdout + stderr
    body = json.loads(out.read_text(encoding="utf-8"))
    assert set(body["bgnbd"]) == {"r", "alpha", "a", "b", "log_likelihood", "converged", "at_bound"}
    assert set(body["gamma_gamma"]) >= {"p", "q", "v"}
    assert body["bgnbd"]["r"] == pytest.approx(0.243, rel=0.01)
    assert body["customers"] == 2357 and "holdout" in body
    per_customer = pd.read_csv(table, encoding="utf-8-sig")
    assert len(per_customer) == 2357 and {"p_alive", "clv"} <= set(per_customer.columns)
    assert "r=0.2426" in stdout


def test_cli_rfm_and_bad_files(tmp_path, capsys):
    assert main(["rfm", "--transactions", str(CDNOW), "--calibration-end", "19970930"]) == 0
    out, _ = capsys.readouterr()
    assert "2,357" in out
    bad = tmp_path / "bad.csv"
    bad.write_text("who,when,how much\na,b,c\n", encoding="utf-8")
    code = main(["--lang", "zh", "clv", "--transactions", str(bad)])
    _, err = capsys.readouterr()
    assert code == 1 and "没有找到这一用途的列" in err and "--customer-col" in err
    assert "Traceback" not in err
    code = main(["clv", "--transactions", str(CDNOW), "--calibration-end", "05/09/1997"])
    _, err = capsys.readouterr()
    assert code == 1 and "05/09/1997" in err  # 5 September or 9 May: not guessed
    code = main(["clv", "--transactions", str(tmp_path / "missing.csv")])
    _, err = capsys.readouterr()
    assert code == 1 and "missing.csv" in err


# -- the reading layer, as purchase logs meet it (issue 17) ----------------------------------
def test_an_unquoted_thousands_separator_is_refused_by_row_and_a_quoted_one_read():
    rows = ["a,2024-01-05,12.50", "a,2024-02-05,1,121.47", "b,2024-02-07,3"]
    with pytest.raises(InputError) as info:
        read_transactions(_csv(rows), today=TODAY)
    issue = info.value.issues[0]
    assert issue.key == "row_extra_fields" and issue.params["rows"] == "3"
    rows[1] = 'a,2024-02-05,"1,121.47"'
    assert read_transactions(_csv(rows), today=TODAY).frame["amount"].max() == 1121.47


@pytest.mark.parametrize(
    "dates",
    [
        ["2024/1/5 10:00", "2024/2/5 9:30", "2024/3/31 23:59"],  # Excel zh-CN
        ["2024-01-05 10:00", "2024-02-05 09:30", "2024-03-31 23:59"],
        ["2024-01-05T10:00:00Z", "2024-02-05T09:30:00Z", "2024-03-31T23:59:00Z"],
        ["2024-01-05T10:00:00+08:00", "2024-02-05T09:30:00+08:00", "2024-03-31T23:59:00+08:00"],
        ["2024年1月5日", "2024年2月5日", "2024年3月31日"],
        ["45296", "45327", "45382"],  # Excel serials
    ],
)
def test_dates_that_were_refused_before_are_read(dates):
    rows = [f"a,{dates[0]},5", f"a,{dates[1]},6", f"b,{dates[2]},7"]
    tx = read_transactions(_csv(rows), today=TODAY)
    assert [f"{d:%Y-%m-%d}" for d in tx.frame["date"]] == ["2024-01-05", "2024-02-05", "2024-03-31"]


def test_an_ambiguous_log_is_refused_until_the_order_is_given():
    rows = ["a,05/04/2024,5", "a,01/02/2024,6", "b,03/03/2024,7"]
    with pytest.raises(InputError) as info:
        read_transactions(_csv(rows), today=TODAY)
    assert info.value.issues[0].key == "tx_dates_ambiguous"
    tx = read_transactions(_csv(rows), today=TODAY, day_first=True)
    assert f"{tx.first_date:%Y-%m-%d}" == "2024-02-01"
    forced = read_transactions(_csv(rows), today=TODAY, date_format="%m/%d/%Y")
    assert f"{forced.first_date:%Y-%m-%d}" == "2024-01-02"


@pytest.mark.parametrize("end", ["\r", "\r\n"])
def test_mac_and_windows_line_ends_and_semicolons(end):
    raw = end.join(["customer_id;date;amount", "a;2024-01-05;¥12", "b;2024-01-06;7", ""])
    tx = read_transactions(raw.encode(), today=TODAY)
    assert tx.frame["amount"].tolist() == [12.0, 7.0]


def test_ids_a_spreadsheet_wrote_as_7_0_are_the_same_customer():
    tx = read_transactions(_csv(["7,2024-01-05,5", "7.0,2024-02-05,6"]), today=TODAY)
    assert tx.frame["customer_id"].tolist() == ["7", "7"]


def test_non_finite_amounts_are_refused():
    for bad in ("inf", "1e400", "Infinity", "nan"):
        with pytest.raises(InputError) as info:
            read_transactions(_csv(["a,2024-01-05,5", f"a,2024-02-05,{bad}"]), today=TODAY)
        assert info.value.issues[0].key == "column_not_finite", bad
        assert info.value.issues[0].params["rows"] == "3"


def test_a_few_unreadable_amounts_are_left_out_with_a_note_many_are_refused():
    rows = [f"c{i % 50},2024-01-{i % 28 + 1:02d},{5 + i % 9}" for i in range(300)]
    few = read_transactions(_csv([*rows, "c1,2024-02-01,abc"]), today=TODAY)
    assert "tx_amounts_dropped" in {n.key for n in few.notes} and len(few.frame) == 300
    with pytest.raises(InputError) as info:
        read_transactions(_csv([*rows, *["c1,2024-02-01,abc"] * 10]), today=TODAY)
    assert info.value.issues[0].key == "column_not_number"


def test_cli_bad_date_format_inf_amounts_and_a_one_day_log_are_clean_errors(tmp_path, capsys):
    log = tmp_path / "log.csv"
    log.write_bytes(_csv(["a,2024-01-05,5", "a,2024-02-05,6"]))
    code = main(["--lang", "zh", "rfm", "--transactions", str(log), "--date-format", "%Q"])
    _, err = capsys.readouterr()
    assert code == 1 and "%Q" in err and "不是可用的日期格式" in err and "bad directive" not in err
    log.write_bytes(_csv(["a,2024-01-05,5", "a,2024-02-05,inf"]))
    code = main(["--lang", "en", "clv", "--transactions", str(log)])
    _, err = capsys.readouterr()
    assert code == 1 and "finite" in err and "Traceback" not in err
    log.write_bytes(_csv([f"c{i},2024-05-01,{i + 1}" for i in range(40)]))
    code = main(["--lang", "en", "rfm", "--transactions", str(log)])
    _, err = capsys.readouterr()
    assert code == 1 and "within two days" in err and "calibration" not in err
