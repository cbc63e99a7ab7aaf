"""The Real data page's purchase log: the example or an upload, read and fitted once per file.

A log becomes the one analysed only once it has been read without a problem; a refused upload
(unreadable, columns missing, ambiguous dates, …) is reported and the log analysed before
stays on the page. The column pickers and the date-order menu belong to each file (keyed by
its digest), so a choice made for one file never spoils the next.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import streamlit as st

from crmsim.cases import CASES_DIR
from crmsim.errors import InputError, Issue
from crmsim.i18n import Lang, t
from crmsim.reading import TRANSACTIONS
from crmsim.transactions import Transactions, guess_columns
from crmsim.ui.uploads import file_upload, limit_params, show_input_error

EXAMPLE_TRANSACTIONS = CASES_DIR.parent / "transactions" / "cdnow_sample.csv"
ROLES = ("customer", "date", "amount")
DATE_ORDERS = {"auto": None, "day": True, "month": False}
Columns = tuple[str | None, str | None, str | None]  # customer, date, amount (None: not chosen)


@dataclass
class Log:
    """A purchase log that was read: its bytes, how it was read, and the result."""

    raw: bytes
    digest: str
    source: str
    columns: Columns
    drop: bool
    day_first: bool | None
    tx: Transactions
    example: bool


def transactions_file(lang: Lang) -> tuple[bytes, str, bool] | None:
    """The purchase log offered: the CDNOW example or the user's latest upload (bytes, a
    label for messages, whether it is the example)."""
    source = st.radio(
        t("real.source", lang),
        ["example", "upload"],
        horizontal=True,
        key="real_source",
        format_func=lambda s: t(f"real.source_{s}", lang),
    )
    if source == "example":
        return EXAMPLE_TRANSACTIONS.read_bytes(), "cdnow_sample.csv", True
    upload = file_upload(
        st,
        t("real.upload", lang),
        ["csv", "txt"],
        "real_upload",
        TRANSACTIONS,
        t("real.upload_help", lang, **limit_params(TRANSACTIONS)),
    )
    if upload is None:
        return None
    return upload.getvalue(), t("real.your_file", lang), False


@st.cache_data(max_entries=8, show_spinner=False)
def _csv_header(raw: bytes) -> list[str]:
    """The header row of a purchase log (decoded once per file, not on every rerun)."""
    from crmsim.reading import read_csv_header
    from crmsim.transactions import HEADER_WORDS

    return read_csv_header(raw, TRANSACTIONS, "", HEADER_WORDS)


def _pickers(
    header: list[str], digest: str, lang: Lang
) -> tuple[tuple[str, str, str], bool | None]:
    """The column and date-order choices for this file (its own widgets)."""
    st.subheader(t("real.columns", lang))
    guess = guess_columns(header)
    cols = st.columns(4)
    columns = tuple(
        col.selectbox(
            t(f"real.col_{role}", lang),
            header,
            index=header.index(guess[role]) if guess[role] in header else None,
            placeholder=t("real.col_choose", lang),  # nothing guessed: the user says which
            key=f"real_col_{role}_{digest}",
        )
        for col, role in zip(cols, ROLES, strict=False)
    )
    order = cols[3].selectbox(
        t("real.date_order", lang),
        list(DATE_ORDERS),
        key=f"real_date_order_{digest}",
        format_func=lambda o: t(f"real.date_order_{o}", lang),
        help=t("real.date_order_help", lang),
    )
    return columns, DATE_ORDERS[order]  # type: ignore[return-value]


def chosen_log(lang: Lang) -> Log | None:
    """The log to analyse: the one offered if it reads, else (after saying why, and that it
    stays) the one analysed before; None when nothing was offered yet."""
    offered = transactions_file(lang)
    kept: Log | None = st.session_state.get("real_log")
    if offered is None:
        return kept
    raw, source, example = offered
    digest = hashlib.sha256(raw).hexdigest()[:12]
    try:
        header = _csv_header(raw)
        columns, day_first = _pickers(header, digest, lang)
        drop = st.checkbox(t("real.drop_duplicates", lang), key="real_drop")
        tx = read_transactions_cached(raw, columns, drop, day_first, source)
        if (tx.last_date - tx.first_date).days < 2:  # no room for a calibration period
            raise InputError([Issue(tx.columns["date"], "tx_one_day")], source)
    except InputError as exc:
        exc.source = source
        show_input_error(exc, lang)
        if kept is not None and kept.digest != digest:
            st.info(
                t(
                    "real.kept",
                    lang,
                    rows=f"{len(kept.tx.frame):,}",
                    first=f"{kept.tx.first_date:%Y-%m-%d}",
                    last=f"{kept.tx.last_date:%Y-%m-%d}",
                )
            )
            return kept
        st.stop()  # the problem is on the page; nothing else to show
    log = Log(raw, digest, source, columns, drop, day_first, tx, example)
    st.session_state["real_log"] = log
    return log


@st.cache_data(max_entries=8, show_spinner=False)
def read_transactions_cached(
    raw: bytes, columns: tuple, drop_duplicates: bool, day_first: bool | None, _source: str = ""
):
    """A checked purchase log (cached per file, column choice and date order; the source name
    only labels messages, so it is not part of the key and the fit below reuses this read)."""
    from crmsim.transactions import read_transactions

    return read_transactions(
        raw, *columns, source=_source, drop_duplicates=drop_duplicates, day_first=day_first
    )


@st.cache_data(max_entries=8, show_spinner=False)
def analyse_cached(
    raw: bytes,
    columns: tuple,
    drop_duplicates: bool,
    day_first: bool | None,
    cal_end,
    obs_end,
    unit: str,
):
    """BG/NBD + Gamma-Gamma on a purchase log (cached per file and settings)."""
    from crmsim.transactions import analyse

    tx = read_transactions_cached(raw, columns, drop_duplicates, day_first)
    return analyse(tx, cal_end, obs_end, unit)
