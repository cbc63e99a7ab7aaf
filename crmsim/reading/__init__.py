"""One reading layer for every file a user hands in (case, plan, customers, purchase log).

Each file goes through the same steps, each refusing with a field-level ``Issue`` in the
user's language (never a parser's English text, never a traceback):

1. ``text``: the size cap of its kind (``limits``) before anything is parsed, empty and
   binary files (an .xlsx uploaded as CSV), the encoding (UTF-8 ± BOM; for CSV also
   GB18030/GBK and UTF-16, the reading that yields the expected header and plausible text
   winning), and CR, LF or CRLF line ends alike;
2. ``structured`` (TOML, JSON): nesting depth and number length before the parser, duplicate
   keys, finite numbers; ``tables`` (CSV): the delimiter sniffed, every row's field count
   against the header (an unquoted ``1,234.5`` is refused by row, not shifted or cut);
3. ``values`` and ``dates``: numbers with currency signs and thousands separators, customer
   ids, and purchase dates, read the same way in customers files and purchase logs.

The schemas (strict: no string or boolean is turned into a number) then check the meaning.
"""

from crmsim.reading.dates import Dates, check_date_format, parse_dates
from crmsim.reading.limits import CASE, CUSTOMERS, LIMITS, PLAN, TRANSACTIONS, FileLimit
from crmsim.reading.structured import finite_issues, json_issue, loads_json, read_structured
from crmsim.reading.tables import (
    Table,
    header_key,
    match_header,
    read_csv_header,
    read_table,
    rows_text,
)
from crmsim.reading.text import Decoded, check_size, decode
from crmsim.reading.values import Numbers, normalise_ids, parse_numbers

__all__ = [
    "CASE",
    "CUSTOMERS",
    "LIMITS",
    "PLAN",
    "TRANSACTIONS",
    "Dates",
    "Decoded",
    "FileLimit",
    "Numbers",
    "Table",
    "check_date_format",
    "check_size",
    "decode",
    "finite_issues",
    "header_key",
    "json_issue",
    "loads_json",
    "match_header",
    "normalise_ids",
    "parse_dates",
    "parse_numbers",
    "read_csv_header",
    "read_structured",
    "read_table",
    "rows_text",
]
