"""The frame of every page: page config, language, the translated sidebar navigation.

Every page starts with ``lang = navigation.bootstrap("page_key")``.
"""

from __future__ import annotations

import streamlit as st

from crmsim.i18n import LANGS, Lang, normalize_lang, t

# (page key, file) of the pages that exist; labels come from the catalogs (nav.<key>).
PAGES: tuple[tuple[str, str], ...] = (
    ("home", "app.py"),
    ("customers", "pages/customers.py"),
    ("segments", "pages/segments.py"),
    ("plan", "pages/plan.py"),
    ("simulate", "pages/simulate.py"),
    ("compare", "pages/compare.py"),
    ("real_data", "pages/real_data.py"),
    ("learn", "pages/learn.py"),
    ("glossary", "pages/glossary.py"),
    ("classroom", "pages/classroom.py"),
)


def current_lang() -> Lang:
    """Language from ``?lang=``, else the session's choice, else the browser's locale."""
    q = st.query_params.get("lang")
    if q in LANGS:
        return q  # type: ignore[return-value]
    if st.session_state.get("lang") in LANGS:
        return st.session_state["lang"]
    return normalize_lang(getattr(st.context, "locale", None) or "")


def bootstrap(page: str) -> Lang:
    """Page config, language switch (kept in the URL) and the translated sidebar navigation."""
    lang = current_lang()
    st.set_page_config(
        page_title=f"{t('app.name', lang)} · {t(f'nav.{page}', lang)}",
        page_icon="📈",
        layout="wide",
    )
    st.session_state["lang"] = lang
    st.query_params["lang"] = lang
    with st.sidebar:
        st.markdown(f"### {t('app.name', lang)}")
        for key, path in PAGES:
            st.page_link(path, label=t(f"nav.{key}", lang), query_params={"lang": lang})
        st.divider()
        choice = st.radio(
            t("app.language", lang),
            LANGS,
            index=LANGS.index(lang),
            format_func=lambda code: t(f"app.lang_{code}", lang),
            horizontal=True,
            key="lang_radio",
        )
        if choice != lang:
            st.session_state["lang"] = choice
            st.query_params["lang"] = choice
            st.rerun()
    return lang
