"""TOML and JSON files (cases and plans) read with the same guarantees: UTF-8 text under the
size cap, nesting and number length checked before the parser runs (Python's parsers recurse
and refuse 4,300-digit integers with tracebacks), duplicate keys refused (JSON would silently
keep the last), finite numbers only (TOML's ``nan``/``inf``, JSON's ``NaN``/``Infinity``,
``1e400``), and every syntax error as a message of our own with its line and column (the
parsers' English text never reaches a Chinese page).
"""

from __future__ import annotations

import json
import math
import re
import tomllib
from typing import Any, Literal

from crmsim.errors import InputError, Issue
from crmsim.reading.limits import MAX_DEPTH, MAX_DIGITS, FileLimit
from crmsim.reading.text import decode

_SCAN = re.compile(
    r'(?P<str>"""(?:[^\\]|\\.)*?"""|\'\'\'.*?\'\'\'|"(?:[^"\\\n]|\\.)*"|\'[^\'\n]*\')'
    r"|(?P<comment>#[^\n]*)"
    r"|(?P<open>[\[{])|(?P<close>[\]}])"
    rf"|(?P<digits>\d[\d_]{{{MAX_DIGITS},}})",
    re.S,
)
_TOML_POS = re.compile(r"\s*\(at line (\d+), column (\d+)\)|\s*\(at end of document\)")
_TOML_KINDS = (
    (
        r"Cannot overwrite|Cannot declare|Duplicate inline table key|Cannot redefine|"
        r"Cannot mutate",
        "toml_duplicate",
    ),
    (r"Expected newline or end of document", "toml_after_value"),
    (r"Expected '=' after a key", "toml_expected_equals"),
    (r"Expected '\]\]?' at the end", "toml_table_header"),
    (r"Invalid date or datetime", "toml_bad_date"),
    (r"Unclosed array|Unclosed inline table", "toml_unclosed"),
    (r"Unterminated string|Expected '(\"{3}|'{3})'|Illegal character '\\n'", "toml_unterminated"),
    (
        r"Invalid hex value|Escaped character|Unescaped '\\'|Illegal character|"
        r"Found invalid character",
        "toml_bad_char",
    ),
    (r"Invalid initial character for a key part|Invalid statement", "toml_bad_statement"),
    (r"Invalid value", "toml_bad_value"),
)
_JSON_KINDS = (
    ("Expecting value", "json_expected_value"),
    ("Expecting property name", "json_key_quotes"),
    ("Expecting ':'", "json_expected_colon"),
    ("Expecting ','", "json_expected_comma"),
    ("Unterminated string", "json_unterminated"),
    ("Invalid control character", "json_control_char"),
    ("Invalid \\", "json_bad_escape"),
    ("Extra data", "json_extra"),
    ("Illegal trailing comma", "json_trailing_comma"),
)


class _DuplicateKey(ValueError):
    def __init__(self, key: str):
        self.key = key
        super().__init__(key)


def _line_of(text: str, pos: int) -> tuple[int, int]:
    line = text.count("\n", 0, pos) + 1
    return line, pos - (text.rfind("\n", 0, pos) + 1) + 1


def scan_limits(text: str, source: str) -> None:
    """Refuse nesting deeper than ``MAX_DEPTH`` and numbers longer than ``MAX_DIGITS`` digits
    (outside strings and comments) before a recursive parser sees them."""
    depth = 0
    for m in _SCAN.finditer(text):
        kind = m.lastgroup
        if kind == "open":
            depth += 1
            if depth > MAX_DEPTH:
                line, col = _line_of(text, m.start())
                raise InputError([Issue("", "too_deep", {"limit": MAX_DEPTH}, line, col)], source)
        elif kind == "close":
            depth = max(depth - 1, 0)
        elif kind == "digits":
            line, col = _line_of(text, m.start())
            raise InputError(
                [Issue("", "number_too_long", {"limit": MAX_DIGITS}, line, col)], source
            )


def toml_issue(exc: tomllib.TOMLDecodeError, text: str) -> Issue:
    """A TOML syntax error as our own message, with the line and column it names."""
    msg = str(exc)
    m = _TOML_POS.search(msg)
    if m and m.group(1):
        line, col = int(m.group(1)), int(m.group(2))
    else:
        line, col = text.count("\n") + 1, None
    key = next((k for pattern, k in _TOML_KINDS if re.search(pattern, msg)), "toml_syntax")
    return Issue("", key, {}, line, col)


def json_issue(exc: json.JSONDecodeError, field: str = "") -> Issue:
    """A JSON syntax error as our own message, with its line and column."""
    key = next((k for text, k in _JSON_KINDS if exc.msg.startswith(text)), "json_syntax")
    return Issue(field, key, {}, exc.lineno, exc.colno)


def _pairs(pairs: list[tuple[str, Any]]) -> dict:
    out: dict = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


def loads_json(text: str, source: str = "", field: str = "") -> Any:
    """JSON with duplicate keys and over-deep or over-long input refused (``field`` names
    where the text came from, e.g. a text box, for the messages)."""
    try:
        scan_limits(text, source)
    except InputError as exc:
        raise InputError(
            [Issue(field, i.key, i.params, i.line, i.column) for i in exc.issues], source
        ) from None
    try:
        return json.loads(text, object_pairs_hook=_pairs, parse_constant=float)
    except json.JSONDecodeError as exc:
        raise InputError([json_issue(exc, field)], source) from None
    except _DuplicateKey as exc:
        raise InputError([Issue(field, "duplicate_key", {"name": exc.key[:60]})], source) from None
    except RecursionError:  # pragma: no cover - scan_limits refuses deep files first
        raise InputError([Issue(field, "too_deep", {"limit": MAX_DEPTH})], source) from None


def _finite(value: Any, path: str, issues: list[Issue], depth: int = 0) -> None:
    if depth > MAX_DEPTH:
        issues.append(Issue(path, "too_deep", {"limit": MAX_DEPTH}))
    elif isinstance(value, dict):
        for key, item in value.items():
            _finite(item, f"{path}.{key}" if path else str(key), issues, depth + 1)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _finite(item, f"{path}[{i + 1}]", issues, depth + 1)
    elif isinstance(value, float) and not math.isfinite(value):
        issues.append(Issue(path, "not_finite", {"value": str(value)}))


def finite_issues(data: Any) -> list[Issue]:
    """A field-level issue for every number that is not finite (nan, inf)."""
    issues: list[Issue] = []
    _finite(data, "", issues)
    return issues


def read_structured(
    raw: bytes, fmt: Literal["toml", "json"], limit: FileLimit, source: str
) -> dict:
    """A TOML or JSON file as a mapping, with every guarantee of this module."""
    text = decode(raw, limit, source, encodings=("utf-8",)).text
    scan_limits(text, source)
    if fmt == "json":
        data = loads_json(text, source)
    else:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise InputError([toml_issue(exc, text)], source) from None
        except (RecursionError, ValueError):  # pragma: no cover - scan_limits refuses first
            raise InputError([Issue("", "too_deep", {"limit": MAX_DEPTH})], source) from None
    if not isinstance(data, dict):
        raise InputError([Issue("", "not_table")], source)
    issues = finite_issues(data)
    if issues:
        raise InputError(issues, source)
    return data
