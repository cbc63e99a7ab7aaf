"""The frame of every page: page config, language, the translated sidebar navigation.

Every page starts with ``lang = navigation.bootstrap("page_key")``.
"""

from __future__ import annotations

import importlib
import threading

import streamlit as st

from crmsim.i18n import LANGS, Lang, normalize_lang, t
from crmsim.ui import lessons, plan_state, seat, state, url_state, widget_texts

# The modules whose sticky parameters a new session restores register them when imported
# (lessons: ``done``; plan_state: ``plan``; state: ``case``, ``n``, ``seed``; seat: ``room``,
# ``team``): importing them here registers them before the first page of a session runs.
STICKY_MODULES = (lessons, plan_state, seat, state)

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


# Imported in the background when a server process draws its first page: the first k-means of
# a session otherwise waits 2–3 s for scikit-learn (measured by benchmarks/bench_app.py).
SLOW_IMPORTS = ("sklearn.cluster",)
_warming: threading.Thread | None = None
_warming_lock = threading.Lock()


def warm_imports() -> threading.Thread:
    """Start importing ``SLOW_IMPORTS`` in one daemon thread per process (once); returns it."""
    global _warming
    with _warming_lock:
        if _warming is None:
            _warming = threading.Thread(
                target=lambda: [importlib.import_module(m) for m in SLOW_IMPORTS],
                name="crm-imports",
                daemon=True,
            )
            _warming.start()
        return _warming


def current_lang() -> Lang:
    """Language from ``?lang=``, else the session's choice, else the browser's locale."""
    q = st.query_params.get("lang")
    if q in LANGS:
        return q  # type: ignore[return-value]
    if st.session_state.get("lang") in LANGS:
        return st.session_state["lang"]
    return normalize_lang(getattr(st.context, "locale", None) or "")


def bootstrap(page: str) -> Lang:
    """Page config, the state a link or reload brings back, the language switch and the
    translated sidebar navigation (links carry the sticky parameters, see ``url_state``)."""
    warm_imports()
    st.session_state.pop("_sticky_links", None)  # last run's links are gone
    st.session_state["_page_before"] = st.session_state.get("_page")
    st.session_state["_page"] = page
    lang = current_lang()
    st.set_page_config(
        page_title=f"{t('app.name', lang)} · {t(f'nav.{page}', lang)}",
        page_icon="📈",
        layout="wide",
    )
    st.session_state["lang"] = lang
    if st.query_params.get("lang") != lang:
        st.query_params["lang"] = lang
    url_state.restore_once()
    with st.sidebar:
        st.markdown(f"### {t('app.name', lang)}")
        links = st.empty()

        def draw_links() -> None:
            with links.container():
                for key, path in PAGES:
                    page_link(path, t(f"nav.{key}", lang))

        draw_links()
        url_state.set_link_drawer(draw_links)
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
        widget_texts.translate_widgets(lang)
    for problem in url_state.problems():
        st.warning(t(f"url.{problem}", lang))
    return lang


def arrived() -> bool:
    """Whether this run is the first on its page (a page change, a reload, a link), not a
    rerun caused by a widget on the page."""
    return st.session_state.get("_page_before") != st.session_state.get("_page")


def page_link(path: str, label: str, where=None, **params: str) -> None:
    """A link to another page of the app that keeps the language and the sticky state (and
    ``params`` for that page), drawn in ``where`` (a column, say) or the page."""
    (where or st).page_link(path, label=label, query_params={**url_state.carried(), **params})
