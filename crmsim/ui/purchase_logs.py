"""The Real data page's purchase log: the example or an upload, read and fitted once per file."""

from __future__ import annotations

import streamlit as st

from crmsim.cases import CASES_DIR
from crmsim.errors import InputError
from crmsim.i18n import Lang, t
from crmsim.reading import TRANSACTIONS
from crmsim.ui.uploads import limit_params, show_input_error

# -- real data -------------------------------------------------------------------------------
EXAMPLE_TRANSACTIONS = CASES_DIR.parent / "transactions" / "cdnow_sample.csv"


def transactions_file(lang: Lang) -> tuple[bytes, str] | None:
    """The purchase log to analyse: the CDNOW example or the user's upload (kept in the
    session so a later bad upload does not lose it)."""
    source = st.radio(
        t("real.source", lang),
        ["example", "upload"],
        horizontal=True,
        key="real_source",
        format_func=lambda s: t(f"real.source_{s}", lang),
    )
    if source == "example":
        return EXAMPLE_TRANSACTIONS.read_bytes(), "cdnow_sample.csv"
    upload = st.file_uploader(
        t("real.upload", lang),
        type=["csv", "txt"],
        key="real_upload",
        help=t("real.upload_help", lang, **limit_params(TRANSACTIONS)),
        max_upload_size=TRANSACTIONS.widget_mb,  # above our cap: our message is the one seen
    )
    if upload is not None:
        st.session_state["real_raw"] = upload.getvalue()
    raw = st.session_state.get("real_raw")
    return (raw, t("real.your_file", lang)) if raw else None


@st.cache_data(max_entries=8, show_spinner=False)
def _csv_header(raw: bytes) -> list[str]:
    """The header row of a purchase log (decoded once per file, not on every rerun)."""
    from crmsim.reading import read_csv_header
    from crmsim.transactions import HEADER_WORDS

    return read_csv_header(raw, TRANSACTIONS, "", HEADER_WORDS)


def csv_header(raw: bytes, lang: Lang) -> list[str] | None:
    """The header row of an uploaded CSV, or None after showing what is wrong."""
    try:
        return _csv_header(raw)
    except InputError as exc:
        exc.source = t("real.your_file", lang)
        show_input_error(exc, lang)
        return None


@st.cache_data(max_entries=8, show_spinner=False)
def read_transactions_cached(raw: bytes, columns: tuple, drop_duplicates: bool, _source: str = ""):
    """A checked purchase log (cached per file and column choice; the source name only labels
    messages, so it is not part of the key and the fit below reuses this read)."""
    from crmsim.transactions import read_transactions

    return read_transactions(raw, *columns, source=_source, drop_duplicates=drop_duplicates)


@st.cache_data(max_entries=8, show_spinner=False)
def analyse_cached(raw: bytes, columns: tuple, drop_duplicates: bool, cal_end, obs_end, unit: str):
    """BG/NBD + Gamma-Gamma on a purchase log (cached per file and settings)."""
    from crmsim.transactions import analyse

    tx = read_transactions_cached(raw, columns, drop_duplicates)
    return analyse(tx, cal_end, obs_end, unit)
