"""What every CLI command shares: range checks of the common options and writing an output
file. Its own module so that the command modules (``cli``, ``cli_model``) need not import
each other."""

from __future__ import annotations

import sys
from pathlib import Path

from crmsim.cases import MAX_CUSTOMERS, MIN_CUSTOMERS
from crmsim.errors import InputError, Issue
from crmsim.i18n import Lang, t

MAX_MONTHS = 120


def check_size(n: int | None, lang: Lang) -> None:
    """Refuse a ``--customers`` outside the supported population sizes."""
    if n is not None and not MIN_CUSTOMERS <= n <= MAX_CUSTOMERS:
        raise InputError(
            [
                Issue(
                    "--customers",
                    "population_size",
                    {"low": MIN_CUSTOMERS, "high": MAX_CUSTOMERS, "value": n},
                )
            ]
        )


def check_months(m: int | None) -> None:
    """Refuse a ``--months`` outside 1..MAX_MONTHS."""
    if m is not None and not 1 <= m <= MAX_MONTHS:
        raise InputError(
            [Issue("--months", "months_range", {"low": 1, "high": MAX_MONTHS, "value": m})]
        )


def write(path: str, text: str, lang: Lang) -> None:
    """Write ``text`` to ``path`` (``-``: standard output) and say so on standard error."""
    if path == "-":
        sys.stdout.write(text + "\n")
        return
    Path(path).write_text(text, encoding="utf-8")
    print(t("cli.wrote", lang, path=path), file=sys.stderr)
