"""Files we hand out (CSV and Excel), safe to open in Excel or WPS.

A cell whose text begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is run as
a formula by spreadsheet programs: a customer or team named ``=HYPERLINK("http://evil",
"点我")`` becomes a live link in a teacher's workbook (OWASP, "CSV Injection"). CSV cells that
begin so get a leading ``'`` (OWASP's advice: Excel then shows the text); in .xlsx every text
cell is written as text, never as a formula, and marked "quote prefix" so editing it keeps it
text. Numbers stay numbers. Every export of the app and the CLI goes through here.
"""

from __future__ import annotations

import io

import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")


def neutralise(value: object) -> object:
    """Text that a spreadsheet would run as a formula, with a leading ``'``; anything else
    unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _text_columns(df: pd.DataFrame) -> list:
    return [
        c
        for c in df.columns
        if not pd.api.types.is_numeric_dtype(df[c])
        and not pd.api.types.is_bool_dtype(df[c])
        and not pd.api.types.is_datetime64_any_dtype(df[c])
    ]


def _plain(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for col in out.columns:
        if isinstance(out[col].dtype, pd.CategoricalDtype):
            out[col] = out[col].astype(str)
    return out


def safe_frame(df: pd.DataFrame, index: bool = False) -> pd.DataFrame:
    """A copy whose text cells (and header, and index when kept) are neutralised."""
    out = _plain(df.reset_index() if index else df)
    for col in _text_columns(out):
        out[col] = out[col].map(neutralise)
    out.columns = [neutralise(str(c)) for c in out.columns]
    return out


def csv_bytes(df: pd.DataFrame, index: bool = False) -> bytes:
    """CSV as UTF-8 with a BOM (so Excel opens Chinese text correctly), formulas
    neutralised."""
    return safe_frame(df, index).to_csv(index=False).encode("utf-8-sig")


def xlsx_bytes(sheets: dict[str, pd.DataFrame]) -> bytes:
    """An .xlsx workbook, one sheet per table (names cut to Excel's 31 characters), with no
    formula cell anywhere."""
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as xl:
        for name, frame in sheets.items():
            plain = _plain(frame)
            plain.columns = [str(c) for c in plain.columns]
            plain.to_excel(xl, index=False, sheet_name=name[:31])
        for ws in xl.book.worksheets:
            for row in ws.iter_rows():
                for cell in row:
                    if cell.data_type == "f" or (
                        isinstance(cell.value, str) and cell.value.startswith(FORMULA_START)
                    ):
                        cell.data_type = "s"
                        cell.quotePrefix = True
    return buf.getvalue()
