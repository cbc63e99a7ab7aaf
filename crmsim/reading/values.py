"""Numbers and ids as people type them, read the same way in every file.

Amounts may carry a currency sign or code (``¥1,200.00``, ``1200元``, ``USD 12``), thousands
separators in groups of three (``1,234,567.5``), a sign, or brackets for a negative
(``(12.00)``, as accounting exports write returns). Everything else that is not a plain number
is refused by row: ``1,5`` (a decimal comma), ``12 abc``, and non-finite values such as
``inf``, ``Infinity``, ``nan`` or ``1e400``. Customer ids lose a ``.0`` a spreadsheet added
(``7.0`` is customer ``7``); an id Excel turned into ``1.23457E+11`` cannot be restored and
is refused.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

# Patterns pyarrow can run (no \d, \s, lookarounds or case flags: pandas would fall back to
# Python's re row by row, 20× slower on a million rows).
_CODES = ("RMB", "CNY", "USD", "EUR", "GBP", "HKD", "HK\\$", "US\\$")
CURRENCY = "(?:[¥￥$€£元]|" + "|".join((*_CODES, *(c.lower() for c in _CODES))) + ")"
_NUMBER = (
    r"[+-]?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?"
    r"|[+-]?\.[0-9]+(?:[eE][+-]?[0-9]+)?"
)
_NON_FINITE = r"[+-]?(?:inf|infinity|nan)"
_SCIENTIFIC_ID = r"[0-9](?:\.[0-9]+)?[eE]\+?[0-9]+"


@dataclass
class Numbers:
    """Parsed values (NaN where blank or unreadable), and the masks of unreadable and
    non-finite entries (blank is neither)."""

    values: pd.Series
    bad: pd.Series
    not_finite: pd.Series


def parse_numbers(text: pd.Series) -> Numbers:
    """Read a text column as numbers (see the module docstring)."""
    s = text.astype(str).str.strip()
    blank = s.eq("")
    values = pd.to_numeric(s.where(~blank), errors="coerce").astype(float)
    odd = ~blank & ~np.isfinite(values.fillna(np.inf))  # not a plain finite number
    not_finite = pd.Series(False, index=s.index)
    if odd.any():  # currency, separators, brackets, inf: only the rows that need it
        part = s[odd]
        named = part.str.replace(CURRENCY, "", regex=True).str.strip().str.lower()
        cleaned = _cleaned(part)
        values.loc[odd] = cleaned
        not_finite.loc[odd] = named.str.fullmatch(_NON_FINITE) | np.isinf(cleaned)
    values = values.where(~not_finite)
    bad = values.isna() & ~blank & ~not_finite
    return Numbers(values, bad, not_finite)


def _cleaned(s: pd.Series) -> pd.Series:
    core = s.str.replace("（", "(").str.replace("）", ")").str.replace("－", "-")
    negative = core.str.fullmatch(r"\(.*\)") | core.str.fullmatch(r"- *\(.*\)")
    core = core.str.replace(r"[()]", "", regex=True)
    core = core.str.replace(CURRENCY, "", regex=True).str.strip()
    core = core.str.replace(r"^([+-]) +", r"\1", regex=True)  # "- 12" after "-¥ 12"
    ok = core.str.fullmatch(_NUMBER)
    out = pd.to_numeric(core.where(ok).str.replace(",", "", regex=False), errors="coerce")
    out = out.astype(float)
    return out.where(~negative, -out.abs())


def normalise_ids(text: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Ids trimmed, a spreadsheet's ``.0`` removed; and the mask of ids in scientific
    notation (a long number Excel rounded: the real id is lost)."""
    s = text.astype(str).str.strip()
    s = s.str.replace(r"^([0-9]+)\.0+$", r"\1", regex=True)
    return s, s.str.fullmatch(_SCIENTIFIC_ID)
