"""Classroom: teams join a room and submit a plan each round; the instructor runs the game."""

import streamlit as st

from crmsim.classroom import ClassroomError
from crmsim.i18n import t
from crmsim.ui import classroom as room_ui
from crmsim.ui import navigation, plan_grid, plan_state, segments, state

lang = navigation.bootstrap("classroom")
st.title(t("room.title", lang))
st.caption(t("room.intro", lang))
student, instructor = st.tabs([t("room.student", lang), t("room.instructor", lang)])

with student, room_ui.guard(lang):
    seat = room_ui.seat()
    if seat is None:
        room_ui.join_form(lang)
    else:
        room = room_ui.store().room(seat["code"])
        st.success(t("room.joined", lang, name=seat["name"], code=room.code))
        st.markdown(f"**{room_ui.room_line(room, lang)}**")
        st.caption(room_ui.weights_text(room, lang))
        chosen, case, pop = state.chosen_book(lang)
        if room.phase == "open":
            seg = segments.current_segmentation(case, pop)
            plan = plan_state.current_plan(case, seg, pop.n)
            st.write(t("room.your_plan", lang, method=t(f"method.{seg.method}", lang)))
            navigation.page_link("pages/plan.py", t("nav.plan", lang))
            if st.button(t("room.submit", lang, round=room.current_round), key="room_submit"):
                try:
                    room_ui.store().submit(room.code, seat["token"], plan, room.current_round)
                except ClassroomError as exc:
                    room_ui.show_error(exc, lang)
            mine = room_ui.store().my_submission(room.code, seat["token"], room.current_round)
            if mine is None:
                st.info(t("room.not_submitted", lang, round=room.current_round))
            else:
                when = room_ui.clock_text(mine.submitted_at)
                st.success(t("room.submitted", lang, round=room.current_round, time=when))
        if room.revealed_round:
            st.subheader(t("room.leaderboard", lang))
            room_ui.show_results(room_ui.store().leaderboard(room.code), lang)
            res = room_ui.store().results(room.code)
            st.subheader(t("room.my_results", lang))
            room_ui.show_results(res[res["team"] == seat["name"]], lang)
            with st.expander(t("room.others_plans", lang)):
                pick = st.selectbox(
                    t("room.round", lang), range(1, room.revealed_round + 1), key="room_plans_round"
                )
                room_segments = segments.status_quo_segmentation(
                    case, pop
                )  # every room plan uses it
                for name, other in room_ui.store().revealed_plans(room.code, pick).items():
                    st.text(name)
                    st.dataframe(plan_grid.plan_grid(other, room_segments, lang), hide_index=True)
        if st.button(t("room.leave", lang), key="room_leave"):
            room_ui.leave()
            st.rerun()

with instructor, room_ui.guard(lang):
    created = st.session_state.get("room_created")
    if created:
        st.success(t("room.created", lang, code=created[0], passcode=created[1]))
    left, right = st.columns(2)
    with left.expander(t("room.create", lang), expanded=not st.session_state.get("room_admin")):
        room_ui.create_form(lang)
    with right.expander(t("room.manage", lang)):
        room_ui.manage_form(lang)
    admin = st.session_state.get("room_admin")
    if admin:

        @st.fragment(run_every=5)
        def live_view() -> None:
            """Who joined and submitted, refreshed while the instructor watches."""
            room = room_ui.store().room(admin["code"])
            st.markdown(
                f"**{room.code} · {room.case.title.get(lang)} · {room_ui.room_line(room, lang)}**"
            )
            st.caption(t("room.live", lang))
            room_ui.instructor_actions(room, admin, lang)
            st.dataframe(room_ui.status_table(room, admin, lang), hide_index=True)
            fig = room_ui.allocation_chart(room, admin, lang)
            if fig is None:
                st.info(t("room.no_plans", lang))
            else:
                st.plotly_chart(fig, key="room_heat")
            if room.revealed_round:
                st.subheader(t("room.leaderboard", lang))
                room_ui.show_results(room_ui.store().leaderboard(room.code), lang)

        live_view()
        a, b = st.columns(2)
        a.download_button(
            t("room.download_xlsx", lang),
            lambda: room_ui.store().export_xlsx(admin["code"], admin["passcode"], lang),
            file_name=f"crmlab_{admin['code']}.xlsx",
            key="room_xlsx",
            mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            on_click="ignore",
        )
        b.download_button(
            t("room.download_html", lang),
            lambda: room_ui.debrief_html(admin, lang),
            file_name=f"crmlab_{admin['code']}.html",
            key="room_html",
            mime="text/html",
            on_click="ignore",
        )
