"""The instructor's own tools, kept in closed expanders under the projected console: the
team list (roster) with a link and PIN per team, re-seating, renaming, merging and removing
teams, locking joining and the team cap, new keys, the answer key, and the debrief files."""

from __future__ import annotations

import csv
import io

import streamlit as st

from crmsim.classroom import MAX_TEAMS, ClassroomError, Room
from crmsim.classroom.names import parse_roster
from crmsim.errors import InputError
from crmsim.i18n import Lang, t
from crmsim.ui.classroom import attempt, client, md, store
from crmsim.ui.room_console import ADMIN, KEYS_ONCE
from crmsim.ui.room_team import team_link
from crmsim.ui.uploads import show_input_error

LINKS_ONCE = "room_links_once"


def _links_csv(rows: list[dict], lang: Lang) -> bytes:
    """Team links and PINs as a CSV Excel opens with Chinese intact (UTF-8 with BOM)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([t("room.teams", lang), t("room.team.pin", lang), t("room.console.link", lang)])
    for row in rows:
        writer.writerow([row["team"], row["pin"], row["link"]])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def roster_tool(room: Room, admin: dict, lang: Lang) -> None:
    """Paste or upload the class's team list; each new label gets a link to hand out."""
    st.caption(t("room.console.roster_help", lang))
    pasted = st.text_area(t("room.console.roster_paste", lang), key="room_roster_text", height=120)
    upload = st.file_uploader(
        t("room.console.roster_upload", lang), type=["txt", "csv"], key="room_roster_file"
    )
    if st.button(t("room.console.roster_make", lang), key="room_roster_make"):
        source = t("room.console.roster_file", lang)
        try:
            labels = parse_roster(upload.getvalue() if upload else pasted, source)
        except InputError as exc:
            show_input_error(exc, lang)
            return
        links = attempt(lang, store().set_roster, room.code, admin["secret"], labels, client())
        if links is not None:
            pins = store().status(room.code, admin["secret"], client()).set_index("team")["pin"]
            st.session_state[LINKS_ONCE] = [
                {"team": name, "pin": pins.get(name, ""), "link": team_link(room.code, token)}
                for name, token in links.items()
            ]
    rows = st.session_state.get(LINKS_ONCE)
    if rows:
        st.warning(t("room.console.links_once", lang, n=len(rows)))
        st.download_button(
            t("room.console.links_download", lang),
            _links_csv(rows, lang),
            file_name=f"crmlab_{room.code}_teams.csv",
            mime="text/csv",
            key="room_links_dl",
            on_click="ignore",
        )


def team_tool(room: Room, admin: dict, lang: Lang) -> None:
    """One team at a time: a new link, a new PIN, a new name, merged into another, removed."""
    found = store().status(room.code, admin["secret"], client())
    if found.empty:
        st.caption(t("room.console.no_teams", lang))
        return
    st.dataframe(
        found[["team", "pin", "seats"]].rename(
            columns={
                "team": t("room.teams", lang),
                "pin": t("room.team.pin", lang),
                "seats": t("room.console.devices", lang),
            }
        ),
        hide_index=True,
        key="room_pins",
    )
    ids = dict(zip(found["team"], found["team_id"], strict=True))
    name = st.selectbox(t("room.console.pick_team", lang), list(ids), key="room_tool_team")
    what = st.radio(
        t("room.console.what", lang),
        ["reseat", "pin", "rename", "merge", "remove"],
        format_func=lambda k: t(f"room.console.do_{k}", lang),
        horizontal=True,
        key="room_tool_what",
    )
    extra: dict = {}
    if what == "reseat":
        extra["revoke_others"] = st.checkbox(t("room.console.revoke", lang), key="room_revoke")
    if what == "rename":
        extra["name"] = st.text_input(t("room.team_name", lang), max_chars=40, key="room_rename")
    if what == "merge":
        others = [n for n in ids if n != name]
        if not others:
            return
        extra["into"] = st.selectbox(t("room.console.merge_into", lang), others, key="room_into")
    if not st.button(t("room.console.apply", lang), key="room_tool_apply"):
        return
    code, secret, tid = room.code, admin["secret"], int(ids[name])
    if what == "reseat":
        token = attempt(
            lang, store().reseat, code, secret, tid, extra["revoke_others"], client=client()
        )
        if token:
            st.success(t("room.console.new_link", lang, name=md(name)))
            st.code(team_link(code, token), language=None)
    elif what == "pin":
        pin = attempt(lang, store().reset_pin, code, secret, tid, client=client())
        if pin:
            st.success(t("room.console.new_pin", lang, name=md(name), pin=pin))
    elif what == "rename":
        if attempt(lang, store().rename_team, code, secret, tid, extra["name"], client=client()):
            st.rerun()
    elif what == "merge":
        into = int(ids[extra["into"]])
        if attempt(lang, _merge, code, secret, tid, into):
            st.rerun()
    elif what == "remove" and attempt(lang, _remove, code, secret, tid):
        st.rerun()


def _merge(code: str, secret: str, team_id: int, into: int) -> bool:
    store().merge_teams(code, secret, team_id, into, client=client())
    return True


def _remove(code: str, secret: str, team_id: int) -> bool:
    store().remove_team(code, secret, team_id, client=client())
    return True


def joining_tool(room: Room, admin: dict, lang: Lang) -> None:
    a, b, c = st.columns(3)
    locked = a.toggle(t("room.console.lock_joining", lang), room.join_locked, key="room_jl")
    cap = b.number_input(
        t("room.console.max_teams", lang), 1, MAX_TEAMS, room.max_teams, key="room_cap_now"
    )
    if c.button(t("room.console.apply", lang), key="room_joining_apply"):
        done = attempt(
            lang,
            store().set_joining,
            room.code,
            admin["secret"],
            bool(locked),
            int(cap),
            client(),
        )
        if done is not None:
            st.rerun()


def keys_tool(room: Room, admin: dict, lang: Lang) -> None:
    st.caption(t("room.console.rotate_help", lang))
    if st.button(t("room.console.rotate", lang), key="room_rotate"):
        keys = attempt(lang, store().rotate_keys, room.code, admin["secret"], client())
        if keys is not None:
            st.session_state[ADMIN] = {"code": keys.code, "secret": keys.passcode}
            st.session_state[KEYS_ONCE] = keys._asdict()
            st.rerun()


def answer_key_tool(room: Room, admin: dict, lang: Lang) -> None:
    shown = st.toggle(t("room.console.show_key", lang), room.key_revealed, key="room_key_shown")
    if shown != room.key_revealed:
        done = attempt(lang, store().show_answer_key, room.code, admin["secret"], shown, client())
        if done is not None:
            st.rerun()
    st.caption(t("room.console.key_help", lang))


def _debrief_files(room: Room, secret: str, lang: Lang) -> tuple[bytes, bytes]:
    """The workbook and the self-contained HTML report of the room as it is now."""
    from crmsim.charts import debrief_html

    title = f"{t('room.html_title', lang)} · {room.case.title.get(lang)} · {room.code}"
    alloc = store().allocations(room.code, secret, max(room.revealed_round, 1), client())
    page = debrief_html(
        title,
        store().leaderboard(room.code),
        store().results(room.code),
        lang,
        alloc,
        room.case.costs.kam_salary,
    )
    return store().export_xlsx(room.code, secret, lang, client()), page.encode("utf-8")


def debrief_tool(room: Room, admin: dict, lang: Lang) -> None:
    """Prepare the debrief files on request (they are built from the room as it is then)."""
    if st.button(t("room.console.prepare_debrief", lang), key="room_debrief_make"):
        files = attempt(lang, _debrief_files, room, admin["secret"], lang)
        if files is not None:
            st.session_state["room_debrief"] = (room.code, *files)
    made = st.session_state.get("room_debrief")
    if not made or made[0] != room.code:
        return
    _, xlsx, page = made
    a, b = st.columns(2)
    a.download_button(
        t("room.download_xlsx", lang),
        xlsx,
        file_name=f"crmlab_{room.code}.xlsx",
        key="room_xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        on_click="ignore",
    )
    b.download_button(
        t("room.download_html", lang),
        page,
        file_name=f"crmlab_{room.code}.html",
        key="room_html",
        mime="text/html",
        on_click="ignore",
    )


def private_tools(admin: dict, lang: Lang) -> None:
    """The closed expanders under the console (not for the projector)."""
    try:
        room = store().room(admin["code"])
    except ClassroomError as exc:
        st.error(exc.message(lang))
        return
    st.caption(t("room.console.private_note", lang))
    with st.expander(t("room.console.teams_tools", lang)):
        team_tool(room, admin, lang)
        st.divider()
        joining_tool(room, admin, lang)
    with st.expander(t("room.console.roster", lang)):
        roster_tool(room, admin, lang)
    with st.expander(t("room.console.keys", lang)):
        keys_tool(room, admin, lang)
    with st.expander(t("room.console.answer_key", lang)):
        answer_key_tool(room, admin, lang)
    with st.expander(t("room.console.debrief", lang)):
        debrief_tool(room, admin, lang)
    if st.button(t("room.console.sign_out", lang), key="room_sign_out"):
        st.session_state.pop(ADMIN, None)
        st.rerun()
