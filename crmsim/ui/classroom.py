"""Streamlit glue of the classroom page: the shared store, the team's seat, the two views."""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager

import pandas as pd
import streamlit as st

from crmsim import charts
from crmsim.classroom import (
    DEFAULT_WEIGHTS,
    SCORE_KPIS,
    Classroom,
    ClassroomError,
    Room,
    StoreError,
    column_names,
    default_url,
)
from crmsim.i18n import Lang, t
from crmsim.ui import case_store, state


@st.cache_resource(show_spinner=False)
def _store(url: str) -> Classroom:
    return Classroom(url)


def store() -> Classroom:
    """The classroom database shared by every session of this server (``DATABASE_URL`` or
    the SQLite file in the data folder)."""
    return _store(default_url())


@contextmanager
def guard(lang: Lang):
    """Run a part of the page that talks to the database; if the database fails (down,
    full, read-only, busy), say which in the user's language instead of a traceback."""
    try:
        yield
    except StoreError as exc:
        st.error(exc.message(lang))
        st.stop()


def client_key() -> str:
    """Who is trying to join, for slowing down repeated failures: the browser's address (the
    first X-Forwarded-For entry behind a proxy, which the README's nginx setup sends)."""
    forwarded = (st.context.headers or {}).get("X-Forwarded-For", "")
    first = forwarded.split(",")[0].strip()
    return first or str(getattr(st.context, "ip_address", None) or "local")


def show_error(exc: ClassroomError, lang: Lang) -> None:
    st.error(exc.message(lang))


def clock_text(ts: float | None) -> str:
    return "" if ts is None or pd.isna(ts) else dt.datetime.fromtimestamp(ts).strftime("%H:%M:%S")


def weights_text(room: Room, lang: Lang) -> str:
    parts = [f"{t(f'kpi.{k}', lang)} {w:g}" for k, w in room.weights.items()]
    final = t("room.final_only_note", lang) if room.final_only else ""
    return t("room.weights", lang, weights=" · ".join(parts), final=final)


def room_line(room: Room, lang: Lang) -> str:
    return t(
        "room.round_of",
        lang,
        round=room.current_round,
        rounds=room.rounds,
        months=room.round_months,
        phase=t(f"room.phase_{room.phase}", lang),
    )


def use_room_case(room: Room) -> None:
    """Make the room's case, population size and seed the current ones on every page."""
    state.choose_case(case_store.add_case(room.case), room.customers, room.seed)


# -- student ------------------------------------------------------------------------------
def seat() -> dict | None:
    """The team this browser plays for: from the session, else from the URL (so a reload or
    a bookmark keeps it)."""
    found = st.session_state.get("room_seat")
    if found:
        return found
    code, token = st.query_params.get("room"), st.query_params.get("team")
    if code and token:
        try:
            team = store().team(code, token)
        except ClassroomError:
            return None
        found = {"code": code, "token": token, "name": team.name}
        st.session_state["room_seat"] = found
        use_room_case(store().room(code))
        return found
    return None


def join_form(lang: Lang) -> None:
    with st.form("room_join"):
        code = st.text_input(t("room.code", lang), max_chars=12, key="room_join_code")
        name = st.text_input(t("room.team_name", lang), max_chars=40, key="room_join_name")
        if st.form_submit_button(t("room.join", lang)):
            try:
                team, token = store().join(code, name, client_key())
                room = store().room(code)
            except ClassroomError as exc:
                show_error(exc, lang)
                return
            st.session_state["room_seat"] = {"code": room.code, "token": token, "name": team.name}
            st.query_params["room"], st.query_params["team"] = room.code, token
            use_room_case(room)
            st.rerun()


def leave() -> None:
    st.session_state.pop("room_seat", None)
    for key in ("room", "team"):
        st.query_params.pop(key, None)


def show_results(frame: pd.DataFrame, lang: Lang) -> None:
    """A leaderboard or results table with readable numbers (team names shown as text)."""
    table = results_table(frame, lang)
    money = {t(f"kpi.{k}", lang) for k in ("npv", "customer_equity_end", "profit")}
    config = {
        t("room.score", lang): st.column_config.NumberColumn(format="%.1f"),
        t("kpi.retention_rate", lang): st.column_config.NumberColumn(format="percent"),
        t("kpi.avg_satisfaction_end", lang): st.column_config.NumberColumn(format="%.3f"),
        **{col: st.column_config.NumberColumn(format="localized") for col in money},
    }
    st.dataframe(table, hide_index=True, column_config=config)


def results_table(frame: pd.DataFrame, lang: Lang) -> pd.DataFrame:
    return frame.rename(columns=column_names(lang))


# -- instructor ---------------------------------------------------------------------------
def create_form(lang: Lang) -> None:
    chosen, case_obj, _ = state.chosen_book(lang, caption=False)
    st.caption(
        t("room.create_help", lang)
        + " "
        + t(
            "room.case",
            lang,
            case=case_obj.title.get(lang),
            customers=f"{chosen['customers']:,}",
            seed=chosen["seed"],
        )
    )
    with st.form("room_create"):
        a, b = st.columns(2)
        rounds = a.number_input(t("room.rounds", lang), 1, 12, 4, key="room_rounds")
        months = b.number_input(t("room.round_months", lang), 1, 24, 6, key="room_months")
        cols = st.columns(len(SCORE_KPIS))
        weights = {
            k: col.number_input(
                t(f"room.w_{k}", lang), 0.0, 1.0, DEFAULT_WEIGHTS[k], 0.05, key=f"room_w_{k}"
            )
            for col, k in zip(cols, SCORE_KPIS, strict=True)
        }
        final = st.checkbox(t("room.final_only", lang), key="room_final")
        if st.form_submit_button(t("room.create", lang)):
            try:
                keys = store().create_room(
                    case_obj,
                    min(chosen["customers"], 20_000),
                    chosen["seed"],
                    int(rounds),
                    int(months),
                    weights,
                    final,
                )
            except ClassroomError as exc:
                show_error(exc, lang)
                return
            st.session_state["room_admin"] = {"code": keys.code, "passcode": keys.passcode}
            st.session_state["room_created"] = (keys.code, keys.passcode)
            st.rerun()  # show the code and passcode at the top, and the live view


def manage_form(lang: Lang) -> None:
    with st.form("room_manage"):
        code = st.text_input(t("room.code", lang), max_chars=12, key="room_admin_code")
        passcode = st.text_input(
            t("room.passcode", lang), type="password", max_chars=64, key="room_admin_pass"
        )
        if st.form_submit_button(t("room.open_room", lang)):
            try:
                room = store().check_passcode(code, passcode)
            except ClassroomError as exc:
                show_error(exc, lang)
                return
            st.session_state["room_admin"] = {"code": room.code, "passcode": passcode}


def instructor_actions(room: Room, admin: dict, lang: Lang) -> None:
    actions = {
        "open": ("lock", "reveal"),
        "locked": ("reopen", "reveal"),
        "revealed": ("advance", "end") if room.current_round < room.rounds else ("end",),
        "ended": (),
    }[room.phase]
    cols = st.columns(max(len(actions), 1))
    for col, action in zip(cols, actions, strict=False):
        if col.button(t(f"room.{action}", lang), key=f"room_do_{action}"):
            try:
                with st.spinner(t("sim.running", lang)):
                    getattr(store(), action)(admin["code"], admin["passcode"])
            except ClassroomError as exc:
                show_error(exc, lang)
            else:
                st.rerun()


def status_table(room: Room, admin: dict, lang: Lang) -> pd.DataFrame:
    status = store().status(admin["code"], admin["passcode"])
    return pd.DataFrame(
        {
            t("room.teams", lang): status["team"],
            t("room.joined_at", lang): status["joined_at"].map(clock_text),
            t("room.submitted_at", lang): status["submitted_at"].map(
                lambda v: clock_text(v) or "—"
            ),
        }
    )


def allocation_chart(room: Room, admin: dict, lang: Lang):
    alloc = store().allocations(admin["code"], admin["passcode"], room.current_round)
    if alloc.empty:
        return None
    return charts.allocation_heatmap(alloc, room.case.costs.kam_salary, lang)


def debrief_html(admin: dict, lang: Lang) -> str:
    """The room's debrief page (instructor only: the passcode is checked)."""
    room = store().check_passcode(admin["code"], admin["passcode"])
    title = f"{t('room.html_title', lang)} · {room.case.title.get(lang)} · {room.code}"
    alloc = store().allocations(admin["code"], admin["passcode"], max(room.revealed_round, 1))
    return charts.debrief_html(
        title,
        store().leaderboard(room.code),
        store().results(room.code),
        lang,
        alloc,
        room.case.costs.kam_salary,
    )
