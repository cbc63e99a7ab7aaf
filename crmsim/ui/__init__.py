"""Streamlit glue shared by every page: language, navigation, cached loaders.

The only package in ``crmsim`` that imports Streamlit (DESIGN §2). Every page starts with
``lang = bootstrap("page_key")``.
"""

from __future__ import annotations

import streamlit as st

from crmsim.cases import Case, builtin_case_ids, load_case
from crmsim.i18n import LANGS, Lang, normalize_lang, t
from crmsim.population import Population, generate

# (page key, file) of the pages that exist; labels come from the catalogs (nav.<key>).
PAGES: tuple[tuple[str, str], ...] = (("home", "app.py"),)


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


@st.cache_resource(max_entries=32, show_spinner=False)
def case(case_id: str) -> Case:
    """A built-in case, loaded once per server process and shared by all sessions."""
    return load_case(case_id)


def case_ids() -> list[str]:
    """Built-in case ids."""
    return builtin_case_ids()


@st.cache_resource(max_entries=8, show_spinner=False)
def population(case_id: str, n: int, seed: int, locale: str) -> Population:
    """A generated population shared by every session that asks for the same one (read-only:
    the engine copies what it changes)."""
    return generate(case(case_id), n, seed=seed, locale=locale)
