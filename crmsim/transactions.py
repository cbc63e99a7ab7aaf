"""Real purchase logs: one import for everything in ``crmsim.purchases`` (kept so that
``from crmsim.transactions import analyse`` and the rest keep working).

The buy-till-you-die convention (Fader, Hardie & Lee 2005): purchases on one day count once;
``frequency`` x is the number of repeat purchase days, ``recency`` t_x the time from the first
to the last purchase, ``T`` the time from the first purchase to the end of the calibration
period; ``monetary`` is the mean spend of the repeat days (Gamma-Gamma).
"""

from crmsim.purchases.analysis import Analysis, Finding, analyse, diagnose
from crmsim.purchases.like import population_like
from crmsim.purchases.logs import (
    GUESSES,
    HEADER_WORDS,
    MAX_BYTES,
    MAX_COLUMNS,
    MAX_ROWS,
    MAX_UNREADABLE,
    ROLES,
    Transactions,
    choose_columns,
    columns_text,
    guess_columns,
    parse_day,
    read_transactions,
)
from crmsim.purchases.models import (
    BGNBD,
    MIN_FIT_CUSTOMERS,
    GammaGamma,
    customer_values,
    fit_bgnbd,
    fit_gamma_gamma,
    holdout_table,
)
from crmsim.purchases.summary import UNITS, rfm_summary, segment_frame

__all__ = [
    "BGNBD",
    "GUESSES",
    "HEADER_WORDS",
    "MAX_BYTES",
    "MAX_COLUMNS",
    "MAX_ROWS",
    "MAX_UNREADABLE",
    "MIN_FIT_CUSTOMERS",
    "ROLES",
    "UNITS",
    "Analysis",
    "Finding",
    "GammaGamma",
    "Transactions",
    "analyse",
    "choose_columns",
    "columns_text",
    "customer_values",
    "diagnose",
    "fit_bgnbd",
    "fit_gamma_gamma",
    "guess_columns",
    "holdout_table",
    "parse_day",
    "population_like",
    "read_transactions",
    "rfm_summary",
    "segment_frame",
]
