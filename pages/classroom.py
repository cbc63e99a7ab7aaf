"""Classroom: teams join a room and play its rounds; the instructor runs the game from a
console fit for a projector."""

import streamlit as st

from crmsim.i18n import t
from crmsim.ui import navigation, room_console, room_results, room_team, room_tools, seat
from crmsim.ui.classroom import guard, store, weights_text

lang = navigation.bootstrap("classroom")
st.title(t("room.title", lang))
with guard(lang):
    room_console.sign_in_from_link(lang)
labels = [t("room.student", lang), t("room.instructor", lang)]
student, instructor = st.tabs(
    labels,
    default=labels[1] if room_console.signed_in() else labels[0],
    key=f"room_tab_{lang}",
    on_change="rerun",  # only the open tab is drawn
)

if student.open:
    with student, guard(lang):
        found = seat.current()
        if found is None:
            st.caption(t("room.intro", lang))
            room_team.join_panel(lang)
        else:
            room = store().room(found["code"])
            room_team.mark_drawn(room)
            room_team.watch_room(found)  # after the version this page draws is marked
            room_team.seat_card(found, room, lang)
            st.caption(weights_text(room, lang))
            room_team.round_panel(found, lang)
            room_results.team_results(found, room, lang)
            room_results.class_results(found, room, lang)
            room_results.others_plans(room, lang)
            if st.button(t("room.leave", lang), key="room_leave"):
                seat.leave()
                st.rerun()
            room_team.catch_up(room)

if instructor.open:
    with instructor, guard(lang):
        room_console.show_keys_once(lang)
        admin = room_console.signed_in()
        if admin is None:
            left, right = st.columns(2)
            with left.expander(t("room.create", lang), expanded=True):
                room_console.create_form(lang)
            with right.expander(t("room.manage", lang), expanded=True):
                room_console.manage_form(lang)
        else:
            room_console.live_view(admin, lang)
            room_tools.private_tools(admin, lang)
            with st.expander(t("room.create", lang)):
                room_console.create_form(lang)
