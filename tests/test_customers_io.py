"""Customer CSV files as teachers hand them in: encodings, columns, types, sizes."""

import io

import pandas as pd
import pytest

from crmsim.customers_io import (
    MAX_BYTES,
    read_customers_csv,
    to_csv_bytes,
    to_xlsx_bytes,
)
from crmsim.errors import InputError

GOOD = (
    "customer_id,name,city,monetary,recency,stage\n"
    "C1,王伟,北京,120.5,0,稳定期\n"
    "C2,李娜,上海,30,3,考察期\n"
)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "gbk"])
def test_reads_the_encodings_excel_writes(encoding):
    df, enc = read_customers_csv(GOOD.encode(encoding))
    assert list(df["name"]) == ["王伟", "李娜"]
    assert df["monetary"].tolist() == [120.5, 30.0]
    assert df["stage"].tolist() == ["stability", "exploration"]
    assert enc in ("utf-8", "gb18030")


def test_generated_customers_round_trip(pop_small):
    raw = to_csv_bytes(pop_small.customers)
    assert raw[:3] == b"\xef\xbb\xbf"
    df, _ = read_customers_csv(raw)
    assert len(df) == pop_small.n
    pd.testing.assert_series_equal(
        df["monetary"], pop_small.customers["monetary"], check_names=False, atol=1e-6
    )


def test_xlsx_opens_with_chinese_intact(pop_small):
    data = to_xlsx_bytes(pop_small.customers.head(50))
    back = pd.read_excel(io.BytesIO(data))
    assert back["name"].tolist() == pop_small.customers["name"].head(50).astype(str).tolist()


def _issue(raw: bytes):
    with pytest.raises(InputError) as info:
        read_customers_csv(raw, "customers.csv")
    report_zh, report_en = info.value.report("zh"), info.value.report("en")
    assert "Traceback" not in report_zh + report_en
    return info.value.issues, report_zh, report_en


@pytest.mark.parametrize(
    ("raw", "key", "field", "zh_words"),
    [
        (b"", "empty_file", "", "空"),
        (b"x" * (MAX_BYTES + 1), "file_too_large", "", "过大"),
        (b"customer_id,name\nC1,a\n", "column_missing", "monetary", "缺少"),
        (
            b"customer_id,monetary,shoe_size\nC1,3,42\n",
            "column_unknown",
            "shoe_size",
            "无法识别的列",
        ),
        (b"customer_id,monetary\n", "no_rows", "", "没有客户"),
        (
            b"customer_id,monetary\nC1,abc\nC2,5\nC3,x\n",
            "column_not_number",
            "monetary",
            "第 2, 4 行",
        ),
        (b"customer_id,monetary\nC1,-5\n", "column_negative", "monetary", "负数"),
        (b"customer_id,monetary\nC1,5\nC1,6\n", "column_duplicate_ids", "customer_id", "重复"),
        (b"customer_id,monetary,stage\nC1,5,boom\n", "column_stage", "stage", "考察期"),
        (b"customer_id,monetary\nC1,5\x00\n", "not_decodable", "", "编码"),
        ((",".join(f"c{i}" for i in range(40)) + "\n").encode(), "too_many_columns", "", "列太多"),
    ],
)
def test_each_bad_file_gets_a_clear_message(raw, key, field, zh_words):
    issues, zh, en = _issue(raw)
    assert any(i.key == key and i.field.startswith(field) for i in issues), issues
    assert zh_words in zh and en.strip()
