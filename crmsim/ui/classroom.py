"""Streamlit glue shared by the classroom's views: the store, errors in the user's language,
who is acting (for rate limits), and the room's texts and tables.

The team's seat lives in ``seat``, the team's screens in ``room_team``, the instructor's
console in ``room_console``.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import threading
from contextlib import contextmanager, nullcontext

import pandas as pd
import streamlit as st

from crmsim.classroom import (
    Classroom,
    ClassroomError,
    Client,
    Room,
    StoreError,
    client_address,
    column_names,
    default_url,
)
from crmsim.i18n import Lang, t
from crmsim.ui.formatting import money, with_currency

_drawing = threading.local()  # the store a part of the page inside ``guard`` is drawn from
POLL_S = 2.0  # how often an open tab looks for a change of the room (a reveal, a deadline)


@st.cache_resource(show_spinner=False)
def _store(url: str) -> Classroom:
    return Classroom(url, warm=True)  # plays saved plans ahead of the reveal


def store() -> Classroom:
    """The classroom database shared by every session of this server (``DATABASE_URL`` or
    the SQLite file in the data folder). A failure to open it is a ``StoreError``. Inside
    ``guard`` the one it opened is given again (a team's page asks for it a dozen times)."""
    found = getattr(_drawing, "store", None)
    if found is not None:
        return found
    try:
        url = default_url()
    except OSError as exc:
        from crmsim.classroom.errors import store_error

        raise store_error(exc, "folder") from exc
    return _store(url)


@contextmanager
def guard(lang: Lang):
    """Run a part of the page that talks to the database; when the database fails (down,
    full, read-only, busy) say which in the user's language and stop, instead of a
    traceback. (Actions a user can retry catch ``ClassroomError`` themselves.) The part is
    drawn from one read of each room (``Store.one_view``)."""
    outer = getattr(_drawing, "store", None)
    try:
        try:
            _drawing.store = store()
            view = _drawing.store.one_view()
        except StoreError:  # the part meets the failure itself and it is said below
            view = nullcontext()
        with view:
            yield
    except StoreError as exc:
        st.error(exc.message(lang))
        st.stop()
    finally:
        _drawing.store = outer


def md(text: object) -> str:
    """A user's own words (a team name) inside markdown, shown as typed: every ASCII
    punctuation character markdown or HTML would read (``*``, ``[``, ``<``, …) is
    backslash-escaped, as CommonMark allows for all of them."""
    return "".join("\\" + ch if ch in MD_SPECIAL else ch for ch in str(text))


MD_SPECIAL = set("\\`*_{}[]()#+-.!|<>~$&:\"'")


def show_error(exc: ClassroomError, lang: Lang) -> None:
    st.error(exc.message(lang, escape=md))


def attempt(lang: Lang, action, *args, **kw):
    """Run one store action for a button; a refusal is shown (in ``lang``) and gives None."""
    try:
        return action(*args, **kw)
    except ClassroomError as exc:
        show_error(exc, lang)
        return None


def trusted_proxies() -> frozenset[str]:
    """Addresses of the reverse proxies in front of this server (``CRMLAB_TRUSTED_PROXIES``,
    comma-separated): only a connection from one of them may say, in ``X-Forwarded-For``,
    whom it is passing on. Empty: no proxy, the connection's own address counts."""
    raw = os.environ.get("CRMLAB_TRUSTED_PROXIES", "")
    return frozenset(p.strip() for p in raw.split(",") if p.strip())


def client() -> Client:
    """Who is acting, for the store's rate limits: this browser session, and its address —
    the connection's own, or behind a trusted proxy the one the proxy added. A header a
    client writes itself is never believed."""
    session = st.session_state.setdefault("_room_client", secrets.token_hex(8))
    trusted = trusted_proxies()
    peer = getattr(st.context, "ip_address", None)
    forwarded = (st.context.headers or {}).get("X-Forwarded-For", "") if trusted else ""
    address = client_address(peer, forwarded, trusted)
    local = address in ("127.0.0.1", "::1") and not trusted
    return Client(session=session, address="" if local else address)


# -- texts --------------------------------------------------------------------------------
def clock_text(ts: float | None) -> str:
    return "" if ts is None or pd.isna(ts) else dt.datetime.fromtimestamp(ts).strftime("%H:%M:%S")


def ago_text(ts: float | None, now: float, lang: Lang) -> str:
    """ "12 s ago", "3 min ago" (or "—" for never)."""
    if ts is None or pd.isna(ts):
        return "—"
    gone = max(0.0, now - float(ts))
    if gone < 90:
        return t("room.team.ago_s", lang, n=int(gone))
    return t("room.team.ago_min", lang, n=int(gone // 60))


def weights_text(room: Room, lang: Lang) -> str:
    parts = [f"{t(f'kpi.{k}', lang)} {w:g}" for k, w in room.weights.items()]
    final = t("room.final_only_note", lang) if room.final_only else ""
    return t("room.weights", lang, weights=" · ".join(parts), final=final)


def round_name(room: Room, round_no: int, lang: Lang) -> str:
    """ "Round 2" or "Practice round"."""
    if room.practice and round_no == 0:
        return t("room.team.practice", lang)
    return f"{t('room.round', lang)} {round_no}"


def room_line(room: Room, lang: Lang) -> str:
    line = t(
        "room.round_of",
        lang,
        round=room.current_round,
        rounds=room.rounds,
        months=room.round_months,
        phase=t(f"room.phase_{room.phase}", lang),
    )
    if room.practice_round:
        line = f"{t('room.team.practice', lang)} · {t(f'room.phase_{room.phase}', lang)}"
    return line


def deadline_html(room: Room, lang: Lang) -> str | None:
    """A countdown to the round's deadline, ticking in the browser (no reruns for it)."""
    if room.phase != "open" or room.deadline_at is None:
        return None
    label = t("room.team.closes_at", lang, time=clock_text(room.deadline_at))
    done = t("room.team.closed_now", lang)
    return f"""<div style="font-size:1.4rem;font-weight:600">⏱ {label} ·
<span class="crm-countdown" data-deadline="{room.deadline_at * 1000:.0f}"
 data-done="{done}">…</span></div>
<script>
if (!window.crmCountdown) {{
  window.crmCountdown = setInterval(() => {{
    document.querySelectorAll(".crm-countdown").forEach((el) => {{
      const left = Math.round((Number(el.dataset.deadline) - Date.now()) / 1000);
      el.textContent = left <= 0 ? el.dataset.done
        : Math.floor(left / 60) + ":" + String(left % 60).padStart(2, "0");
    }});
  }}, 500);
}}
</script>"""


def show_deadline(room: Room, lang: Lang) -> None:
    found = deadline_html(room, lang)
    if found:
        st.html(found, unsafe_allow_javascript=True)


# -- tables -------------------------------------------------------------------------------
MONEY_KPIS = ("npv", "customer_equity_end", "profit", "revenue", "service_cost")


def results_table(frame: pd.DataFrame, room: Room, lang: Lang) -> pd.DataFrame:
    """A leaderboard or results table as people read it: money in 万/K as on the other
    pages, shares in %, the round by name, headers in ``lang`` (team names stay text)."""
    shown = frame.copy()
    for col in MONEY_KPIS:
        if col in shown:
            shown[col] = [
                "—" if pd.isna(v) else with_currency(money(v, lang), room.case.currency, lang)
                for v in shown[col]
            ]
    if "retention_rate" in shown:
        shown["retention_rate"] = [f"{v:.1%}" for v in shown["retention_rate"]]
    if "avg_satisfaction_end" in shown:
        shown["avg_satisfaction_end"] = [f"{v:.3f}" for v in shown["avg_satisfaction_end"]]
    if "score" in shown:
        shown["score"] = [f"{v:.1f}" for v in shown["score"]]
    if "round" in shown:
        shown["round"] = [round_name(room, int(r), lang) for r in shown["round"]]
    return shown.rename(columns=column_names(lang))


def show_table(frame: pd.DataFrame, room: Room, lang: Lang, key: str | None = None) -> None:
    st.dataframe(results_table(frame, room, lang), hide_index=True, key=key)
