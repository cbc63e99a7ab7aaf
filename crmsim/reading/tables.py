"""CSV files (customers, purchase logs) read with the same guarantees: the text layer's size
cap and encoding, the delimiter sniffed (``,`` ``;`` tab ``|``, or Excel's ``sep=`` line),
every record's field count checked against the header before pandas reads it (pandas takes a
row with one field too many — ``A1,1,234.5`` — as an index, or drops the rest when asked for
some columns), and parser failures as messages of our own naming the row.

Row numbers are a spreadsheet's: the header is row 1, the first data row is row 2.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from crmsim.errors import InputError, Issue
from crmsim.reading.limits import FileLimit
from crmsim.reading.text import Decoded, decode

DELIMITERS = (",", ";", "\t", "|")
_SEP_LINE = re.compile(r"^sep=(.)\n")
_PANDAS_EOF = re.compile(r"EOF inside string starting at row (\d+)")
_PANDAS_FIELDS = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")


@dataclass
class Table:
    """The chosen columns of a CSV as text (index: data row, 0 = spreadsheet row 2), the
    header as written, and how the file was read."""

    frame: pd.DataFrame
    header: list[str]
    delimiter: str
    encoding: str
    also: str | None = None


def header_key(name: str) -> str:
    """A header cell compared loosely: case, spaces, ``_`` and ``-`` do not matter."""
    return re.sub(r"[\s_\-]+", "", str(name).strip().strip('"').lower())


def match_header(header: list[str], aliases: dict[str, tuple[str, ...]]) -> dict[str, str]:
    """For each canonical name, the header cell that spells it (first alias found wins)."""
    keys = {}
    for cell in header:
        keys.setdefault(header_key(cell), cell)
    found = {}
    for name, spellings in aliases.items():
        for spelling in (name, *spellings):
            if header_key(spelling) in keys:
                found[name] = keys[header_key(spelling)]
                break
    return found


def rows_text(mask: pd.Series | np.ndarray, index: pd.Index | None = None) -> str:
    """Spreadsheet row numbers (the header is row 1) of the first few problems."""
    mask = pd.Series(np.asarray(mask), index=index) if index is not None else mask
    hits = mask[mask.to_numpy(bool)].index
    rows = (hits[:5] + 2).astype(str).tolist()
    return ", ".join(rows) + ("…" if len(hits) > 5 else "")


def sniff_delimiter(text: str) -> str:
    """The delimiter that splits the header into the most fields, the data rows (first 50)
    mostly into as many; ``,`` on ties."""
    sample = text.split("\n", 51)[:51]
    best, best_score = ",", (False, 0.0, 0)
    for delim in DELIMITERS:
        rows = [r for r in csv.reader(sample, delimiter=delim) if r]
        if not rows:
            continue
        n = len(rows[0])
        same = sum(len(r) == n for r in rows[1:]) / max(len(rows) - 1, 1)
        score = (n >= 2, same, n)
        if score > best_score:
            best, best_score = delim, score
    return best


def _quotes_are_fields(arr: np.ndarray, delim: int) -> bool:
    """Whether every quote opens a field (after a delimiter, a line end or the quote of an
    escaped pair) or closes one (before those): then counting quotes tells what is inside."""
    at = np.flatnonzero(arr == 34)
    if not at.size:
        return True
    opening = (np.arange(1, at.size + 1) & 1).astype(bool)
    prev = np.where(at > 0, arr[np.maximum(at - 1, 0)], 10)
    nxt = np.where(at < arr.size - 1, arr[np.minimum(at + 1, arr.size - 1)], 10)
    edges = np.array([10, delim, 34], np.uint8)
    return bool(np.isin(prev[opening], edges).all() and np.isin(nxt[~opening], edges).all())


def _records_fast(arr: np.ndarray, delim: int) -> tuple[np.ndarray, np.ndarray, int | None]:
    """Fields and whether there is any content, per record, counting a delimiter or line end
    when an even number of quotes comes before it; or the row of an unclosed quote."""
    quote = arr == 34
    if quote.any():
        outside = (np.cumsum(quote, dtype=np.uint8) & 1) == 0
        if not outside[-1]:
            ends = np.flatnonzero((arr == 10) & outside)
            last_open = int(np.flatnonzero(quote)[-1])
            return np.zeros(0, int), np.zeros(0, bool), int(np.searchsorted(ends, last_open)) + 1
        ends = np.flatnonzero((arr == 10) & outside)
        delims = np.flatnonzero((arr == delim) & outside)
    else:
        ends = np.flatnonzero(arr == 10)
        delims = np.flatnonzero(arr == delim)
    if arr.size and arr[-1] != 10:
        ends = np.append(ends, arr.size)
    starts = np.concatenate(([0], ends[:-1] + 1))
    fields = np.diff(np.searchsorted(delims, np.concatenate((starts[:1], ends)))) + 1
    content = ~np.isin(arr, np.frombuffer(b' \t\n"' + bytes([delim]), np.uint8))
    has = np.logical_or.reduceat(content, np.minimum(starts, max(arr.size - 1, 0)))
    has &= ends > starts
    fields[ends == starts] = 0
    return fields, has, None


def _records_slow(text: str, delim: str) -> tuple[np.ndarray, np.ndarray]:
    """The same from Python's csv module, for files with quotes inside unquoted fields."""
    fields, has = [], []
    for row in csv.reader(io.StringIO(text), delimiter=delim, skipinitialspace=True):
        fields.append(len(row))
        has.append(any(cell.strip() for cell in row))
    return np.array(fields, int), np.array(has, bool)


def _check_records(
    text: str, delim: str, n_header: int, limit: FileLimit, source: str, keys: tuple[str, str]
) -> np.ndarray:
    """Refuse an unclosed quote, too many rows and rows longer than the header before pandas
    reads anything; returns which data rows have content (blank ones are left out)."""
    arr = np.frombuffer(text.encode("utf-8"), np.uint8)
    if _quotes_are_fields(arr, ord(delim)):
        fields, has, unclosed = _records_fast(arr, ord(delim))
        if unclosed is not None:
            raise InputError([Issue("", "unclosed_quote", {"row": unclosed})], source)
    else:
        fields, has = _records_slow(text, delim)
    fields, has = fields[1:], has[1:]
    if limit.max_rows is not None and int(has.sum()) > limit.max_rows:
        raise InputError([Issue("", keys[1], {"limit": f"{limit.max_rows:,}"})], source)
    long = fields > n_header
    if long.any():
        rows = np.flatnonzero(long)
        shown = ", ".join(str(r + 2) for r in rows[:5]) + ("…" if rows.size > 5 else "")
        raise InputError(
            [
                Issue(
                    "",
                    "row_extra_fields",
                    {"rows": shown, "fields": int(fields[rows[0]]), "header": n_header},
                )
            ],
            source,
        )
    return has


def read_header(text: str, delim: str, source: str) -> list[str]:
    """The header row (cells trimmed); an unclosed quote in it is named, not "empty file"."""
    first = next(csv.reader(io.StringIO(text), delimiter=delim), [])
    if not first or not any(c.strip() for c in first):
        raise InputError([Issue("", "empty_file")], source)
    header = [c.strip() for c in first]
    while header and header[-1] == "":  # Excel's trailing empty header cells
        header.pop()
    return header


def _text_and_delimiter(
    raw: bytes, limit: FileLimit, source: str, header_words: frozenset[str]
) -> tuple[str, str, Decoded]:
    decoded = decode(raw, limit, source, ("utf-8", "gb18030", "utf-16"), header_words)
    text = decoded.text
    sep = _SEP_LINE.match(text)
    if sep:
        return text[sep.end() :], sep.group(1), decoded
    return text, sniff_delimiter(text), decoded


def read_csv_header(
    raw: bytes, limit: FileLimit, source: str, header_words: frozenset[str] = frozenset()
) -> list[str]:
    """Only the header row of a CSV (decoded and split as ``read_table`` would), for a page
    that lets the user pick columns before the whole file is read."""
    text, delim, _ = _text_and_delimiter(raw, limit, source, header_words)
    header = read_header(text, delim, source)
    if limit.max_columns is not None and len(header) > limit.max_columns:
        raise InputError([Issue("", "too_many_columns", {"limit": limit.max_columns})], source)
    return header


def read_table(
    raw: bytes,
    limit: FileLimit,
    source: str,
    choose: Callable[[list[str]], list[str]],
    header_words: frozenset[str] = frozenset(),
    keys: tuple[str, str] = ("no_rows", "too_many_rows"),
) -> Table:
    """Read a CSV: decode, sniff the delimiter, read the header, let ``choose(header)`` pick
    the columns (it raises ``InputError`` for missing ones), check every record, then read
    those columns as text. ``keys`` are the messages for no rows and too many rows."""
    text, delim, decoded = _text_and_delimiter(raw, limit, source, header_words)
    header = read_header(text, delim, source)
    if limit.max_columns is not None and len(header) > limit.max_columns:
        raise InputError([Issue("", "too_many_columns", {"limit": limit.max_columns})], source)
    has = _check_records(text, delim, len(header), limit, source, keys)
    wanted = choose(header)
    positions = [header.index(c) for c in wanted]
    try:
        df = pd.read_csv(
            io.StringIO(text),
            sep=delim,
            header=0,
            usecols=sorted(set(positions)),
            dtype=str,
            na_filter=False,
            skip_blank_lines=False,
            skipinitialspace=True,
            engine="c",
        )
    except pd.errors.ParserError as exc:
        raise InputError([_pandas_issue(str(exc))], source) from None
    df = df.fillna("")
    df.columns = [header[p] for p in sorted(set(positions))]
    if len(df) == len(has):
        df = df[has]
    else:  # pragma: no cover - both count records alike; never lose a row over it
        df = df[df.ne("").any(axis=1)]
    if df.empty:
        raise InputError([Issue("", keys[0])], source)
    return Table(df[list(dict.fromkeys(wanted))], header, delim, decoded.encoding, decoded.also)


def _pandas_issue(msg: str) -> Issue:
    m = _PANDAS_EOF.search(msg)
    if m:
        return Issue("", "unclosed_quote", {"row": int(m.group(1)) + 1})
    m = _PANDAS_FIELDS.search(msg)
    if m:
        return Issue(
            "",
            "row_extra_fields",
            {"rows": m.group(2), "fields": int(m.group(3)), "header": int(m.group(1))},
        )
    return Issue("", "csv_syntax")  # pragma: no cover - the record check catches the rest
