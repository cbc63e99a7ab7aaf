"""A team's screens in the classroom: joining, its seat, the round it is playing, submitting
exactly the plan on screen, and its own results.

Every open tab runs a small fragment that looks at the room every ``POLL_S`` seconds (give or
take 15 %, so that a class's tabs do not poll in step) and draws nothing: when the room moved
on (a reveal, a new round, a deadline), the whole page is drawn again, so the news reaches
every open tab within a few seconds without a reload; the rest of the time a tab costs the
server one cached read. It also tells the store the tab is still there (and whether its plan
differs from the saved one), at most every ``SEEN_EVERY_S`` seconds. (Redrawing the round
panel itself every 2 s in 60 tabs saturated a 2-core server: a reveal did not reach 60 tabs
within 2 minutes.)
A submit names the round and the plan version the tab showed, so a tab that fell behind is
told "not saved" and why, never saves into a round it did not see.
"""

from __future__ import annotations

import random
import time

import streamlit as st

from crmsim.classroom import ClassroomError, Room
from crmsim.classroom.scoring import book_forecast, room_segments
from crmsim.classroom.store import SEEN_EVERY_S
from crmsim.i18n import Lang, t
from crmsim.plans import Plan, check_plan
from crmsim.ui import navigation, plan_grid, seat
from crmsim.ui.classroom import (
    POLL_S,
    attempt,
    client,
    clock_text,
    md,
    room_line,
    show_deadline,
    show_error,
    store,
)
from crmsim.ui.formatting import money, with_currency
from crmsim.ui.problems import over_budget_text, plan_problem


# -- joining ------------------------------------------------------------------------------
def join_panel(lang: Lang) -> None:
    """Join a room as a new team (a name, or a label from the instructor's list), or come
    back to a team's seat with its name and PIN."""
    if seat.closed_message():
        st.warning(t("room.team.seat_closed", lang))
    code = st.text_input(t("room.code", lang), max_chars=12, key="room_join_code")
    if not code.strip():
        st.caption(t("room.team.enter_code", lang))
        return
    try:
        room = store().find_room(code, client())
    except ClassroomError as exc:
        if exc.key == "room_not_found" or exc.key == "slow_down":
            show_error(exc, lang)
            return
        raise
    new, back = st.tabs([t("room.team.new_team", lang), t("room.team.rejoin", lang)])
    with new:
        if room.roster:
            _pick_label(room, lang)
        else:
            with st.form("room_join"):
                name = st.text_input(t("room.team_name", lang), max_chars=40, key="room_join_name")
                if st.form_submit_button(t("room.join", lang)):
                    joined = attempt(lang, store().join, room.code, name, client())
                    if joined:
                        _seated(room, *joined)
    with back, st.form("room_rejoin"):
        st.caption(t("room.team.rejoin_help", lang))
        name = st.text_input(t("room.team_name", lang), max_chars=40, key="room_rejoin_name")
        pin = st.text_input(t("room.team.pin", lang), max_chars=12, key="room_rejoin_pin")
        if st.form_submit_button(t("room.team.rejoin_button", lang)):
            joined = attempt(lang, store().rejoin, room.code, name, pin, client())
            if joined:
                _seated(room, *joined)


def _pick_label(room: Room, lang: Lang) -> None:
    labels = store().roster_labels(room.code)
    free = [name for name, taken in labels if not taken]
    if not free:
        st.info(t("room.team.roster_all_taken", lang))
        return
    with st.form("room_claim"):
        label = st.selectbox(t("room.team.pick_label", lang), free, key="room_claim_label")
        if st.form_submit_button(t("room.join", lang)):
            joined = attempt(lang, store().claim, room.code, label, client())
            if joined:
                _seated(room, *joined)


def _seated(room: Room, team, token: str) -> None:
    seat.take_seat(room, team, token)
    st.session_state["room_new_pin"] = team.pin
    st.rerun()


def seat_card(found: dict, room: Room, lang: Lang) -> None:
    """Who this browser plays for, and how teammates and other devices get to the seat."""
    st.success(t("room.joined", lang, name=md(found["name"]), code=room.code))
    pin = st.session_state.pop("room_new_pin", None)
    with st.expander(t("room.team.seat_details", lang), expanded=bool(pin)):
        st.markdown(t("room.team.pin_is", lang, pin=found.get("pin", ""), name=md(found["name"])))
        st.caption(t("room.team.link_help", lang))
        st.code(team_link(room.code, found["token"]), language=None)


def team_link(code: str, token: str) -> str:
    base = st.context.url or "classroom"
    return f"{base.split('?')[0]}?room={code}&team={token}"


# -- the round ----------------------------------------------------------------------------
def room_plan(room: Room) -> tuple[Plan, object, list]:
    """The plan this browser would submit (the one kept for the Service plan page, on the
    room's segments), the segmentation, and what the shared plan check finds wrong."""
    from crmsim.ui import plan_state

    seg = room_segments(room.case_json, room.customers, room.seed)
    plan = plan_state.current_plan(room.case, seg, room.customers)
    return plan, seg, room_issues(room, plan)


def room_issues(room: Room, plan: Plan) -> list:
    """What the shared plan check finds wrong with ``plan`` in this room (the budget prices
    rewards and discounts on the room's own book, as the store does when it is submitted)."""
    names, spend = book_forecast(room.case_json, room.customers, room.seed)
    return check_plan(plan, names, room.case, spend)


def room_spending(room: Room, plan: Plan) -> float:
    _, spend = book_forecast(room.case_json, room.customers, room.seed)
    return plan_grid.plan_total(plan, room.case, spend)


def _issues_text(plan: Plan, issues: list, room: Room, lang: Lang) -> str:
    """What is wrong with a plan, in the Service plan page's terms."""
    lines = []
    for issue in issues:
        if issue.key == "over_budget":
            total = room_spending(room, plan)
            lines.append(over_budget_text(total, room.case.budget, room.case.currency, lang))
        else:
            lines.append(plan_problem(issue, lang))
    return "\n".join(f"- {line}" for line in lines)


def _submit(code: str, token: str, plan_json: str, round_no: int, version: int, where: str):
    """The Submit button's callback, with the round and version the button was drawn with."""
    try:
        saved = store().submit(code, token, Plan.model_validate_json(plan_json), round_no, version)
    except ClassroomError as exc:
        st.session_state[f"room_said_{where}"] = ("error", exc)
    else:
        st.session_state[f"room_said_{where}"] = ("saved", round_no, saved)


def submit_box(found: dict, room: Room, plan: Plan, issues: list, lang: Lang, where: str) -> None:
    """The round's status and the Submit button for exactly ``plan`` (the grid on screen).
    An invalid plan cannot be submitted and says why; a click carries the round and the
    plan version this tab showed, so a stale tab's click is refused with the reason."""
    said = st.session_state.pop(f"room_said_{where}", None)
    if said and said[0] == "error":
        st.error(t("room.team.not_saved", lang) + " " + said[1].message(lang, escape=md))
    elif said:
        st.toast(t("room.team.saved_now", lang, version=said[2], round=said[1]))
    mine = store().my_submission(room.code, found["token"], room.current_round)
    same = mine is not None and mine.plan.model_dump() == plan.model_dump()
    if mine is None:
        st.info(t("room.not_submitted", lang, round=room.current_round))
    else:
        key = "room.team.saved_same" if same else "room.team.saved_other"
        st.success(t(key, lang, version=mine.version, time=clock_text(mine.submitted_at)))
    st.session_state["room_editing"] = not same
    _beat(found)
    if not room.accepting(time.time()):
        return
    if issues:
        st.error(t("room.team.cannot_submit", lang) + "\n" + _issues_text(plan, issues, room, lang))
    st.button(
        t("room.submit", lang, round=room.current_round),
        key=f"room_submit_{where}",
        type="primary",
        disabled=bool(issues),
        on_click=_submit,
        args=(
            room.code,
            found["token"],
            plan.model_dump_json(),
            room.current_round,
            mine.version if mine else 0,
            where,
        ),
    )


def round_header(room: Room, lang: Lang) -> None:
    st.markdown(f"**{room_line(room, lang)}**")
    show_deadline(room, lang)
    if room.phase == "open" and not room.accepting(time.time()):
        st.warning(t("room.team.deadline_passed", lang))


def follow_room(room: Room) -> None:
    """Rerun the whole page when the room moved on since this page was drawn (a reveal, a
    new round, a deadline): what every open tab does within ``POLL_S`` seconds. Only from
    a fragment's own run: in a whole page's run the page is being drawn anew anyway."""
    drawn = st.session_state.get("room_drawn_version")
    if drawn is not None and drawn != room.version and _in_fragment_run():
        st.rerun(scope="app")


def catch_up(room: Room) -> None:
    """Draw the page again at once when the room moved on while this page was being drawn
    (on a busy server a reveal can land mid-draw): else the tab would show the old state
    until its next poll, ``POLL_S`` later. Call it last: one indexed read."""
    if store().room_version(room.code) != room.version:
        st.rerun()


def _in_fragment_run() -> bool:
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return bool(ctx and ctx.fragment_ids_this_run)


def mark_drawn(room: Room) -> None:
    st.session_state["room_drawn_version"] = room.version


def _beat(found: dict) -> None:
    """Tell the store this tab is open (and editing or not), at most every ``SEEN_EVERY_S``
    seconds or when editing changed: no read or write at all in between."""
    editing = st.session_state.get("room_editing")
    now = time.time()
    last = st.session_state.get("room_beat")
    if last and now - last[0] < SEEN_EVERY_S and last[1] == editing:
        return
    st.session_state["room_beat"] = (now, editing)
    store().heartbeat(found["code"], found["token"], editing=editing)


def watch_room(found: dict) -> None:
    """Every ``POLL_S`` seconds or so (``poll_every``): redraw the whole page when the room
    moved on; draws nothing itself. Call it after ``mark_drawn`` (else a page would redraw
    itself forever). A store error is left to the page's next full run to tell."""
    st.fragment(_watch, run_every=poll_every())(found)


def poll_every() -> float:
    """This tab's poll interval: ``POLL_S`` give or take 15 %, drawn once per session. The
    browser restarts a tab's poll when its page is drawn. Tabs drawn at the same moment (a
    class told to open the link, every tab after the instructor advances) would poll in
    step for as long as they stay open, and the next reveal would reach them all at one
    instant: 60 page draws queued at once instead of arriving over the interval. With
    rhythms of their own they drift apart within a few polls."""
    every = st.session_state.get("room_poll_every")
    if every is None:
        every = round(POLL_S * random.uniform(0.85, 1.15), 2)
        st.session_state["room_poll_every"] = every
    return every


def _watch(found: dict) -> None:
    try:
        room = store().close_if_due(found["code"])
        follow_room(room)
        _beat(found)
    except ClassroomError:
        return


@st.fragment
def round_panel(found: dict, lang: Lang) -> None:
    """The round's status and Submit on the classroom page (kept current by
    ``watch_room``). A fragment: a click on Submit redraws this panel only, not the
    results, charts and leaderboard below it (40 teams submitting within 2 s each redrew
    the whole page); when the room has moved on meanwhile, the whole page is drawn."""
    room = store().close_if_due(found["code"])
    follow_room(room)
    round_header(room, lang)
    if room.phase == "ended":
        st.info(t("room.team.game_over", lang))
        return
    if room.phase != "open":
        key = (
            "room.team.next_round_soon" if room.phase == "revealed" else "room.team.wait_for_reveal"
        )
        st.info(t(key, lang))
        return
    if not seat.plays_room_case(room):
        st.warning(t("room.team.other_case", lang, case=room.case.title.get(lang)))
        if st.button(t("room.team.back_to_room_case", lang), key="room_back_case"):
            seat.use_room_case(room)
            st.rerun(scope="app")
        return
    plan, seg, issues = room_plan(room)
    st.markdown(t("room.team.your_plan", lang))
    st.dataframe(
        plan_grid.plan_grid(plan, seg, lang),
        hide_index=True,
        column_config=plan_grid.plan_grid_config(room.case, lang),
        key="room_plan_grid",
    )
    navigation.page_link("pages/plan.py", t("room.team.edit_plan", lang))
    spent = room_spending(room, plan)
    st.caption(
        t(
            "room.team.spending",
            lang,
            total=with_currency(money(spent, lang), room.case.currency, lang),
            budget=with_currency(money(room.case.budget, lang), room.case.currency, lang),
        )
    )
    draft = st.session_state.get("room_draft")
    if draft and draft != plan.model_dump_json():
        st.warning(t("room.team.draft_not_kept", lang))
    submit_box(found, room, plan, issues, lang, "room")


def plan_page_panel(plan: Plan, lang: Lang) -> None:
    """On the Service plan page, for a browser with a seat: submit exactly the grid above to
    the room's open round. (Called by the page after the grid is read.)"""
    found = st.session_state.get(seat.SEAT)
    if not found:
        return
    st.session_state["room_draft"] = plan.model_dump_json()
    try:
        mark_drawn(store().close_if_due(found["code"]))
    except ClassroomError as exc:
        show_error(exc, lang)
        return
    watch_room(found)  # after the page marked the version it draws
    _plan_page_box(found, plan, lang)


@st.fragment
def _plan_page_box(found: dict, plan: Plan, lang: Lang) -> None:
    """A fragment, as on the classroom page: Submit redraws the box only (``plan`` is the
    grid of the page's last run: every edit of the grid runs the whole page)."""
    try:
        room = store().close_if_due(found["code"])
        follow_room(room)
    except ClassroomError as exc:
        show_error(exc, lang)
        return
    with st.container(border=True):
        st.markdown(f"**{t('room.team.on_plan_page', lang, code=room.code)}**")
        round_header(room, lang)
        if room.phase != "open":
            return
        if not seat.plays_room_case(room):
            st.warning(t("room.team.other_case", lang, case=room.case.title.get(lang)))
            return
        submit_box(found, room, plan, room_issues(room, plan), lang, "plan")
