"""Purchase dates as shops and spreadsheets write them.

Read without being told: ISO dates and date-times (``2024-03-31``, ``2024-03-31T14:05:00``,
with ``Z``, ``+08:00`` or ``+0800``), the same with ``/`` or ``.`` and without zero padding
(Excel zh-CN: ``2024/1/5 10:00``), ``2024年1月5日`` (with or without a time), ``20240331``,
day/month/year and month/day/year (``31/03/2024``, ``3/31/2024 8:26``), and Excel serial day
numbers (``45296``, ``45296.42``). A date-time counts on the calendar day written, whatever its
zone: a shop's export states the customer's local day. When both day/month and month/day read
every date and give different days, the order is not guessed: the caller is told, and says
(``day_first`` or a ``date_format``). A ``date_format`` with a bad directive is refused
cleanly.

The format is chosen on a sample of up to 2,000 values spread over the file and then applied
to the whole column (rows left over try the family's other time layouts only), so a million
rows cost a pass or two, not one per candidate format.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from crmsim.errors import InputError, Issue

# Patterns pyarrow can run ([0-9], not \d; no \s or lookarounds): see reading.values.
_TIME = r"(?:[ T]+[0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?)?"
# a zone after a time: 14:05Z, 14:05:00+08:00, 14:05 +0800, 14:05 UTC (never the year of 31-03-2024)
_CLOCK = r"[0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?"
_ZONE = r" *(?:Z|UTC|GMT|[+-][0-9]{2}:?[0-9]{2})$"
_HAS_ZONE = _CLOCK + _ZONE
FAMILIES = {
    "ymd": rf"[0-9]{{4}}[-/.][0-9]{{1,2}}[-/.][0-9]{{1,2}}{_TIME}",
    "cjk": rf"[0-9]{{4}}年[0-9]{{1,2}}月[0-9]{{1,2}}日?{_TIME}",
    "compact": r"[0-9]{8}",
    "dmy": rf"[0-9]{{1,2}}[-/.][0-9]{{1,2}}[-/.](?:[0-9]{{4}}|[0-9]{{2}}){_TIME}",
    "serial": r"[0-9]{5}(?:\.[0-9]+)?",
}
_TIMES = ("", " %H:%M:%S", " %H:%M", " %H:%M:%S.%f")
SERIAL_RANGE = (20_000, 80_000)  # 1954-10-03 … 2119-01-11: a purchase date, not an amount
_EXCEL_EPOCH = pd.Timestamp("1899-12-30")


@dataclass
class Dates:
    """Calendar days (NaT where blank or unreadable), the format used, and the mask of
    unreadable non-blank values."""

    values: pd.Series
    format: str
    bad: pd.Series


def _sample(s: pd.Series, n: int = 2000) -> pd.Series:
    filled = s[s.ne("")]
    if len(filled) <= n:
        return filled
    return filled.iloc[np.linspace(0, len(filled) - 1, n).astype(int)]


def _strip_zone(s: pd.Series) -> pd.Series:
    return s.str.replace(f"({_CLOCK}){_ZONE}", r"\1", regex=True)


def _layered(s: pd.Series, formats: list[str]) -> tuple[pd.Series, str]:
    """Parse with the format that reads most of a sample, then the rows it leaves with the
    next, and so on (one pass over a uniform column, not one per candidate)."""
    sample = _sample(s, 500)
    hits = {
        f: int(pd.to_datetime(sample, format=f, errors="coerce").notna().sum()) for f in formats
    }
    formats = sorted(formats, key=lambda f: -hits[f])
    out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[us]")
    used = ""
    todo = s.ne("")
    for fmt in formats:
        if not todo.any():
            break
        got = pd.to_datetime(s[todo], format=fmt, errors="coerce")
        hit = got.notna()
        if hit.any():
            out.loc[got.index[hit]] = got[hit].astype("datetime64[us]")
            used = used or fmt
            todo.loc[got.index[hit]] = False
    return out, used


def _ymd_like(s: pd.Series) -> tuple[pd.Series, str]:
    """Year-month-day with any of - / . and an optional time (after a space or a T)."""
    if s.str.contains(r"[/.T]", regex=True).any():
        s = s.str.replace(r"^([0-9]{4})[/.]([0-9]{1,2})[/.]", r"\1-\2-", regex=True)
        s = s.str.replace("T", " ", regex=False)
    return _layered(s, [f"%Y-%m-%d{t}" for t in _TIMES])


def _day_month(s: pd.Series, field: str, day_first: bool | None) -> tuple[pd.Series, str]:
    s = s.str.replace(r"^([0-9]{1,2})[-.]([0-9]{1,2})[-.]", r"\1/\2/", regex=True)
    years = ("%Y", "%y")
    dmy = [f"%d/%m/{y}{t}" for y in years for t in _TIMES]
    mdy = [f"%m/%d/{y}{t}" for y in years for t in _TIMES]
    if day_first is not None:
        return _layered(s, dmy if day_first else mdy)
    a, fa = _layered(s, dmy)
    b, fb = _layered(s, mdy)
    filled = s.ne("")
    both = a.notna() & b.notna()
    if a[filled].notna().all() and b[filled].notna().all() and (a[both] != b[both]).any():
        example = s[both & (a != b)].iloc[0]
        raise InputError(
            [
                Issue(
                    field,
                    "tx_dates_ambiguous",
                    {
                        "example": example[:30],
                        "dmy": f"{a[s == example].iloc[0]:%Y-%m-%d}",
                        "mdy": f"{b[s == example].iloc[0]:%Y-%m-%d}",
                    },
                )
            ],
            field,
        )
    return (a, fa) if a.notna().sum() >= b.notna().sum() else (b, fb)


def _serial(s: pd.Series) -> tuple[pd.Series, str]:
    num = pd.to_numeric(s.where(s.ne("")), errors="coerce")
    num = num.where((num >= SERIAL_RANGE[0]) & (num < SERIAL_RANGE[1]))
    days = pd.to_timedelta(num.to_numpy(float), unit="D")
    return pd.Series(_EXCEL_EPOCH + days, index=s.index).astype("datetime64[us]"), "excel-serial"


def check_date_format(date_format: str, field: str = "--date-format") -> None:
    """Refuse a format pandas cannot use (``%Q``) with a message, not a traceback."""
    try:
        pd.to_datetime(pd.Series(["2024-01-05"]), format=date_format, errors="coerce")
    except (ValueError, TypeError):
        raise InputError(
            [Issue(field, "tx_bad_date_format", {"format": date_format[:40]})], field
        ) from None


def parse_dates(
    text: pd.Series,
    field: str = "date",
    date_format: str | None = None,
    day_first: bool | None = None,
) -> Dates:
    """Read a text column of purchase dates (see the module docstring)."""
    s = text.astype(str).str.strip()
    filled = s.ne("")
    if date_format:
        check_date_format(date_format)
        fmt = date_format
        if fmt.endswith(("%z", "%Z")):  # the day as written, like the automatic reading
            fmt, s = fmt[:-2].rstrip(), _strip_zone(s).str.rstrip()
        values, used = _layered(s, [fmt])
        used = date_format
    else:
        sample = _sample(s)
        if sample.str.contains(_HAS_ZONE, regex=True).any():
            s, sample = _strip_zone(s), _strip_zone(sample)
        counts = {name: int(sample.str.fullmatch(rx).sum()) for name, rx in FAMILIES.items()}
        family = max(counts, key=counts.get) if sample.size else "ymd"
        if family == "ymd":
            values, used = _ymd_like(s)
        elif family == "cjk":
            norm = s.str.replace("年", "-", regex=False).str.replace("月", "-", regex=False)
            values, used = _ymd_like(norm.str.replace("日", "", regex=False))
            used = "%Y年%m月%d日" + used[8:]
        elif family == "compact":
            values, used = _layered(s, ["%Y%m%d"])
        elif family == "dmy":
            values, used = _day_month(s, field, day_first)
        else:
            values, used = _serial(s)
    values = values.dt.normalize()
    return Dates(values, used, values.isna() & filled)
