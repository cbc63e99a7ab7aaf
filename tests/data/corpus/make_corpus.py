"""Writes the hostile-input corpus beside it: cases, plans, customers files, purchase logs.

The files are the corpus (committed); this script says how each was made, so a byte-level
trick (GBK that also decodes as UTF-8, CR-only line ends, a workbook renamed .csv, a file nested
3,000 levels deep) is reproducible. The rule for each file is in ``rules.toml`` in its folder.
Run it from the repository root: ``python tests/data/corpus/make_corpus.py``.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
BASE_CASE = (HERE.parent / "broken_cases" / "00_valid_base.toml").read_text(encoding="utf-8")


def _write(folder: str, name: str, data: bytes | str) -> None:
    path = HERE / folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)


def _workbook() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:  # fixed dates: the same bytes on every run
        for name, body in (("[Content_Types].xml", "<Types/>"), ("xl/workbook.xml", "<workbook/>")):
            z.writestr(zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0)), body)
    return buf.getvalue()


def _case(old: str, new: str) -> str:
    assert old in BASE_CASE, old
    return BASE_CASE.replace(old, new, 1)


def cases() -> None:
    sq_seg = 'segmentation = { method = "pyramid" }'
    _write("cases", "c01_crlf.toml", BASE_CASE.replace("\n", "\r\n"))
    _write("cases", "c02_cr_only.toml", BASE_CASE.replace("\n", "\r"))
    _write("cases", "c03_bom.toml", "\ufeff" + BASE_CASE)
    _write(
        "cases", "c10_nested_3000_deep.toml", BASE_CASE + "x = " + "[" * 3000 + "]" * 3000 + "\n"
    )
    _write("cases", "c11_integer_5000_digits.toml", _case("months = 24", "months = " + "9" * 5000))
    _write(
        "cases",
        "c12_status_quo_pyramid_two_shares.toml",
        _case(sq_seg, 'segmentation = { method = "pyramid", params = { shares = [0.5, 0.5] } }'),
    )
    _write(
        "cases",
        "c13_status_quo_kmeans_k50.toml",
        _case(sq_seg, 'segmentation = { method = "kmeans", params = { k = 50 } }'),
    )
    _write(
        "cases",
        "c14_status_quo_acquisition_nan.toml",
        _case("acquisition = { online = 2000.0 }", "acquisition = { online = nan }"),
    )
    _write(
        "cases",
        "c15_status_quo_acquisition_negative.toml",
        _case("acquisition = { online = 2000.0 }", "acquisition = { online = -50000.0 }"),
    )
    _write("cases", "c16_months_as_text.toml", _case("months = 24", 'months = "36"'))
    _write(
        "cases",
        "c17_care_as_text.toml",
        _case(
            "[status_quo.allocations.key]\ncare = 5000.0",
            '[status_quo.allocations.key]\ncare = "2000"',
        ),
    )
    _write(
        "cases",
        "c18_kam_true.toml",
        _case(
            "[status_quo.allocations.key]\ncare = 5000.0",
            "[status_quo.allocations.key]\nkam = true\ncare = 5000.0",
        ),
    )
    _write("cases", "c19_budget_true.toml", _case("budget = 20000.0", "budget = true"))
    _write("cases", "c20_blank_zh_title.toml", _case('zh = "测试案例"', 'zh = "   "'))
    _write("cases", "c21_duplicate_key.toml", _case("months = 24", "months = 24\nmonths = 36"))
    _write("cases", "c22_budget_nan.toml", _case("budget = 20000.0", "budget = nan"))
    _write("cases", "c23_budget_inf.toml", _case("budget = 20000.0", "budget = inf"))
    _write("cases", "c24_workbook_renamed.toml", _workbook())
    rules = (
        'segmentation = { method = "rules", params = { rules = [{ segment = "vip", conditions = '
        '[{ field = "__import__(\'os\')", op = ">", value = 1 }] }] } }'
    )
    _write("cases", "c25_status_quo_rule_field.toml", _case(sq_seg, rules))
    _write("cases", "c26_unclosed_text.toml", _case('en = "A small firm."', 'en = "A small firm.'))
    _write("cases", "c27_gbk_notepad.toml", BASE_CASE.encode("gbk"))


PLAN = """name = "{name}"
[segmentation]
method = "{method}"{params}
[allocations.{seg}]
care = {care}
recovery = 500.0
"""


def _plan(name="mine", method="pyramid", params="", seg="key", care="3000.0") -> str:
    return PLAN.format(name=name, method=method, params=params, seg=seg, care=care)


def plans() -> None:
    _write("plans", "p01_rfm.toml", _plan("rfm first", "rfm", "", "champions"))
    kmeans = {
        "name": "clusters",
        "segmentation": {"method": "kmeans", "params": {"k": 4}},
        "allocations": {"cluster_1": {"care": 4000.0, "kam": 1}, "cluster_4": {"care": 500.0}},
    }
    _write("plans", "p02_kmeans.json", json.dumps(kmeans, indent=1))
    _write(
        "plans",
        "p03_mentions_population.toml",
        "# written for the whole population: allocations by pyramid\n"
        + _plan("population-wide care"),
    )
    _write(
        "plans", "p04_bom_crlf.json", "\ufeff" + json.dumps(kmeans, indent=1).replace("\n", "\r\n")
    )
    _write(
        "plans", "p10_duplicate_key.json", '{"allocations": {"key": {"care": 1000, "care": 30000}}}'
    )
    _write("plans", "p11_nested_3000_deep.json", '{"name": ' + "[" * 3000 + "]" * 3000 + "}")
    _write(
        "plans",
        "p12_integer_5000_digits.json",
        '{"allocations": {"key": {"kam": ' + "9" * 5000 + "}}}",
    )
    _write("plans", "p13_nan.json", '{"allocations": {"key": {"care": NaN}}}')
    _write("plans", "p14_overflow_1e400.json", '{"allocations": {"key": {"care": 1e400}}}')
    _write("plans", "p15_care_as_text.toml", _plan(care='"2000"'))
    _write("plans", "p16_kam_true.toml", _plan() + "kam = true\n")
    rule = (
        '\nparams = { rules = [{ segment = "vip", conditions = '
        '[{ field = "__import__(\'os\')", op = ">", value = 1 }] }] }'
    )
    _write("plans", "p17_rule_field_import.toml", _plan("x", "rules", rule, "vip"))
    _write(
        "plans", "p18_pyramid_two_shares.toml", _plan(params="\nparams = { shares = [0.5, 0.5] }")
    )
    k50 = {"segmentation": {"method": "kmeans", "params": {"k": 50}}, "allocations": {}}
    _write("plans", "p19_kmeans_k50.json", json.dumps(k50))
    _write("plans", "p20_acquisition_negative.toml", _plan() + "[acquisition]\nonline = -50000.0\n")
    _write("plans", "p21_trailing_comma.json", '{\n  "name": "x",\n  "allocations": {},\n}\n')
    _write("plans", "p22_toml_syntax.toml", 'name = "x" extra\n')
    _write("plans", "p23_gbk_notepad.toml", _plan("关怀优先").encode("gbk"))
    _write("plans", "p24_rfm_plan_with_a_pyramid_segment.toml", _plan("rfm", "rfm", "", "key"))
    _write("plans", "p25_over_budget.toml", _plan(care="900000.0"))


def _customers(rows: list[str], header: str = "customer_id,name,city,monetary,stage") -> str:
    return header + "\n" + "\n".join(rows) + "\n"


def customers() -> None:
    zh = "客户编号,名称,城市,月均消费,生命周期阶段\n"
    zh += "A1,王伟,北京,120.5,稳定期\nA2,李娜,上海,30,考察期\nA3,张敏,广州,299.5,形成期\n"
    _write("customers", "u01_excel_gbk.csv", zh.encode("gbk"))
    _write(
        "customers",
        "u02_gbk_that_reads_as_utf8.csv",
        _customers(["A1,郑伟,太原,100,"]).encode("gbk"),
    )
    mac = _customers(["A1,王伟,北京,10,", "A2,李娜,上海,20,"]).replace("\n", "\r")
    _write("customers", "u03_mac_cr_only.csv", mac)
    _write(
        "customers",
        "u04_semicolon.csv",
        _customers(
            ["A1;Wang;Beijing;10;", "A2;Li;Shanghai;20;"], "customer_id;name;city;monetary;stage"
        ),
    )
    tab = "客户编号\t月均消费\nA1\t5\nA2\t7.5\n"
    _write("customers", "u05_unicode_text_utf16.txt", tab.encode("utf-16"))
    _write(
        "customers",
        "u06_currency_and_thousands.csv",
        _customers(['A1,王伟,北京,"¥1,200.00",', "A2,李娜,上海,￥35.5元,"]),
    )
    _write(
        "customers",
        "u07_english_titles.csv",
        "Customer ID,Mean monthly spend,Survey score\nA1,5,9\nA2,6,\n",
    )
    _write("customers", "u08_excel_sep_line.csv", "sep=;\ncustomer_id;monetary\nA1;5\nA2;6\n")
    _write("customers", "u10_thousands_unquoted.csv", "customer_id,monetary\nA1,1,234.5\nA2,5\n")
    _write("customers", "u11_monetary_inf.csv", "customer_id,monetary\nA1,inf\nA2,5\nA3,Infinity\n")
    _write("customers", "u12_survey_99.csv", "customer_id,monetary,survey_score\nA1,5,9\nA2,6,99\n")
    _write("customers", "u13_ids_7_and_7_0.csv", "customer_id,monetary\n7,5\n7.0,6\n")
    _write("customers", "u14_unbalanced_quote_in_header.csv", 'customer_id,"monetary\nA1,5\nA2,6\n')
    _write("customers", "u15_workbook_renamed.csv", _workbook())
    _write(
        "customers",
        "u16_ids_in_scientific_notation.csv",
        "customer_id,monetary\n1.23457E+11,5\n2,6\n",
    )
    _write("customers", "u17_decimal_comma.csv", "customer_id;monetary\nA1;1,5\nA2;2\n")
    _write("customers", "u18_monetary_nan.csv", "customer_id,monetary\nA1,nan\nA2,5\n")
    _write("customers", "u19_no_monetary.csv", "customer_id,name\nA1,王伟\n")
    _write("customers", "u20_unknown_column.csv", "customer_id,monetary,shoe_size\nA1,5,42\n")
    _write("customers", "u21_negative.csv", "customer_id,monetary\nA1,-5\n")


def _log(
    date_of,
    amount_of=lambda i: f"{10 + i % 7}",
    customers: int = 30,
    n: int = 240,
    header: str = "customer_id,date,amount",
    sep: str = ",",
    id_of=lambda i, k: f"c{k}",
) -> str:
    """A log a model can be fitted to: ``customers`` buyers, purchases over eight months."""
    rows = []
    for i in range(n):
        k = i % customers
        rows.append(sep.join([id_of(i, k), date_of(i), amount_of(i)]))
    return header + "\n" + "\n".join(rows) + "\n"


def _day(i: int) -> tuple[int, int]:
    """Month 1–8 and day 1–28 of purchase ``i``: each buyer comes back in later months."""
    return 1 + (i // 30) % 8, 1 + (i * 7) % 28


def _iso(i: int) -> str:
    month, day = _day(i)
    return f"2024-{month:02d}-{day:02d}"


def transactions() -> None:
    _write(
        "transactions",
        "t01_excel_zh_datetime.csv",
        _log(lambda i: f"2024/{_day(i)[0]}/{_day(i)[1]} 10:{i % 60:02d}"),
    )
    _write(
        "transactions",
        "t02_iso_with_zone.csv",
        _log(
            lambda i: (
                f"2024-{_day(i)[0]:02d}-{_day(i)[1]:02d}T09:30:00" + ("Z" if i % 2 else "+08:00")
            )
        ),
    )
    cjk = _log(lambda i: f"2024年{_day(i)[0]}月{_day(i)[1]}日", header="客户编号,交易日期,消费金额")
    _write("transactions", "t03_chinese_dates_gbk.csv", cjk.encode("gbk"))
    _write(
        "transactions",
        "t04_excel_serials.csv",
        _log(lambda i: str(45292 + (i // 30) * 30 + i % 28)),
    )
    mac = _log(_iso).replace("\n", "\r")
    _write("transactions", "t05_mac_cr_only.csv", mac)
    _write(
        "transactions",
        "t06_semicolon_yuan.csv",
        _log(
            _iso,
            lambda i: f"¥1,{200 + i % 9}.50",
            sep=";",
            header="customer_id;date;amount",
        ),
    )
    _write(
        "transactions",
        "t07_quoted_thousands.csv",
        _log(_iso, lambda i: f'"1,{121 + i % 5}.47"'),
    )
    _write(
        "transactions",
        "t08_month_first_uci.csv",
        _log(
            lambda i: f"{_day(i)[0]}/{_day(i)[1]}/2024 8:26", header="CustomerID,InvoiceDate,Amount"
        ),
    )
    _write(
        "transactions",
        "t09_ids_with_dot_zero.csv",
        _log(
            _iso,
            id_of=lambda i, k: f"{1000 + k}" + (".0" if i % 2 else ""),
        ),
    )
    tab = _log(
        _iso,
        sep="\t",
        header="客户编号\t交易日期\t金额",
    )
    _write("transactions", "t10_unicode_text_utf16.txt", tab.encode("utf-16"))
    plain = _log(_iso)
    lines = plain.split("\n")
    _write(
        "transactions",
        "t20_thousands_unquoted.csv",
        "\n".join([*lines[:5], "c1,2024-02-05,1,121.47", *lines[5:]]),
    )
    _write(
        "transactions",
        "t21_amount_inf.csv",
        "\n".join([*lines[:5], "c1,2024-02-05,inf", *lines[5:]]),
    )
    _write(
        "transactions",
        "t22_amount_1e400.csv",
        "\n".join([*lines[:5], "c1,2024-02-05,1e400", *lines[5:]]),
    )
    _write(
        "transactions",
        "t23_ambiguous_day_month.csv",
        _log(lambda i: f"{_day(i)[1] % 12 + 1:02d}/{_day(i)[0]:02d}/2024"),
    )
    _write("transactions", "t24_one_day.csv", _log(lambda i: "2024-05-01"))
    _write(
        "transactions",
        "t25_unclosed_quote.csv",
        "\n".join([*lines[:5], 'c1,2024-02-05,"12.5', *lines[5:]]),
    )
    _write(
        "transactions",
        "t26_future_dates.csv",
        _log(lambda i: "2099" + _iso(i)[4:]),
    )
    _write(
        "transactions",
        "t27_no_amount_column.csv",
        "customer_id,date\nc1,2024-01-05\nc2,2024-02-05\n",
    )
    _write("transactions", "t28_workbook_renamed.csv", _workbook())
    _write(
        "transactions",
        "t29_amounts_as_text.csv",
        _log(
            _iso,
            lambda i: "abc" if i % 10 == 0 else "5",
        ),
    )
    _write(
        "transactions",
        "t30_ids_in_scientific_notation.csv",
        _log(
            _iso,
            id_of=lambda i, k: "1.23457E+11" if k == 3 else f"c{k}",
        ),
    )


if __name__ == "__main__":
    cases()
    plans()
    customers()
    transactions()
