"""Customer tables in and out: a validated CSV reader and Excel-friendly writers.

The file goes through the reading layer (``crmsim.reading``: size cap, encoding, delimiter,
every row's field count); headers may be the English column names, the app's own column
titles in either language (``客户编号``, ``Customer ID``) or a few common Chinese ones.
Every problem is an ``Issue`` naming the column (and rows) so the page can say what is wrong
in the user's language; nothing is read from an uploaded file's name.
"""

from __future__ import annotations

import pandas as pd

from crmsim import exports
from crmsim.errors import InputError, Issue
from crmsim.i18n import t
from crmsim.population import STAGE_KEYS
from crmsim.reading import (
    CUSTOMERS,
    header_key,
    match_header,
    normalise_ids,
    parse_numbers,
    read_table,
    rows_text,
)
from crmsim.segmentation import NUMBER_COLUMNS

MAX_BYTES = CUSTOMERS.max_bytes
MAX_ROWS = CUSTOMERS.max_rows
MAX_COLUMNS = CUSTOMERS.max_columns
REQUIRED = ("customer_id", "monetary")
NUMERIC = NUMBER_COLUMNS  # the observable numbers, as segmentation knows them
TEXT = ("customer_id", "name", "city", "region", "channel", "age_band", "industry", "stage")
KNOWN = TEXT + NUMERIC
RANGES = {"survey_score": (0, 10)}
STAGE_NAMES_ZH = {
    "考察期": "exploration",
    "形成期": "formation",
    "稳定期": "stability",
    "退化期": "decline",
}
# Other spellings of each column: the app's own titles in both languages, and common ones.
EXTRA_NAMES = {
    "customer_id": ("客户id", "客户号", "客户代码", "会员编号", "cust_id", "id"),
    "name": ("姓名", "客户名称", "客户姓名", "公司名称"),
    "monetary": ("平均月消费", "月消费"),
    "survey_score": ("满意度评分", "满意度"),
}
ALIASES = {
    col: (t(f"col.{col}", "zh"), t(f"col.{col}", "en"), *EXTRA_NAMES.get(col, ())) for col in KNOWN
}
HEADER_WORDS = frozenset(header_key(n) for col, names in ALIASES.items() for n in (col, *names))


def _columns(header: list[str], source: str) -> list[str]:
    found = match_header(header, ALIASES)
    issues = [Issue(col, "column_missing") for col in REQUIRED if col not in found]
    used = set(found.values())
    unknown = [h for h in header if h not in used and h]
    if unknown:
        issues.append(Issue(", ".join(unknown[:5]), "column_unknown", {"known": ", ".join(KNOWN)}))
    keys = [header_key(h) for h in header if h]
    if len(set(keys)) != len(keys) or len(found) != len(used):
        issues.append(Issue("", "column_duplicate"))
    if issues:
        raise InputError(issues, source)
    return list(found.values())


def read_customers_csv(raw: bytes, source: str = "CSV") -> tuple[pd.DataFrame, str]:
    """Parse and check a customers CSV; returns the table (English column names) and the
    encoding it was read in."""
    chosen: dict[str, str] = {}

    def choose(header: list[str]) -> list[str]:
        wanted = _columns(header, source)
        chosen.update({v: k for k, v in match_header(header, ALIASES).items()})
        return wanted

    table = read_table(raw, CUSTOMERS, source, choose, HEADER_WORDS, ("no_rows", "too_many_rows"))
    df = table.frame.rename(columns=chosen)
    return _typed(df, source), table.encoding


def _typed(df: pd.DataFrame, source: str) -> pd.DataFrame:
    issues = []
    out = df.copy()
    for col in df.columns:
        out[col] = df[col].str.strip()
    for col in (c for c in NUMERIC if c in df.columns):
        nums = parse_numbers(out[col])
        values = nums.values
        if nums.bad.any():
            issues.append(Issue(col, "column_not_number", {"rows": rows_text(nums.bad)}))
        if nums.not_finite.any():
            issues.append(Issue(col, "column_not_finite", {"rows": rows_text(nums.not_finite)}))
        negative = values < 0
        if negative.any():
            issues.append(Issue(col, "column_negative", {"rows": rows_text(negative)}))
        if col in RANGES:
            low, high = RANGES[col]
            outside = (values < low) | (values > high)
            if outside.any():
                issues.append(
                    Issue(
                        col, "column_range", {"low": low, "high": high, "rows": rows_text(outside)}
                    )
                )
        out[col] = values
    ids, scientific = normalise_ids(out["customer_id"])
    out["customer_id"] = ids
    if scientific.any():
        issues.append(Issue("customer_id", "column_id_scientific", {"rows": rows_text(scientific)}))
    if ids.eq("").any():
        issues.append(Issue("customer_id", "column_blank", {"rows": rows_text(ids.eq(""))}))
    repeated = ids.duplicated() & ids.ne("")
    if repeated.any():
        issues.append(Issue("customer_id", "column_duplicate_ids", {"rows": rows_text(repeated)}))
    if out["monetary"].isna().all():
        issues.append(Issue("monetary", "column_empty"))
    if "stage" in out.columns:
        stage = out["stage"].replace(STAGE_NAMES_ZH)
        bad = ~stage.isin([*STAGE_KEYS[:4], ""])
        if bad.any():
            issues.append(Issue("stage", "column_stage", {"rows": rows_text(bad)}))
        out["stage"] = stage
    if issues:
        raise InputError(issues, source)
    return out


def to_csv_bytes(df: pd.DataFrame) -> bytes:
    """CSV as UTF-8 with a BOM, so Excel opens Chinese text correctly; formulas neutralised
    (``crmsim.exports``)."""
    return exports.csv_bytes(df)


def to_xlsx_bytes(df: pd.DataFrame, sheet: str = "customers") -> bytes:
    """An .xlsx workbook of the table with no formula cell (``crmsim.exports``)."""
    return exports.xlsx_bytes({sheet: df})
