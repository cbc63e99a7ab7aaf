"""The Real data page's fit: parameters with the ones at a bound marked, and the diagnostics
next to them in the user's language (crmsim.purchases.analysis)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from crmsim.i18n import Lang, t

PARAMS = (
    ("BG/NBD", "bgnbd", ("r", "alpha", "a", "b")),
    ("Gamma-Gamma", "gamma_gamma", ("p", "q", "v")),
)
SYMBOLS = {"alpha": "α"}


def parameter_table(found, lang: Lang) -> pd.DataFrame:
    """One row per parameter: model, name, estimate, meaning, and a remark when the optimiser
    left it at the edge of its search (not an estimate)."""
    rows = []
    for model, attr, names in PARAMS:
        fit = getattr(found, attr)
        for name in names:
            rows.append(
                {
                    t("real.model", lang): model,
                    t("real.parameter", lang): SYMBOLS.get(name, name),
                    t("real.estimate", lang): float(getattr(fit, name)),
                    t("real.meaning", lang): t(f"real.means_{name}", lang),
                    t("real.log.remark", lang): t("real.log.at_bound", lang)
                    if name in fit.at_bound
                    else "",
                }
            )
    return pd.DataFrame(rows)


def show_diagnostics(found, lang: Lang) -> None:
    """Each finding as a success, warning or note."""
    st.markdown(f"**{t('real.log.diagnostics', lang)}**")
    for finding in found.diagnostics:
        show = {"ok": st.success, "warning": st.warning}.get(finding.level, st.info)
        show(finding.render(lang))


def column_title(name: str, months: int, lang: Lang) -> str:
    """A per-customer table column's title (the horizon ones name the months chosen)."""
    if name in ("expected_purchases", "clv"):
        return t(f"real.log.colname_{name}", lang, months=months)
    return t(f"real.colname_{name}", lang)
