"""Customer tables in and out: a validated CSV reader and Excel-friendly writers.

Files that Excel saves in China are usually GB18030/GBK; others are UTF-8 with or without a
BOM. The reader tries UTF-8 first (a GBK file almost never decodes as UTF-8), then GB18030.
Every problem is an ``Issue`` naming the column (and rows) so the page can say what is wrong
in the user's language; nothing is read from an uploaded file's name.
"""

from __future__ import annotations

import csv
import io

import pandas as pd

from crmsim.errors import InputError, Issue
from crmsim.population import STAGE_KEYS

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 100_000
MAX_COLUMNS = 30
REQUIRED = ("customer_id", "monetary")
NUMERIC = (
    "tenure_months",
    "recency",
    "frequency",
    "monetary",
    "revenue_12m",
    "complaints_12m",
    "survey_score",
)
TEXT = ("customer_id", "name", "city", "region", "channel", "age_band", "industry", "stage")
KNOWN = TEXT + NUMERIC
STAGE_NAMES_ZH = {
    "考察期": "exploration",
    "形成期": "formation",
    "稳定期": "stability",
    "退化期": "decline",
}


def decode_upload(raw: bytes, source: str, max_bytes: int) -> tuple[str, str]:
    """Text of an uploaded CSV (UTF-8 with or without BOM, else GB18030) and its encoding,
    refusing oversized, empty and binary files."""
    if len(raw) > max_bytes:
        raise InputError([Issue("", "file_too_large", {"limit_kb": max_bytes // 1024})], source)
    if not raw.strip():
        raise InputError([Issue("", "empty_file")], source)
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes almost any bytes; kept as the last word
        raise InputError([Issue("", "not_decodable")], source)
    if "\x00" in text:
        raise InputError([Issue("", "not_decodable")], source)
    return text, encoding.replace("-sig", "")


def csv_header(text: str, source: str, max_columns: int) -> list[str]:
    """The (trimmed) header row of a decoded CSV, refusing an empty file or too many columns."""
    try:
        header = [h.strip() for h in next(csv.reader(io.StringIO(text)))]
    except (csv.Error, StopIteration):
        raise InputError([Issue("", "empty_file")], source) from None
    if len(header) > max_columns:
        raise InputError([Issue("", "too_many_columns", {"limit": max_columns})], source)
    return header


def csv_rows(
    text: str,
    source: str,
    max_rows: int,
    usecols: list[str] | None = None,
    empty_key: str = "no_rows",
    too_many_key: str = "too_many_rows",
) -> pd.DataFrame:
    """The rows of a decoded CSV as text columns (at most ``max_rows``; none is an error)."""
    try:
        df = pd.read_csv(
            io.StringIO(text),
            dtype=str,
            keep_default_na=False,
            usecols=usecols,
            nrows=max_rows + 1,
            skipinitialspace=True,
        )
    except (pd.errors.ParserError, csv.Error, ValueError) as exc:
        raise InputError([Issue("", "bad_csv", {"detail": str(exc)[:200]})], source) from None
    if df.empty:
        raise InputError([Issue("", empty_key)], source)
    if len(df) > max_rows:
        raise InputError([Issue("", too_many_key, {"limit": f"{max_rows:,}"})], source)
    return df


def read_customers_csv(raw: bytes, source: str = "CSV") -> tuple[pd.DataFrame, str]:
    """Parse and check a customers CSV; returns the table and the encoding it was in."""
    text, encoding = decode_upload(raw, source, MAX_BYTES)
    header = csv_header(text, source, MAX_COLUMNS)
    issues = [Issue(col, "column_missing") for col in REQUIRED if col not in header]
    unknown = [h for h in header if h not in KNOWN]
    if unknown:
        issues.append(Issue(", ".join(unknown[:5]), "column_unknown", {"known": ", ".join(KNOWN)}))
    if len(set(header)) != len(header):
        issues.append(Issue("", "column_duplicate"))
    if issues:
        raise InputError(issues, source)
    df = csv_rows(text, source, MAX_ROWS)
    df.columns = header
    return _typed(df, source), encoding


def rows_text(mask: pd.Series) -> str:
    """Spreadsheet row numbers (the header is row 1) of the first few problems."""
    rows = (mask[mask].index[:5] + 2).astype(str).tolist()
    return ", ".join(rows) + ("…" if mask.sum() > 5 else "")


def _typed(df: pd.DataFrame, source: str) -> pd.DataFrame:
    issues = []
    out = df.copy()
    for col in df.columns:
        out[col] = df[col].str.strip()
    for col in (c for c in NUMERIC if c in df.columns):
        values = pd.to_numeric(out[col].str.replace(",", "", regex=False), errors="coerce")
        bad = values.isna() & out[col].ne("")
        if bad.any():
            issues.append(Issue(col, "column_not_number", {"rows": rows_text(bad)}))
        negative = values < 0
        if negative.any():
            issues.append(Issue(col, "column_negative", {"rows": rows_text(negative)}))
        out[col] = values
    if out["customer_id"].eq("").any():
        issues.append(
            Issue("customer_id", "column_blank", {"rows": rows_text(out["customer_id"].eq(""))})
        )
    if out["customer_id"].duplicated().any():
        issues.append(
            Issue(
                "customer_id",
                "column_duplicate_ids",
                {"rows": rows_text(out["customer_id"].duplicated())},
            )
        )
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
    """CSV as UTF-8 with a BOM, so Excel opens Chinese text correctly."""
    return df.to_csv(index=False).encode("utf-8-sig")


def to_xlsx_bytes(df: pd.DataFrame, sheet: str = "customers") -> bytes:
    """An .xlsx workbook of the table (openpyxl)."""
    buf = io.BytesIO()
    plain = df.copy()
    for col in plain.columns:
        if isinstance(plain[col].dtype, pd.CategoricalDtype):
            plain[col] = plain[col].astype(str)
    with pd.ExcelWriter(buf, engine="openpyxl") as xl:
        plain.to_excel(xl, index=False, sheet_name=sheet[:31])
    return buf.getvalue()
