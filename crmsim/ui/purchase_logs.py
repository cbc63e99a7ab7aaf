"""The Real data page's purchase log: an example or an upload, read and fitted once per file
and settings, with a progress bar while that runs.

A log becomes the one analysed only once it has been read without a problem; a refused upload
(unreadable, columns missing, ambiguous dates, …) is reported and the log analysed before
stays on the page. The column pickers (pre-set to the header's guess), the date order and
format belong to each file (keyed by its digest), so a choice made for one file never spoils
the next. Every option of the command line's ``rfm``/``clv`` is here.

Reads and fits are kept in one shared store (``st.cache_resource``, a few entries): a
million-row log is neither read twice nor pickled on every rerun as ``st.cache_data`` would.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import streamlit as st

from crmsim.cases import CASES_DIR
from crmsim.errors import InputError, Issue
from crmsim.i18n import Lang, t
from crmsim.reading import TRANSACTIONS
from crmsim.transactions import ROLES, Transactions, guess_columns
from crmsim.ui.uploads import file_upload, limit_params, show_input_error

EXAMPLES = {
    "example": CASES_DIR.parent / "transactions" / "cdnow_sample.csv",
    "retail": CASES_DIR.parent / "transactions" / "online_retail_sample.csv",
}
EXAMPLE_TRANSACTIONS = EXAMPLES["example"]
REQUIRED = ("customer", "date")
DATE_ORDERS = {"auto": None, "day": True, "month": False}
NONE = ""  # the "no such column" choice of an optional role
STORE_SIZE = 6


@dataclass(frozen=True)
class Options:
    """How to read a log: the column of each role (None: guessed, "": none), the date order
    and format, and whether repeated rows are double exports."""

    columns: tuple[tuple[str, str | None], ...]
    day_first: bool | None = None
    date_format: str = ""
    drop: bool = False

    def kwargs(self) -> dict:
        cols = dict(self.columns)
        return {
            "customer_col": cols.get("customer"),
            "date_col": cols.get("date"),
            "amount_col": cols.get("amount"),
            "quantity_col": cols.get("quantity"),
            "price_col": cols.get("unit_price"),
            "invoice_col": cols.get("invoice"),
            "status_col": cols.get("status"),
            "date_format": self.date_format or None,
            "day_first": self.day_first,
            "drop_duplicates": self.drop,
        }


@dataclass
class Log:
    """A purchase log that was read: its bytes, how it was read, and the result."""

    raw: bytes
    digest: str
    source: str
    options: Options
    tx: Transactions
    example: bool


@st.cache_resource
def _store() -> tuple[OrderedDict, threading.Lock]:
    return OrderedDict(), threading.Lock()


def _kept(key: tuple, make: Callable[[], object]):
    """``make()`` once per key, shared by every session (the last few kept)."""
    store, lock = _store()
    with lock:
        if key in store:
            store.move_to_end(key)
            return store[key]
    value = make()
    with lock:
        store[key] = value
        while len(store) > STORE_SIZE:
            store.popitem(last=False)
    return value


def _with_progress(lang: Lang, work: Callable[[Callable[[float, str], None]], object]):
    """Run ``work(progress)`` under a progress bar that names each step."""
    bar = st.progress(0.0, text=t("real.progress.read", lang))

    def tick(fraction: float, step: str) -> None:
        bar.progress(min(max(fraction, 0.0), 1.0), text=t(f"real.progress.{step}", lang))

    try:
        return work(tick)
    finally:
        bar.empty()


def transactions_file(lang: Lang) -> tuple[bytes, str, bool] | None:
    """The purchase log offered: an example or the user's latest upload (bytes, a label for
    messages, whether it is an example)."""
    source = st.radio(
        t("real.source", lang),
        ["example", "retail", "upload"],
        horizontal=True,
        key="real_source",
        format_func=lambda s: t(
            "real.log.source_retail" if s == "retail" else f"real.source_{s}", lang
        ),
    )
    if source in EXAMPLES:
        return EXAMPLES[source].read_bytes(), EXAMPLES[source].name, True
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


def _csv_header(raw: bytes, digest: str) -> list[str]:
    """The header row of a purchase log (decoded once per file, not on every rerun)."""
    from crmsim.reading import read_csv_header
    from crmsim.transactions import HEADER_WORDS

    return _kept(("header", digest), lambda: read_csv_header(raw, TRANSACTIONS, "", HEADER_WORDS))


def _pickers(header: list[str], digest: str, lang: Lang) -> Options:
    """The column, date and duplicate choices for this file (its own widgets), each column
    picker pre-set to the header's guess."""
    st.subheader(t("real.columns", lang))
    guess = guess_columns(header)
    chosen: dict[str, str | None] = {}
    cells = st.columns(4) + st.columns(4)
    for cell, role in zip(cells, ROLES, strict=False):
        if role in REQUIRED:
            options = header
            index = header.index(guess[role]) if guess[role] in header else None
        else:
            options = [NONE, *header]
            index = options.index(guess[role] or NONE)
        chosen[role] = cell.selectbox(
            t(f"real.log.col_{role}", lang),
            options,
            index=index,
            placeholder=t("real.col_choose", lang),  # nothing guessed: the user says which
            format_func=lambda c: c if c else t("real.log.col_none", lang),
            key=f"real_col_{role}_{digest}",
            help=t(f"real.log.help_{role}", lang),
        )
    order = cells[7].selectbox(
        t("real.date_order", lang),
        list(DATE_ORDERS),
        key=f"real_date_order_{digest}",
        format_func=lambda o: t(f"real.date_order_{o}", lang),
        help=t("real.date_order_help", lang),
    )
    left, right = st.columns(2)
    date_format = left.text_input(
        t("real.log.date_format", lang),
        key=f"real_date_format_{digest}",
        max_chars=40,
        placeholder=t("real.log.date_format_example", lang),
        help=t("real.log.date_format_help", lang),
    )
    drop = right.checkbox(t("real.drop_duplicates", lang), key="real_drop")
    # "" for a required role cannot happen; None means "not chosen yet" and is refused below
    return Options(tuple(chosen.items()), DATE_ORDERS[order], date_format.strip(), drop)


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
        header = _csv_header(raw, digest)
        options = _pickers(header, digest, lang)
        for role in REQUIRED:
            if dict(options.columns)[role] is None:
                raise InputError([Issue(role, "tx_column_not_found", _known(header, role))])
        tx = read_log(raw, digest, options, source, lang)
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
    log = Log(raw, digest, source, options, tx, example)
    st.session_state["real_log"] = log
    return log


def _known(header: list[str], role: str) -> dict:
    from crmsim.transactions import OPTIONS

    return {"known": ", ".join(header), "option": OPTIONS[role]}


def read_log(raw: bytes, digest: str, options: Options, source: str, lang: Lang) -> Transactions:
    """A checked purchase log, read once per file and options (a progress bar the first
    time). A refusal is not kept: the next rerun reads again and says the same."""
    from crmsim.transactions import read_transactions

    def work(progress):
        return read_transactions(raw, source=source, progress=progress, **options.kwargs())

    return _kept(("read", digest, options), lambda: _with_progress(lang, work))


def analyse_log(log: Log, settings: tuple, lang: Lang):
    """BG/NBD + Gamma-Gamma with diagnostics on a purchase log, once per file, options and
    ``settings`` (calibration end, observation end, unit, months, discount, margin)."""
    from crmsim.transactions import analyse

    def work(progress):
        return analyse(log.tx, *settings, progress=progress)

    return _kept(("fit", log.digest, log.options, settings), lambda: _with_progress(lang, work))
