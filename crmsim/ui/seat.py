"""The team this browser plays for: its seat, kept in the session and in the address.

The room code and the seat's token are sticky parameters (``?room=…&team=…``, see
``url_state``): every in-app link carries them, and a reload, a restart of the server or the
team's link opened on another device puts the browser back in its seat, with the room's case,
population size and seed as the app's. ``?room=`` alone (the room's own link) fills in the
join form. A seat the instructor has closed (team removed, its devices logged out) is
dropped with a message.
"""

from __future__ import annotations

import streamlit as st

from crmsim.classroom import ClassroomError, Room, StoreError
from crmsim.classroom.names import normalize_code
from crmsim.classroom.teams import Team
from crmsim.ui import case_store, state, url_state
from crmsim.ui.classroom import store

SEAT = "room_seat"


def use_room_case(room: Room) -> None:
    """Make the room's case, population size and seed the current ones on every page."""
    key = case_store.add_case(room.case)
    if state.setup() != {"case_id": key, "customers": room.customers, "seed": room.seed}:
        state.choose_case(key, room.customers, room.seed)


def plays_room_case(room: Room) -> bool:
    """Whether the pages work on the room's case, size and seed right now (a student may
    have picked another case on the home page meanwhile)."""
    key = case_store.add_case(room.case)
    return state.setup() == {"case_id": key, "customers": room.customers, "seed": room.seed}


def take_seat(room: Room, team: Team, token: str) -> None:
    """This browser plays for ``team`` from now on (session and address)."""
    st.session_state[SEAT] = {"code": room.code, "token": token, "name": team.name}
    url_state.put("room", room.code)
    url_state.put("team", token)
    use_room_case(room)


def leave() -> None:
    st.session_state.pop(SEAT, None)
    url_state.put("team", None)


def current() -> dict | None:
    """The seat, checked against the store (the instructor may have renamed the team or
    closed its seats); None when there is none or it was closed (then said once)."""
    found = st.session_state.get(SEAT)
    if not found:
        return None
    try:
        team = store().team(found["code"], found["token"])
    except StoreError:
        raise
    except ClassroomError:
        leave()
        st.session_state["room_seat_closed"] = True
        return None
    found["name"], found["pin"] = team.name, team.pin  # read once a run (``seat_card``)
    return found


def closed_message() -> bool:
    """Whether to say that this browser's seat was closed (once)."""
    return bool(st.session_state.pop("room_seat_closed", False))


def _restore_room(code: str) -> None:
    """A new session opened with ``?room=`` (and ``team=``): back to the seat, or the join
    form filled in with the room's code."""
    code = normalize_code(code)
    st.session_state["room_join_code"] = code
    st.session_state["room_admin_code"] = code
    token = st.query_params.get("team")
    if not token:
        return
    try:
        team = store().team(code, token)
        room = store().room(code)
    except StoreError:
        url_state.report_problem("room_unreachable")
        return
    except ClassroomError:
        url_state.put("team", None)
        url_state.report_problem("seat_gone")
        return
    take_seat(room, team, token)


url_state.register("room", _restore_room, order=5)  # before the case: it brings the case
url_state.register("team", order=6)
