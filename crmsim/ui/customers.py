"""The Customers page's table: search and translated headers."""

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


def translated_customers(customers: pd.DataFrame, lang: Lang) -> pd.DataFrame:
    """The customer table as students read it: translated headers and stages."""
    out = customers.copy()
    if "stage" in out.columns:
        out["stage"] = [t(f"stage.{s}", lang) if s else "" for s in out["stage"].astype(str)]
    return out.rename(columns=lambda c: t(f"col.{c}", lang))
