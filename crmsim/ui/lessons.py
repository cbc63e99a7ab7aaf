"""The Learn page's state: the lesson picked (``?lesson=``) and the lessons passed (``?done=``,
sticky on every page, see ``url_state``), so a learner can bookmark the page and come back."""

from __future__ import annotations

import streamlit as st

from crmsim.i18n import Lang, t
from crmsim.lessons import BY_KEY, LESSONS
from crmsim.lessons import run as run_lesson
from crmsim.ui import url_state


def lessons_done() -> list[str]:
    """Lessons whose self-check was passed."""
    return list(st.session_state.get("lessons_done", []))


def mark_lesson_done(key: str) -> None:
    """Record a passed self-check in the session and the URL."""
    done = lessons_done()
    if key not in done:
        done.append(key)
    st.session_state["lessons_done"] = done
    url_state.put("done", ",".join(done))


def _restore(raw: str) -> None:
    done = [k for k in dict.fromkeys(raw.split(",")) if k in BY_KEY]
    st.session_state["lessons_done"] = done
    url_state.put("done", ",".join(done) or None)


url_state.register("done", _restore, order=40)


def chosen_lesson(lang: Lang) -> str:
    """The lesson picker, starting from ``?lesson=`` and writing the choice back to the URL."""
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
    if st.query_params.get("lesson") != key:
        st.query_params["lesson"] = key
    return key


@st.cache_data(max_entries=64, show_spinner=False)
def lesson_facts(key: str, seed: int, value: float | None = None) -> dict:
    """The facts of one lesson's experiment (shared by every learner with the same seed and
    knob)."""
    return run_lesson(key, seed, value)


def knob_input(key: str, lang: Lang, where=None) -> float:
    """The lesson's one knob besides the seed (a slider over its range)."""
    knob = BY_KEY[key].knob
    whole = float(knob.step).is_integer() and float(knob.low).is_integer()
    cast = int if whole else float
    return (where or st).slider(
        t(f"learn.knob.{knob.name}", lang),
        cast(knob.low),
        cast(knob.high),
        cast(knob.default),
        cast(knob.step),
        key=f"learn_knob_{key}",
        help=t("learn.knob.help", lang),
    )
