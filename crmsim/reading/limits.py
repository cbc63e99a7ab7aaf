"""How large each kind of user file may be: one table, read by the loaders, the upload widgets,
the help texts and the README (a test holds the README's table to this one)."""

from __future__ import annotations

from dataclasses import dataclass

KB = 1024
MB = 1024 * KB


@dataclass(frozen=True)
class FileLimit:
    """Caps for one kind of file: bytes (checked before anything is parsed), rows, columns."""

    kind: str
    max_bytes: int
    max_rows: int | None = None
    max_columns: int | None = None

    @property
    def size_text(self) -> str:
        """The byte cap as people write it: ``1 MB``, ``256 KB``."""
        return size_text(self.max_bytes)

    @property
    def widget_mb(self) -> int:
        """Streamlit's own cap for this kind's upload widget, in whole MB: twice ours, so a
        file up to twice too large reaches our check and gets our message in the user's
        language (Streamlit's own message is English and names no limit of ours)."""
        return max(1, -(-2 * self.max_bytes // MB))


def size_text(n: int) -> str:
    """A byte count as ``1 MB``, ``1.01 MB``, ``256 KB`` or ``900 B`` (two decimals at most,
    so a file just over a cap does not read as the cap itself)."""
    for unit, size in (("MB", MB), ("KB", KB)):
        if n >= size:
            return f"{n / size:,.2f}".rstrip("0").rstrip(".") + f" {unit}"
    return f"{n} B"


def over_text(n: int, limit: int) -> str:
    """A file's size in its cap's unit, with one decimal, or as many more (up to three) as it
    takes to read larger than the cap: ``5.5 MB`` or ``1.001 MB`` against ``1 MB``."""
    unit, size = ("MB", MB) if limit >= MB else ("KB", KB) if limit >= KB else ("B", 1)
    for digits in (1, 2, 3):
        text = f"{n / size:,.{digits}f}"
        if float(text.replace(",", "")) * size > limit:
            break
    return f"{text} {unit}"


CASE = FileLimit("case", 1 * MB)
PLAN = FileLimit("plan", 256 * KB)
CUSTOMERS = FileLimit("customers", 5 * MB, max_rows=100_000, max_columns=30)
# A million invoice lines in the UCI Online Retail export (8 columns) take about 83 MB.
TRANSACTIONS = FileLimit("transactions", 100 * MB, max_rows=1_000_000, max_columns=50)
LIMITS: tuple[FileLimit, ...] = (CASE, PLAN, CUSTOMERS, TRANSACTIONS)
# Streamlit's server-wide cap (``server.maxUploadSize`` in .streamlit/config.toml) must be at
# least the largest widget cap, or the server refuses the upload before any widget sees it.
SERVER_UPLOAD_MB = max(limit.widget_mb for limit in LIMITS)
# Nesting and number size in TOML/JSON: no file of ours needs more than a few levels, and
# Python's parsers recurse (a 6 KB file nested 3,000 deep overflowed the stack).
MAX_DEPTH = 32
MAX_DIGITS = 30
