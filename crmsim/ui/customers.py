"""The Customers page's table and files: search, words and numbers as the reader writes them."""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmsim.i18n import Lang, t


def search_customers(customers: pd.DataFrame, query: str) -> pd.DataFrame:
    """Rows whose id, name or city contains ``query`` (plain text, case-insensitive)."""
    query = (query or "").strip()
    if not query:
        return customers
    mask = np.zeros(len(customers), bool)
    for col in ("customer_id", "name", "city"):
        if col in customers.columns:
            mask |= customers[col].astype(str).str.contains(query, case=False, regex=False)
    return customers[mask]


CODED = {"stage": "stage", "channel": "channel", "industry": "industry"}  # column → catalog
MONEY_COLUMNS = ("monetary", "revenue_12m")


def _words(values: pd.Series, section: str, lang: Lang) -> list[str]:
    def word(code: str) -> str:
        text = t(f"{section}.{code}", lang)
        return code if text == f"{section}.{code}" else text  # an uploaded file's own words

    return [word(v) if v and v != "nan" else "" for v in values.astype(str)]


def translated_customers(customers: pd.DataFrame, lang: Lang) -> pd.DataFrame:
    """The customer table as students read it: headers, stages, channels and industries in
    their language, money to whole units and survey scores to one decimal."""
    out = customers.copy()
    for col, section in CODED.items():
        if col in out.columns:
            out[col] = _words(out[col], section, lang)
    for col in MONEY_COLUMNS:
        if col in out.columns and pd.api.types.is_numeric_dtype(out[col]):
            out[col] = out[col].round(0)
    if "survey_score" in out.columns and pd.api.types.is_numeric_dtype(out["survey_score"]):
        out["survey_score"] = out["survey_score"].round(1)
    return out.rename(columns=lambda c: t(f"col.{c}", lang))


def rounded_csv_frame(customers: pd.DataFrame) -> pd.DataFrame:
    """The customers CSV as the file format documents it (codes and English headers, so it
    reads back in), money to two decimals."""
    out = customers.copy()
    for col in MONEY_COLUMNS:
        if col in out.columns and pd.api.types.is_numeric_dtype(out[col]):
            out[col] = out[col].round(2)
    return out
