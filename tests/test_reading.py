"""The reading layer every user file goes through: caps, encodings, line ends, delimiters,
field counts, numbers, dates, and TOML/JSON limits — each refusal a message of our own."""

import re

import pandas as pd
import pytest

from crmsim.errors import InputError
from crmsim.reading import (
    CASE,
    CUSTOMERS,
    LIMITS,
    PLAN,
    TRANSACTIONS,
    decode,
    loads_json,
    parse_dates,
    parse_numbers,
    read_structured,
    read_table,
)
from crmsim.reading.limits import MAX_DEPTH, SERVER_UPLOAD_MB
from tests.conftest import ROOT

LATIN = re.compile(r"[A-Za-z]{4,}")


def _refused(fn, *args, **kwargs) -> InputError:
    with pytest.raises(InputError) as info:
        fn(*args, **kwargs)
    return info.value


def _no_english_in_chinese(exc: InputError) -> None:
    """No parser text in the Chinese report: after each field, and besides quoted values
    from the file, the only Latin words are format names and literals (true, false, null)."""
    allowed = {"TOML", "JSON", "UTF", "GBK", "ANSI", "Windows", "Excel", "CSV", "true", "false"}
    allowed.add("null")
    for line in exc.report("zh").splitlines():
        message = re.sub(r"“[^”]*”|\"[^\"]*\"", "", line.split("：", 1)[-1])
        assert not set(LATIN.findall(message)) - allowed, line


# -- text ------------------------------------------------------------------------------------
def test_a_gbk_file_that_also_decodes_as_utf8_is_read_as_gbk_and_says_so():
    raw = "customer_id,name,city\nA1,郑伟,太原\n".encode("gbk")
    raw.decode("utf-8")  # the trap: these bytes are valid UTF-8 (Hebrew and Greek letters)
    got = decode(raw, CUSTOMERS, "f", header_words=frozenset({"customer_id"}))
    assert got.encoding == "gb18030" and got.also == "utf-8"
    assert "郑伟,太原" in got.text


def test_utf8_chinese_stays_utf8_though_gb18030_would_decode_it_too():
    got = decode("客户编号,名称\n1,王伟\n2,李娜\n".encode(), CUSTOMERS, "f")
    assert got.encoding == "utf-8" and "王伟" in got.text


@pytest.mark.parametrize("end", ["\n", "\r\n", "\r"])
def test_every_line_end_reads_alike(end):
    raw = end.join(["customer_id,monetary", "A1,5", "A2,6", ""]).encode()
    table = read_table(raw, CUSTOMERS, "f", lambda h: h)
    assert table.frame["customer_id"].tolist() == ["A1", "A2"]


def test_utf16_as_excel_saves_unicode_text_is_read():
    raw = "客户编号\t月均消费\n1\t5\n".encode("utf-16")
    table = read_table(raw, CUSTOMERS, "f", lambda h: h)
    assert table.encoding == "utf-16" and table.delimiter == "\t"


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        (b"", "empty_file"),
        (b"\xef\xbb\xbf \r\n", "empty_file"),
        (b"PK\x03\x04\x14\x00rest of a workbook", "workbook_not_text"),
        (b"a,b\n1,2\x00\n", "not_decodable"),
    ],
)
def test_empty_binary_and_workbook_files_are_named(raw, key):
    exc = _refused(read_table, raw, CUSTOMERS, "f", lambda h: h)
    assert exc.issues[0].key == key
    _no_english_in_chinese(exc)


def test_size_cap_is_checked_before_parsing_and_says_both_sizes():
    exc = _refused(decode, b"x" * (PLAN.max_bytes + 1), PLAN, "f")
    assert exc.report("en") == "file: file too large (256.001 KB; at most 256 KB)"
    assert "上限 256 KB" in exc.report("zh")


def test_streamlit_caps_sit_above_ours_and_the_server_takes_the_largest():
    config = (ROOT / ".streamlit" / "config.toml").read_text()
    server_mb = int(re.search(r"maxUploadSize\s*=\s*(\d+)", config).group(1))
    assert server_mb >= SERVER_UPLOAD_MB
    for limit in LIMITS:
        assert limit.widget_mb * 1024 * 1024 > limit.max_bytes
        assert limit.widget_mb <= server_mb


# -- tables ----------------------------------------------------------------------------------
@pytest.mark.parametrize("delim", [",", ";", "\t", "|"])
def test_the_delimiter_is_sniffed(delim):
    raw = (
        delim.join(["customer_id", "monetary"]).encode() + b"\n" + delim.join(["A1", "5"]).encode()
    )
    table = read_table(raw, CUSTOMERS, "f", lambda h: h)
    assert table.delimiter == delim and table.frame["monetary"].tolist() == ["5"]


def test_excel_sep_line_sets_the_delimiter():
    table = read_table(b"sep=;\na;b\n1,5;2\n", CUSTOMERS, "f", lambda h: h)
    assert table.frame.to_dict("list") == {"a": ["1,5"], "b": ["2"]}


@pytest.mark.parametrize(
    "raw",
    [
        b"customer_id,monetary\nA1,1,234.5\nA2,5\n",  # first row: pandas made A1 the index
        b"customer_id,monetary\nA2,5\nA1,1,234.5\n",  # later row: pandas cut it to 1
    ],
)
def test_an_unquoted_thousands_separator_is_refused_by_row(raw):
    exc = _refused(read_table, raw, CUSTOMERS, "f", lambda h: h[:1])
    issue = exc.issues[0]
    assert issue.key == "row_extra_fields" and issue.params["fields"] == 3
    row = "2" if b"A1,1" in raw.split(b"\n")[1] else "3"
    assert issue.params["rows"] == row
    assert "1,234.5" in exc.report("en") and "千位分隔符" in exc.report("zh")


def test_quoted_separators_and_escaped_quotes_are_fine_and_blank_rows_are_skipped():
    raw = b'customer_id,monetary\nA1,"1,234.5"\n\n,\nA2,"x""y"\n'
    table = read_table(raw, CUSTOMERS, "f", lambda h: h)
    assert table.frame["monetary"].tolist() == ["1,234.5", 'x"y']
    assert list(table.frame.index) == [0, 3]  # spreadsheet rows 2 and 5


def test_a_quote_inside_an_unquoted_field_is_text():
    table = read_table(b'a,b\nA1,5" pipe\nA2,3\n', CUSTOMERS, "f", lambda h: h)
    assert table.frame["b"].tolist() == ['5" pipe', "3"]


@pytest.mark.parametrize(("raw", "row"), [(b'a,"b\nA1,2\n', 1), (b'a,b\nA1,2\nA2,"3\nA3,4\n', 3)])
def test_an_unclosed_quote_names_its_row_not_an_empty_file(raw, row):
    exc = _refused(read_table, raw, CUSTOMERS, "f", lambda h: h)
    assert exc.issues[0].key == "unclosed_quote" and exc.issues[0].params["row"] == row
    _no_english_in_chinese(exc)


def test_too_many_rows_is_refused_before_pandas_reads_them():
    raw = b"customer_id,monetary\n" + b"A,1\n" * (CUSTOMERS.max_rows + 1)
    exc = _refused(read_table, raw, CUSTOMERS, "f", lambda h: h)
    assert exc.issues[0].key == "too_many_rows"


# -- numbers ---------------------------------------------------------------------------------
def test_numbers_with_currency_separators_and_brackets():
    raw = ["1,234.5", "¥1,200.00", "￥3", "12元", "(12.00)", "-¥3", "USD 12", "$1,000,000", " 7 "]
    got = parse_numbers(pd.Series(raw))
    assert got.values.tolist() == [1234.5, 1200.0, 3.0, 12.0, -12.0, -3.0, 12.0, 1e6, 7.0]
    assert not got.bad.any() and not got.not_finite.any()


def test_unreadable_and_non_finite_numbers_are_told_apart():
    got = parse_numbers(pd.Series(["abc", "1,5", "1,23", "inf", "Infinity", "-nan", "1e400", ""]))
    assert got.bad.tolist() == [True, True, True, False, False, False, False, False]
    assert got.not_finite.tolist() == [False, False, False, True, True, True, True, False]
    assert got.values.isna().all()


# -- dates -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("values", "day"),
    [
        (["2024-03-31", "2024-01-05"], "2024-03-31"),
        (["2024/3/31 10:00", "2024/1/5 9:05"], "2024-03-31"),  # Excel zh-CN
        (["2024-03-31 14:05", "2024-01-05 09:00"], "2024-03-31"),
        (["2024-03-31T14:05:00Z", "2024-01-05T09:00:00Z"], "2024-03-31"),
        (["2024-03-31T23:30:00+08:00", "2024-01-05T09:00:00-05:00"], "2024-03-31"),
        (["2024-03-31 23:30:00 +0800", "2024-01-05 09:00:00 +0800"], "2024-03-31"),
        (["2024年3月31日", "2024年1月5日"], "2024-03-31"),
        (["2024年3月31日 10:00", "2024年1月5日 8:00"], "2024-03-31"),
        (["20240331", "20240105"], "2024-03-31"),
        (["31/03/2024", "05/01/2024"], "2024-03-31"),
        (["3/31/2024 8:26", "1/5/2024 8:26"], "2024-03-31"),  # UCI Online Retail
        (["31.03.2024", "05.01.2024"], "2024-03-31"),
        (["45382", "45296.42"], "2024-03-31"),  # Excel serial day numbers
    ],
)
def test_dates_as_shops_and_spreadsheets_write_them(values, day):
    got = parse_dates(pd.Series(values))
    assert not got.bad.any()
    assert f"{got.values.iloc[0]:%Y-%m-%d}" == day


def test_an_ambiguous_day_month_order_is_reported_not_guessed():
    values = pd.Series(["05/04/2024", "01/02/2024", "03/03/2024"])
    exc = _refused(parse_dates, values, "order_date")
    issue = exc.issues[0]
    assert issue.field == "order_date" and issue.key == "tx_dates_ambiguous"
    assert issue.params["dmy"] == "2024-04-05" and issue.params["mdy"] == "2024-05-04"
    assert f"{parse_dates(values, day_first=True).values.iloc[0]:%Y-%m-%d}" == "2024-04-05"
    assert f"{parse_dates(values, day_first=False).values.iloc[0]:%Y-%m-%d}" == "2024-05-04"


def test_a_bad_date_format_is_a_clean_error():
    exc = _refused(parse_dates, pd.Series(["2024-01-05"]), date_format="%Q")
    assert exc.issues[0].key == "tx_bad_date_format" and "%Q" in exc.report("zh")
    _no_english_in_chinese(exc)


def test_a_year_is_not_taken_for_a_zone():
    got = parse_dates(pd.Series(["31-03-2024", "05-01-2024"]))
    assert f"{got.values.iloc[0]:%Y-%m-%d}" == "2024-03-31"


# -- TOML and JSON ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "fmt", "key"),
    [
        (b"a = " + b"[" * 3000 + b"]" * 3000, "toml", "too_deep"),
        (b'{"a":' + b"[" * 3000 + b"]" * 3000 + b"}", "json", "too_deep"),
        (b"a = " + b"9" * 5000, "toml", "number_too_long"),
        (b'{"a": ' + b"9" * 5000 + b"}", "json", "number_too_long"),
        (b'{"care": 1000, "care": 30000}', "json", "duplicate_key"),
        (b"care = 1\ncare = 2\n", "toml", "toml_duplicate"),
        (b"[a]\nx = nan\n", "toml", "not_finite"),
        (b"[a]\nx = inf\n", "toml", "not_finite"),
        (b'{"a": {"x": NaN}}', "json", "not_finite"),
        (b'{"a": {"x": 1e400}}', "json", "not_finite"),
        (b'{"a": -Infinity}', "json", "not_finite"),
    ],
)
def test_structured_files_refuse_depth_long_numbers_duplicates_and_non_finite(raw, fmt, key):
    exc = _refused(read_structured, raw, fmt, CASE, "f")
    assert exc.issues[0].key == key
    assert "Traceback" not in exc.report("en")
    _no_english_in_chinese(exc)


def test_a_non_finite_number_is_named_by_its_field():
    exc = _refused(read_structured, b"[status_quo.acquisition]\nonline = nan\n", "toml", CASE, "f")
    assert exc.issues[0].field == "status_quo.acquisition.online"


def test_the_depth_limit_leaves_room_for_real_files():
    nested = b"a = " + b"[" * MAX_DEPTH + b"]" * MAX_DEPTH
    assert read_structured(nested, "toml", CASE, "f")["a"]


@pytest.mark.parametrize(
    ("text", "key", "line", "col"),
    [
        ('{"a": 1,}', "json_key_quotes", 1, 9),
        ('{"a" 1}', "json_expected_colon", 1, 6),
        ('{"a": 1 "b": 2}', "json_expected_comma", 1, 9),
        ('{"a": tru}', "json_expected_value", 1, 7),
        ('{"a": 1}\n{"b": 2}', "json_extra", 2, 1),
        ('{"a": "x', "json_unterminated", 1, 7),
    ],
)
def test_json_syntax_errors_are_ours_with_line_and_column(text, key, line, col):
    exc = _refused(loads_json, text, "f")
    issue = exc.issues[0]
    assert (issue.key, issue.line, issue.column) == (key, line, col)
    _no_english_in_chinese(exc)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        (b"a = 1 2\n", "toml_after_value"),
        (b"a\n", "toml_expected_equals"),
        (b"[a\n", "toml_table_header"),
        (b"a = [1, 2\n", "toml_unclosed"),
        (b'a = "x\n', "toml_unterminated"),
        (b"a = hello\n", "toml_bad_value"),
        (b'a = "\\q"\n', "toml_bad_char"),
        (b"a = 2024-02-30\n", "toml_bad_date"),
    ],
)
def test_toml_syntax_errors_are_ours(text, key):
    exc = _refused(read_structured, text, "toml", CASE, "f")
    assert exc.issues[0].key == key and exc.issues[0].line in (1, 2)  # 2: the end
    _no_english_in_chinese(exc)


def test_transactions_cap_is_a_hundred_megabytes_and_a_million_rows():
    assert (TRANSACTIONS.size_text, TRANSACTIONS.max_rows) == ("100 MB", 1_000_000)


def test_the_readme_caps_table_is_the_code_s():
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    start = lines.index("| file | at most | rows | columns |") + 2
    table = {}
    for line in lines[start : start + 4]:
        name, size, rows, cols = (c.strip() for c in line.strip("|").split("|"))
        table[name.split(" (")[0]] = (size, rows, cols)
    limits = {"case": CASE, "plan": PLAN, "customers": CUSTOMERS, "purchase log": TRANSACTIONS}
    assert table == {
        name: (
            lim.size_text,
            f"{lim.max_rows:,}" if lim.max_rows else "",
            str(lim.max_columns or ""),
        )
        for name, lim in limits.items()
    }


def test_a_link_token_nested_thousands_deep_is_not_ours_not_a_crash():
    """The address carries a plan as a zlib token: a crafted 48-character token inflating to
    [[[[…]]]] 5,000 deep raised RecursionError on every page that read the address."""
    import base64
    import zlib

    from crmsim.ui.url_state import decode_token, encode_token

    raw = zlib.compress(b"[" * 5000 + b"]" * 5000, 9)
    token = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    assert len(token) < 100 and decode_token(token) is None
    assert decode_token(encode_token({"a": [1, 2]})) == {"a": [1, 2]}
    dup = base64.urlsafe_b64encode(zlib.compress(b'{"a": 1, "a": 2}')).decode().rstrip("=")
    assert decode_token(dup) is None


def test_cli_file_system_errors_are_in_the_users_language(tmp_path, capsys):
    from crmsim.cli import main

    log = ROOT / "tests" / "data" / "corpus" / "transactions" / "t01_excel_zh_datetime.csv"
    code = main(["--lang", "zh", "rfm", "--transactions", str(log), "--out", str(tmp_path)])
    _, err = capsys.readouterr()
    assert code == 1 and "是文件夹，不是文件" in err and "Is a directory" not in err
