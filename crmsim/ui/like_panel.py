"""The Real data page's last step: a population like the log's customers, made from the fits
(crmsim.purchases.like), with the synthetic book shown next to the real one and each figure's
tolerance (crmsim.purchases.compare)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from crmsim.i18n import Lang, t
from crmsim.money import CURRENCIES, currency_name
from crmsim.ui import case_store, navigation, state

COMPARED_CUSTOMERS = 10_000  # the synthetic book compared: enough for steady shares, ~0.3 s


def _currency_guess(raw: bytes) -> str:
    from crmsim.purchases.like import guess_currency

    text = raw[:200_000].decode("utf-8", errors="ignore")
    return guess_currency(pd.Series([text]))


def comparison_table(table: pd.DataFrame, lang: Lang) -> pd.DataFrame:
    """The comparison in the user's words: figure, real, synthetic, gap, tolerance, verdict."""
    rows = []
    for row in table.itertuples():
        kind = row.kind
        shares = kind == "below" or row.figure.startswith(("buy", "purchases", "top20"))
        shown = "abs" if shares else "money"
        if row.figure == "decline":
            shown = "ratio"
        fmt = (lambda v: f"{v:.0%}") if shown == "abs" else (lambda v: f"{v:,.2f}")
        if kind == "rel":
            gap, tol = f"{row.gap:+.0%}", f"±{row.tolerance:.0%}"
        elif kind == "below":
            gap, tol = "", f"< {row.tolerance:.2f}"
        elif shown == "ratio":
            gap, tol = f"{row.gap:+.2f}", f"±{row.tolerance:.2f}"
        else:
            pp = t("real.like.pp", lang)
            gap, tol = f"{row.gap * 100:+.1f} {pp}", f"±{row.tolerance * 100:.0f} {pp}"
        rows.append(
            {
                t("real.like.figure", lang): t(f"real.like.fig_{row.figure}", lang),
                t("real.like.real", lang): fmt(row.real) if shown != "ratio" else f"{row.real:.2f}",
                t("real.like.synthetic", lang): fmt(row.synthetic)
                if shown != "ratio"
                else f"{row.synthetic:.2f}",
                t("real.like.gap", lang): gap,
                t("real.like.tolerance", lang): tol,
                t("real.like.verdict", lang): t(
                    "real.like.within" if row.ok else "real.like.outside", lang
                ),
            }
        )
    return pd.DataFrame(rows)


def show(log, found, lang: Lang) -> None:
    """Pick the case that lends costs and plan and the data's currency, make the population,
    compare it with the real book and offer it as the current case."""
    from crmsim.purchases.compare import compare, holdout_months, real_book, synthetic_book
    from crmsim.purchases.like import population_like

    st.subheader(t("real.like_title", lang))
    st.write(t("real.like_intro", lang))
    uploaded = case_store.UPLOAD_PREFIX
    base_ids = [cid for cid in case_store.case_ids() if not cid.startswith(uploaded)]
    left, right = st.columns(2)
    base_id = left.selectbox(
        t("real.like_base", lang),
        base_ids,
        index=base_ids.index("online_retailer") if "online_retailer" in base_ids else 0,
        format_func=lambda cid: case_store.case_label(cid, lang),
        key="real_like_base",
    )
    codes = [code for code in CURRENCIES if code != "RMB"]  # RMB is CNY
    guess = _currency_guess(log.raw)
    currency = right.selectbox(
        t("real.like.currency", lang),
        codes,
        index=codes.index(guess) if guess in codes else 0,
        key=f"real_like_currency_{log.digest}",
        format_func=lambda code: (
            f"{currency_name(code, lang)} ({code})" if lang == "en" else currency_name(code, lang)
        ),
        help=t("real.like.currency_help", lang),
    )
    if st.button(t("real.like_button", lang), key="real_like"):
        label = log.source if log.example else ""  # an upload is named by its data's digest
        with st.spinner(t("real.like.making", lang)):
            made = population_like(
                found.summary,
                found.bgnbd,
                found.unit,
                case_store.case(base_id),
                name=label[:40],
                gg=found.gamma_gamma,
                currency=currency,
            )
            real = real_book(log.tx, found.calibration_end, found.observation_end)
            months = holdout_months(found.calibration_end, found.observation_end)
            synth = synthetic_book(made, COMPARED_CUSTOMERS, 1, months)
        n = int(np.clip(len(found.summary), 100, 100_000))
        state.choose_case(case_store.add_case(made), n)
        st.session_state["real_like_done"] = (made.title.get(lang), compare(real, synth))
    done = st.session_state.get("real_like_done")
    if done:
        title, table = done
        st.success(t("real.like_done", lang, title=title))
        st.caption(t("real.like.compare_intro", lang))
        st.dataframe(comparison_table(table, lang), hide_index=True)
        if not table["ok"].all():
            st.warning(t("real.like.some_outside", lang))
        navigation.page_link("pages/customers.py", t("real.like_next", lang))
