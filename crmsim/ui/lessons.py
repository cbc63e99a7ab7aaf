"""The Learn page's state: the lesson picked and the lessons passed, kept in the URL."""

from __future__ import annotations

import streamlit as st

from crmsim.i18n import Lang, t


# -- lessons ---------------------------------------------------------------------------------
def lessons_done() -> list[str]:
    """Lessons whose self-check was passed, from the session and the URL (``?done=a,b``), so
    a learner can bookmark the page and come back."""
    from crmsim.lessons import BY_KEY

    raw = st.query_params.get("done", "")
    found = [k for k in raw.split(",") if k in BY_KEY]
    for k in st.session_state.get("lessons_done", []):
        if k not in found:
            found.append(k)
    return found


def mark_lesson_done(key: str) -> None:
    """Record a passed self-check in the session and the URL."""
    done = lessons_done()
    if key not in done:
        done.append(key)
    st.session_state["lessons_done"] = done
    st.query_params["done"] = ",".join(done)


def chosen_lesson(lang: Lang) -> str:
    """The lesson picker, starting from ``?lesson=`` and writing the choice back to the URL."""
    from crmsim.lessons import LESSONS

    keys = [lesson.key for lesson in LESSONS]
    asked = st.query_params.get("lesson")
    if (
        asked in keys
        and st.session_state.get("learn_pick") != asked
        and (st.session_state.get("learn_url_seen") != asked)
    ):
        st.session_state["learn_pick"] = asked
    done = set(lessons_done())
    key = st.selectbox(
        t("learn.pick", lang),
        keys,
        key="learn_pick",
        format_func=lambda k: ("✓ " if k in done else "") + t(f"learn.{k}.title", lang),
    )
    st.session_state["learn_url_seen"] = key
    st.query_params["lesson"] = key
    if done:
        st.query_params["done"] = ",".join(lessons_done())
    return key


@st.cache_data(max_entries=64, show_spinner=False)
def lesson_facts(key: str, seed: int) -> dict:
    """The facts of one lesson's experiment (shared by every learner with the same seed)."""
    from crmsim.lessons import run

    return run(key, seed)
