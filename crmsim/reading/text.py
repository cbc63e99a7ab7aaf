"""Bytes to text: the size cap (before anything is parsed), empty and binary files, the
encoding (UTF-8 with or without BOM, GB18030/GBK as Excel saves it in China, UTF-16 as Excel
saves "Unicode text"), and one kind of line end.

When a file decodes both as UTF-8 and as GB18030 (short GBK files often do: ``郑伟,太原`` in
GBK is valid UTF-8 for Hebrew and Greek letters), the reading that gives the expected header
names, then the more plausible characters (common Chinese characters, punctuation, Latin
letters), wins; the other is named so the page can say which was used.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from crmsim.errors import InputError, Issue
from crmsim.reading.limits import FileLimit, over_text

_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_SAMPLE = 256 * 1024  # characters scored per reading; enough to decide, cheap on 100 MB


@dataclass(frozen=True)
class Decoded:
    """A file's text (line ends as ``\\n``), the encoding it was read in, and the other
    encoding it would also have decoded in (None when only one fitted)."""

    text: str
    encoding: str
    also: str | None = None


def check_size(raw: bytes, limit: FileLimit, source: str) -> None:
    """Refuse a file over its cap, and an empty one, before any parsing."""
    if len(raw) > limit.max_bytes:
        raise InputError(
            [
                Issue(
                    "",
                    "file_too_large",
                    {"size": over_text(len(raw), limit.max_bytes), "limit": limit.size_text},
                )
            ],
            source,
        )
    if not raw.strip(b" \t\r\n\x00\xef\xbb\xbf\xff\xfe"):
        raise InputError([Issue("", "empty_file")], source)


def _binary(raw: bytes, source: str) -> None:
    if raw.startswith(b"PK\x03\x04") or raw.startswith(b"\xd0\xcf\x11\xe0"):
        raise InputError([Issue("", "workbook_not_text")], source)


_PUNCTUATION = ((0x3000, 0x303F), (0xFF00, 0xFFEF), (0x2010, 0x2027), (0xC0, 0xFF))


@lru_cache(maxsize=8192)
def _common(ch: str) -> bool:
    """A character a real customers file or log holds: a Chinese character of GB2312 (the
    6,763 in everyday use), CJK or full-width punctuation, a Latin letter with an accent,
    a currency sign."""
    code = ord(ch)
    if any(lo <= code <= hi for lo, hi in _PUNCTUATION) or ch in "¥£€·":
        return True
    if 0x4E00 <= code <= 0x9FFF:
        try:
            ch.encode("gb2312")
            return True
        except UnicodeEncodeError:
            return False
    return False


def _plausible(text: str) -> float:
    """Share of non-ASCII characters that are common ones; mojibake of either reading is
    mostly rare characters, combining marks or other scripts."""
    chars = _NON_ASCII.findall(text[:_SAMPLE])
    if not chars:
        return 1.0
    return sum(map(_common, chars)) / len(chars)


def _header_hits(text: str, words: frozenset[str]) -> int:
    if not words:
        return 0
    first = text.split("\n", 1)[0]
    cells = re.split(r"[,;\t|]", first)
    return sum(c.strip().strip('"').strip().lower() in words for c in cells)


def decode(
    raw: bytes,
    limit: FileLimit,
    source: str,
    encodings: tuple[str, ...] = ("utf-8", "gb18030"),
    header_words: frozenset[str] = frozenset(),
) -> Decoded:
    """The text of an uploaded file in the first of ``encodings`` that fits best (see the
    module docstring); line ends become ``\\n``. ``header_words`` are lower-case header
    names the caller expects (a reading that yields more of them wins)."""
    check_size(raw, limit, source)
    _binary(raw, source)
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")) and "utf-16" not in encodings:
        raise InputError([Issue("", "not_utf8")], source)
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        candidates = ["utf-16"]
    elif raw.startswith(b"\xef\xbb\xbf"):
        candidates = ["utf-8"]  # a BOM says so
    else:
        candidates = [e for e in encodings if e != "utf-16"]
    readings: list[tuple[str, str]] = []
    for enc in candidates:
        try:
            readings.append((enc, raw.decode("utf-8-sig" if enc == "utf-8" else enc)))
        except UnicodeDecodeError:
            continue
    if not readings:
        if len(candidates) > 1:
            raise InputError([Issue("", "not_decodable")], source)
        raise InputError([Issue("", "not_utf8_gbk" if _looks_gbk(raw) else "not_utf8")], source)
    if len(readings) > 1 and not _NON_ASCII.search(readings[0][1][:_SAMPLE]):
        readings = readings[:1]  # plain ASCII: every reading agrees
    best = max(
        readings,
        key=lambda r: (_header_hits(r[1], header_words), _plausible(r[1]), -readings.index(r)),
    )
    text = best[1].lstrip("\ufeff")
    if "\x00" in text:
        raise InputError([Issue("", "not_decodable")], source)
    also = next((enc for enc, _ in readings if enc != best[0]), None)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return Decoded(text, best[0], also)


def _looks_gbk(raw: bytes) -> bool:
    """Whether a file that is not UTF-8 reads as plausible Chinese in GB18030 (Notepad on
    Chinese Windows saved it as "ANSI"), so the message can say so."""
    try:
        return _plausible(raw.decode("gb18030")) > 0.9
    except UnicodeDecodeError:
        return False
