"""User-facing input errors: field-level issues rendered in the user's language.

Every file a user hands in is checked before use (DESIGN §6). Problems are collected as
``Issue`` values (a field path, a message key, parameters) and raised together as
``InputError``; the CLI and the app render them with ``t()`` and never show a traceback.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from pydantic import ValidationError

from crmsim.i18n import Lang, t


@dataclass(frozen=True)
class Issue:
    """One problem with one field of an input."""

    field: str
    key: str
    params: dict = field(default_factory=dict)
    line: int | None = None
    column: int | None = None

    def render(self, lang: Lang = "zh") -> str:
        """The message in ``lang``, prefixed with the field (and line and column) it concerns."""
        body = t(f"err.{self.key}", lang, **self.params)
        where = self.field or t("err.where_file", lang)
        if self.line is not None and self.column is not None:
            where = t("err.where_line_col", lang, field=where, line=self.line, col=self.column)
        elif self.line is not None:
            where = t("err.where_line", lang, field=where, line=self.line)
        return t("err.format", lang, where=where, message=body)


class InputError(ValueError):
    """Raised with every issue found in one input; ``str()`` gives the English report."""

    def __init__(self, issues: Iterable[Issue], source: str = ""):
        self.issues = list(issues)
        self.source = source
        super().__init__(self.report("en"))

    def report(self, lang: Lang = "zh") -> str:
        """All issues, one per line, in ``lang``."""
        return "\n".join(issue.render(lang) for issue in self.issues)


# pydantic error types → our message keys (the rest fall back to ``invalid``).
_PYDANTIC_KEYS = {
    "missing": "missing",
    "extra_forbidden": "unknown_key",
    "greater_than": "must_exceed",
    "greater_than_equal": "too_small",
    "less_than": "too_large",
    "less_than_equal": "too_large",
    "float_parsing": "not_number",
    "float_type": "not_number",
    "finite_number": "not_finite",
    "int_parsing": "not_integer",
    "int_type": "not_integer",
    "int_from_float": "not_integer",
    "string_type": "not_text",
    "string_too_short": "empty_text",
    "string_too_long": "text_too_long",
    "string_pattern_mismatch": "bad_id",
    "literal_error": "not_allowed",
    "bool_type": "not_bool",
    "bool_parsing": "not_bool",
    "dict_type": "not_table",
    "model_type": "not_table",
    "list_type": "not_list",
    "tuple_type": "not_list",
    "too_short": "list_too_short",
    "too_long": "list_too_long",
}


def _number(v: object) -> object:
    """Limits as people write them: 1,000,000 and 0, not 1000000 and 0.0."""
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return f"{v:,}" if isinstance(v, int) and not isinstance(v, bool) else v


def field_path(loc: Iterable[object]) -> str:
    """A field path people read: ``events[1].month`` for the first event (1-based)."""
    out = ""
    for part in loc:
        if part in ("__root__", "[key]"):
            continue
        if isinstance(part, int):
            out += f"[{part + 1}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def issues_from_pydantic(exc: ValidationError, prefix: str = "") -> list[Issue]:
    """Turn pydantic's errors into field-level issues with translatable messages."""
    out: list[Issue] = []
    for err in exc.errors(include_url=False):
        loc = field_path(err.get("loc", ()))
        if prefix:
            loc = f"{prefix}.{loc}" if loc else prefix
        etype = err.get("type", "")
        ctx = err.get("ctx") or {}
        if etype == "value_error" and isinstance(ctx.get("error"), IssueValue):
            inner = ctx["error"]
            out.append(Issue(loc, inner.key, inner.params))
            continue
        key = _PYDANTIC_KEYS.get(etype, "invalid")
        params: dict = {"detail": err.get("msg", "")}
        for name in ("ge", "gt", "le", "lt", "min_length", "max_length", "expected"):
            if name in ctx:
                params["limit"] = _number(ctx[name])
        if etype == "literal_error" and "limit" in params:
            params["limit"] = str(params["limit"]).replace("'", "").replace(" or ", ", ")
        if "input" in err and not isinstance(err["input"], dict | list):
            params["value"] = str(err["input"])[:60]
        out.append(Issue(loc, key, params))
    return out


class IssueValue(ValueError):
    """Raised inside pydantic validators to carry a translatable message key."""

    def __init__(self, key: str, **params: object):
        self.key = key
        self.params = params
        super().__init__(t(f"err.{key}", "en", **params))
