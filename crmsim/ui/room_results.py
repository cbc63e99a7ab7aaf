"""What a team sees once a round is revealed: its own KPIs (money in 万/K as on the other
pages) against the status quo, its rank, the charts of its own run, its gap to the answer
key once the instructor shows it, the leaderboard and the other teams' plans."""

from __future__ import annotations

import pyarrow as pa
import streamlit as st

from crmsim import charts
from crmsim.classroom import Room
from crmsim.classroom.scoring import room_segments, status_quo_run
from crmsim.i18n import Lang, t
from crmsim.ui import plan_grid
from crmsim.ui.classroom import results_table, round_name, store
from crmsim.ui.formatting import money, with_currency


def _kpi_cards(mine: dict, base: dict, room: Room, lang: Lang) -> None:
    k = mine["kpis"]
    cur = room.case.currency
    cards = (
        (t("room.score", lang), f"{mine['score']:.1f}", f"{mine['score'] - 100:+.1f}"),
        (
            t("kpi.npv", lang),
            with_currency(money(k["npv"], lang), cur, lang),
            money(k["npv"] - base["npv"], lang, signed=True),
        ),
        (
            t("kpi.customer_equity_end", lang),
            with_currency(money(k["customer_equity_end"], lang), cur, lang),
            money(k["customer_equity_end"] - base["customer_equity_end"], lang, signed=True),
        ),
        (
            t("kpi.retention_rate", lang),
            f"{k['retention_rate']:.1%}",
            t("cmp.pp", lang, v=f"{(k['retention_rate'] - base['retention_rate']) * 100:+.1f}"),
        ),
        (
            t("kpi.avg_satisfaction_end", lang),
            f"{k['avg_satisfaction_end']:.3f}",
            f"{k['avg_satisfaction_end'] - base['avg_satisfaction_end']:+.3f}",
        ),
        (
            t("kpi.profit", lang),
            with_currency(money(k["profit"], lang), cur, lang),
            money(k["profit"] - base["profit"], lang, signed=True),
        ),
    )
    # Three columns of two cards each: the same two rows of three on screen, with 4 fewer
    # elements to send than two rows of columns (every open tab draws them after a reveal).
    for col, pair in zip(st.columns(3), (cards[0::3], cards[1::3], cards[2::3]), strict=True):
        for label, value, delta in pair:
            same = not any(ch in "123456789" for ch in delta)  # "+0.000": no change, no arrow
            col.metric(
                label,
                value,
                delta,
                delta_color="off" if same else "normal",
                delta_arrow="off" if same else "auto",
            )
    st.caption(t("room.team.vs_status_quo", lang))


def _answer_key(room: Room, mine: dict, lang: Lang) -> None:
    if not room.key_revealed or mine["round"] < 1:
        return
    key = store().answer_key(room.code, mine["round"])
    if key is None:
        st.info(t("room.team.no_answer_key", lang))
        return
    gap = key["score"] - mine["score"]
    st.metric(t("room.team.answer_key", lang), f"{key['score']:.1f}", f"{-gap:+.1f}")
    st.caption(t("room.team.answer_key_help", lang, gap=f"{gap:.1f}"))


def team_results(found: dict, room: Room, lang: Lang) -> None:
    """The team's own published rounds, newest first in the cards, and the whole game."""
    rounds = store().team_results(room.code, found["token"])
    if not rounds:
        return
    mine = rounds[-1]
    st.subheader(t("room.team.results_of", lang, round=round_name(room, mine["round"], lang)))
    base, base_series = status_quo_run(room, mine["round"])
    _kpi_cards(mine, base, room, lang)
    ranks = store().ranks(room.code)
    if mine["round"] >= 1 and found["name"] in ranks:
        st.markdown(t("room.team.rank", lang, rank=ranks[found["name"]], teams=len(ranks)))
    _answer_key(room, mine, lang)
    if mine["round"] >= 1:  # rounds without a plan of their own kept the last one
        played = mine.get("played") or []
        carried = [i for i, (source, _) in enumerate(played, start=1) if source != i]
        if carried:
            st.caption(t("room.team.carried", lang, rounds=", ".join(map(str, carried))))
    if mine.get("series"):
        st.plotly_chart(
            _run_chart(
                room.code, room.version, found["name"], lang, mine["series"], base_series, room
            ),
            key="room_team_run",
            config={"displayModeBar": False},
        )


# A room's charts are drawn once per room version (every change anyone should see bumps it)
# and language, then shared by every session of this process: a team's reload, its other
# devices and the Submit clicks of the next round draw the same figure. Streamlit turns a
# figure into its JSON without changing it.
@st.cache_resource(max_entries=400, show_spinner=False)
def _run_chart(
    code: str, version: int, team: str, lang: Lang, _series: dict, _base: dict, _room: Room
):
    """A team's own run (``charts.team_run``), by room, version, team and language."""
    return charts.team_run(_series, lang, _base, _room.case.currency)


@st.cache_resource(max_entries=64, show_spinner=False)
def _board_table(code: str, version: int, lang: Lang, _board, _room: Room) -> pa.Table:
    """The leaderboard as people read it (``results_table``), by room, version, language;
    as an Arrow table, which is what Streamlit sends (made once, not once per tab)."""
    return pa.Table.from_pandas(results_table(_board, _room, lang), preserve_index=False)


@st.cache_resource(max_entries=400, show_spinner=False)
def _scores_chart(code: str, version: int, team: str | None, lang: Lang, _results):
    """Every team's score by round, ``team``'s drawn bold (``charts.round_scores``)."""
    return charts.round_scores(_results, lang, team)


def class_results(found: dict | None, room: Room, lang: Lang) -> None:
    """The leaderboard, and every team's score by round (in an expander)."""
    board = store().leaderboard(room.code)
    if board.empty:
        return
    st.subheader(t("room.leaderboard", lang))
    if room.final_only:
        st.caption(t("room.final_only_note", lang).strip("；; "))
    st.dataframe(
        _board_table(room.code, room.version, lang, board, room), hide_index=True, key="room_board"
    )
    res = store().results(room.code)
    res = res[res["round"] >= 1]
    if res["round"].nunique() < 2:
        return
    box = st.expander(t("room.html_scores", lang), key="room_scores_open", on_change="rerun")
    if box.open:  # drawn only when opened: after a reveal every open tab draws its page
        name = found["name"] if found else None
        box.plotly_chart(
            _scores_chart(room.code, room.version, name, lang, res),
            key="room_scores",
            config={"displayModeBar": False},
        )


def others_plans(room: Room, lang: Lang) -> None:
    """Any team's plan of a revealed round (one at a time: a class has many teams)."""
    revealed = [r for r in range(0 if room.practice else 1, room.revealed_round + 1)]
    if room.phase in ("open", "locked") and room.current_round in revealed:
        revealed.remove(room.current_round)
    if not revealed:
        return
    box = st.expander(t("room.others_plans", lang), key="room_plans_open", on_change="rerun")
    if not box.open:  # drawn only when opened (a class has many teams)
        return
    with box:
        a, b = st.columns(2)
        pick = a.selectbox(
            t("room.round", lang),
            revealed[::-1],
            format_func=lambda r: round_name(room, r, lang),
            key="room_plans_round",
        )
        found = store().revealed_plans(room.code, pick)
        if not found:
            st.caption(t("room.no_plans", lang))
            return
        name = b.selectbox(t("room.teams", lang), list(found), key="room_plans_team")
        seg = room_segments(room.case_json, room.customers, room.seed)
        st.dataframe(plan_grid.plan_grid(found[name], seg, lang), hide_index=True)
