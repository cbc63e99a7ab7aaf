"""The instructor's console, fit for a projector.

What the class may see stays on the screen: the room code and its link, the round and its
countdown, a monitor of every team (joined, editing, submitted, last seen), the heat-map of
the round's plans and the leaderboard, refreshed every few seconds. What only the instructor
may see never is: the passcode and the instructor link are shown once, in a dialog that is
closed before projecting (and can be replaced by new ones later); PINs, team links and the
team tools sit in closed expanders. The instructor link (``?room=…&admin=…``) opens the
console on any device; its token is taken out of the address at once.
"""

from __future__ import annotations

import time

import pandas as pd
import streamlit as st

from crmsim import charts
from crmsim.classroom import DEFAULT_MAX_TEAMS, MAX_TEAMS, SCORE_KPIS, ClassroomError, Room
from crmsim.classroom.scoring import DEFAULT_WEIGHTS
from crmsim.i18n import Lang, t
from crmsim.ui import state
from crmsim.ui.classroom import (
    ago_text,
    attempt,
    client,
    clock_text,
    room_line,
    show_deadline,
    show_error,
    show_table,
    store,
    weights_text,
)

ADMIN = "room_admin"
KEYS_ONCE = "room_keys_once"
CONSOLE_POLL_S = 3.0


def signed_in() -> dict | None:
    """The room this session runs as its instructor (``{"code", "secret"}``)."""
    return st.session_state.get(ADMIN)


def sign_in_from_link(lang: Lang) -> None:
    """``?room=…&admin=…`` (the instructor link): open the console and take the token out
    of the address, so it is never on a projected screen."""
    token = st.query_params.get("admin")
    if not token:
        return
    st.query_params.pop("admin", None)
    code = st.query_params.get("room", "")
    room = attempt(lang, store().check_passcode, code, token, client())
    if room is not None:
        st.session_state[ADMIN] = {"code": room.code, "secret": token}


def admin_link(code: str, token: str) -> str:
    base = (st.context.url or "classroom").split("?")[0]
    return f"{base}?room={code}&admin={token}"


def room_link(code: str) -> str:
    base = (st.context.url or "classroom").split("?")[0]
    return f"{base}?room={code}"


@st.dialog(" ", width="large")
def _keys_dialog(lang: Lang) -> None:
    """The passcode and instructor link, once: written down, then closed before projecting."""
    keys = st.session_state.get(KEYS_ONCE)
    if not keys:
        return
    st.markdown(f"### {t('room.console.keys_title', lang)}")
    st.warning(t("room.console.keys_private", lang))
    st.markdown(f"**{t('room.passcode', lang)}**")
    st.code(keys["passcode"], language=None)
    st.markdown(f"**{t('room.console.admin_link', lang)}**")
    st.code(admin_link(keys["code"], keys["link"]), language=None)
    st.caption(t("room.console.keys_help", lang))
    if st.button(t("room.console.keys_done", lang), key="room_keys_done", type="primary"):
        st.session_state.pop(KEYS_ONCE, None)
        st.rerun()


def show_keys_once(lang: Lang) -> None:
    if st.session_state.get(KEYS_ONCE):
        _keys_dialog(lang)


# -- signing in -----------------------------------------------------------------------------
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
        a, b, c = st.columns(3)
        rounds = a.number_input(t("room.rounds", lang), 1, 12, 4, key="room_rounds")
        months = b.number_input(t("room.round_months", lang), 1, 24, 6, key="room_months")
        cap = c.number_input(
            t("room.console.max_teams", lang), 1, MAX_TEAMS, DEFAULT_MAX_TEAMS, key="room_cap"
        )
        cols = st.columns(len(SCORE_KPIS))
        weights = {
            k: col.number_input(
                t(f"room.w_{k}", lang), 0.0, 1.0, DEFAULT_WEIGHTS[k], 0.05, key=f"room_w_{k}"
            )
            for col, k in zip(cols, SCORE_KPIS, strict=True)
        }
        final = st.checkbox(t("room.final_only", lang), key="room_final")
        practice = st.checkbox(t("room.console.practice", lang), key="room_practice")
        if st.form_submit_button(t("room.create", lang)):
            keys = attempt(
                lang,
                store().create_room,
                case_obj,
                min(chosen["customers"], 20_000),
                chosen["seed"],
                int(rounds),
                int(months),
                weights,
                final,
                practice,
                int(cap),
            )
            if keys is not None:
                st.session_state[ADMIN] = {"code": keys.code, "secret": keys.passcode}
                st.session_state[KEYS_ONCE] = keys._asdict()
                st.rerun()


def manage_form(lang: Lang) -> None:
    with st.form("room_manage"):
        code = st.text_input(t("room.code", lang), max_chars=12, key="room_admin_code")
        secret = st.text_input(
            t("room.console.passcode_or_link", lang),
            type="password",
            max_chars=200,
            key="room_admin_pass",
        )
        if st.form_submit_button(t("room.open_room", lang)):
            secret = secret.strip().split("admin=")[-1]  # a pasted instructor link works too
            room = attempt(lang, store().check_passcode, code, secret, client())
            if room is not None:
                st.session_state[ADMIN] = {"code": room.code, "secret": secret}
                st.rerun()


# -- the projected part -------------------------------------------------------------------------
def header(room: Room, lang: Lang) -> None:
    left, right = st.columns([1, 2])
    left.markdown(
        f"<div style='font-size:0.9rem;color:#666'>{t('room.code', lang)}</div>"
        f"<div style='font-size:3.2rem;font-weight:700;letter-spacing:0.15em'>{room.code}</div>",
        unsafe_allow_html=True,
    )
    right.markdown(f"**{room.case.title.get(lang)}** · {room_line(room, lang)}")
    right.caption(t("room.console.join_at", lang))
    right.code(room_link(room.code), language=None)
    show_deadline(room, lang)


def status_frame(m: pd.DataFrame, lang: Lang, now: float) -> pd.DataFrame:
    """The monitor (``Classroom.status``) as the class reads it: one row per team, in words."""

    def state_of(row) -> str:
        if row.state == "reserved":
            return t("room.console.st_reserved", lang)
        submitted = not pd.isna(row.submitted_at)
        editing = row.editing_at is not None and not pd.isna(row.editing_at)
        if submitted and editing and row.editing_at > row.submitted_at:
            return t("room.console.st_changed", lang)
        if submitted:
            return t("room.console.st_submitted", lang, version=int(row.version))
        if editing:
            return t("room.console.st_editing", lang)
        return t("room.console.st_joined", lang)

    return pd.DataFrame(
        {
            t("room.teams", lang): m["team"],
            t("room.console.status", lang): [state_of(r) for r in m.itertuples()],
            t("room.submitted_at", lang): [clock_text(v) or "—" for v in m["submitted_at"]],
            t("room.console.last_seen", lang): [ago_text(v, now, lang) for v in m["last_seen"]],
            t("room.console.devices", lang): m["seats"],
        }
    )


def _act(code: str, secret: str, action: str, round_no: int, **kw) -> None:
    """A round button's callback: the action on the round the button was drawn with (a
    compare-and-set in the store); a refusal is kept to be shown on the next draw."""
    if kw.pop("ask", False) and st.session_state.get("room_confirm_reveal") != round_no:
        try:  # teams without a plan now (the screen may be a few seconds old)
            found = store().status(code, secret, client())
        except ClassroomError as exc:
            st.session_state["room_console_said"] = exc
            return
        playing = found[found["state"] == "active"]
        if playing["submitted_at"].isna().any():
            st.session_state["room_confirm_reveal"] = round_no  # ask first
            st.session_state["room_missing"] = int(playing["submitted_at"].isna().sum())
            return
    if action == "set_deadline" and kw.get("seconds") == "minutes":
        kw["seconds"] = float(st.session_state.get("room_deadline_minutes", 10)) * 60
    try:
        fn = getattr(store(), action)
        if action == "end":
            fn(code, secret, client=client())
        else:
            fn(code, secret, round_no, client=client(), **kw)
    except ClassroomError as exc:
        st.session_state["room_console_said"] = exc
    st.session_state.pop("room_confirm_reveal", None)


def _button(where, label: str, key: str, room: Room, admin: dict, action: str, **kw) -> None:
    where.button(
        label,
        key=key,
        type="primary" if action in ("reveal", "advance") else "secondary",
        on_click=_act,
        args=(room.code, admin["secret"], action, room.current_round),
        kwargs=kw,
    )


def actions(room: Room, admin: dict, missing: int, lang: Lang) -> None:
    """The buttons of the round's phase; each carries the round this screen shows."""
    said = st.session_state.pop("room_console_said", None)
    if said is not None:
        show_error(said, lang)
    phase = room.phase
    if phase == "ended":
        return
    cols = st.columns(4)
    if phase == "open":
        _button(cols[0], t("room.lock", lang), "room_do_lock", room, admin, "lock")
    if phase == "locked":
        _button(cols[0], t("room.reopen", lang), "room_do_reopen", room, admin, "reopen")
    if phase in ("open", "locked"):
        _button(
            cols[1],
            t("room.reveal", lang),
            "room_do_reveal",
            room,
            admin,
            "reveal",
            ask=True,  # teams without a plan: ask first
        )
        if st.session_state.get("room_confirm_reveal") == room.current_round:
            n = st.session_state.get("room_missing", missing)
            st.warning(t("room.console.missing", lang, n=n))
            a, b = st.columns(2)
            _button(
                a,
                t("room.console.reveal_anyway", lang),
                "room_do_reveal_anyway",
                room,
                admin,
                "reveal",
            )
            if b.button(t("room.console.cancel", lang), key="room_cancel_reveal"):
                st.session_state.pop("room_confirm_reveal", None)
    if phase == "revealed":
        if room.current_round < room.rounds:
            label = t("room.console.next_round", lang, round=room.current_round + 1)
            _button(cols[0], label, "room_do_advance", room, admin, "advance")
        _button(cols[1], t("room.end", lang), "room_do_end", room, admin, "end")
    if phase == "open":
        cols[2].number_input(
            t("room.console.minutes", lang), 1, 120, 10, key="room_deadline_minutes"
        )
        label = "room.console.restart_countdown" if room.deadline_at else "room.console.countdown"
        _button(
            cols[3],
            t(label, lang),
            "room_do_deadline",
            room,
            admin,
            "set_deadline",
            seconds="minutes",
        )
        if room.deadline_at:
            _button(
                cols[3],
                t("room.console.no_deadline", lang),
                "room_no_deadline",
                room,
                admin,
                "set_deadline",
                seconds=None,
            )


@st.fragment(run_every=CONSOLE_POLL_S)
def live_view(admin: dict, lang: Lang) -> None:
    """The projected console, refreshed every few seconds."""
    try:
        room = store().close_if_due(admin["code"])
        now = time.time()
        header(room, lang)
        found = store().status(room.code, admin["secret"], client())
        playing = found[found["state"] == "active"]
        submitted = int(playing["submitted_at"].notna().sum())
        missing = len(playing) - submitted
        st.markdown(
            t("room.console.count", lang, done=submitted, teams=len(playing))
            + " · "
            + weights_text(room, lang)
        )
        actions(room, admin, missing, lang)
        if found.empty:  # not an empty table with Streamlit's own (English) placeholder
            st.caption(t("room.console.no_teams", lang))
        else:
            st.dataframe(status_frame(found, lang, now), hide_index=True, key="room_monitor")
        alloc = store().allocations(room.code, admin["secret"], room.current_round, client())
        if alloc.empty:
            st.info(t("room.no_plans", lang))
        else:
            fig = charts.allocation_heatmap(alloc, room.case.costs.kam_salary, lang)
            st.plotly_chart(fig, key="room_heat", config={"displayModeBar": False})
        board = store().leaderboard(room.code)
        if not board.empty:
            st.subheader(t("room.leaderboard", lang))
            show_table(board, room, lang, key="room_console_board")
    except ClassroomError as exc:
        show_error(exc, lang)
        if exc.key == "bad_passcode":  # the keys were replaced in another session
            st.session_state.pop(ADMIN, None)
