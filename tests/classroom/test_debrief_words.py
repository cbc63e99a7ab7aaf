"""The debrief workbook a teacher opens speaks the course's words: segments and channels named
as the pages name them, numbers rounded as a table shows them (the key-only workbook for
scripts keeps the codes and full figures)."""

import io

import pandas as pd

from tests.classroom.helpers import open_room


def test_the_chinese_workbook_names_segments_and_rounds_numbers(store, case):
    code, pw = open_room(store, case)
    _, token = store.join(code, "A")
    store.submit(code, token, case.status_quo, 1)
    store.reveal(code, pw)
    book = pd.read_excel(io.BytesIO(store.export_xlsx(code, pw, "zh")), sheet_name=None)
    segments = set(book["方案"]["细分群"])
    assert {"重点客户", "普通客户", "小客户"} <= segments
    assert not any(s.isascii() for s in segments)  # not key/ordinary/small
    assert any(s.startswith("获客投入") and "网络" in s for s in segments)  # not acquisition:online
    npv = book["结果"]["利润净现值"]
    assert (npv == npv.round(0)).all()
    raw = pd.read_excel(io.BytesIO(store.export_xlsx(code, pw)), sheet_name=None)
    assert "key" in set(raw["plans"]["segment"]) and "acquisition:online" in set(
        raw["plans"]["segment"]
    )
