"""What the store shows, as reads on an open connection: plans, the instructor's monitor,
published results and the leaderboard. Who may see what is decided by the store."""

from __future__ import annotations

import json

import pandas as pd
import sqlalchemy as sa

from crmsim.classroom.schema import plans, results, teams
from crmsim.classroom.scoring import RESULT_KPIS
from crmsim.classroom.teams import PLAYING, seat_counts
from crmsim.plans import LEVERS, Plan

RESULT_COLUMNS = ["team", "round", *RESULT_KPIS, "score"]


def team_rows(c, room_id: int, states: tuple[str, ...] = PLAYING) -> list:
    return list(
        c.execute(
            sa.select(teams)
            .where((teams.c.room_id == room_id) & teams.c.state.in_(states))
            .order_by(teams.c.id)
        )
    )


def plans_by_team(
    c, room_id: int, round_no: int | None = None
) -> dict[int, dict[int, tuple[Plan, int]]]:
    """Every saved plan of the room (or of one round): team id → round → (plan, version)."""
    q = (
        sa.select(plans.c.team_id, plans.c.round, plans.c.plan_json, plans.c.version)
        .join(teams, teams.c.id == plans.c.team_id)
        .where(teams.c.room_id == room_id)
    )
    if round_no is not None:
        q = q.where(plans.c.round == round_no)
    rows = c.execute(q)
    out: dict[int, dict[int, tuple[Plan, int]]] = {}
    for tid, rnd, body, version in rows:
        out.setdefault(tid, {})[rnd] = (Plan.model_validate_json(body), int(version))
    return out


def team_plans(c, team_id: int) -> dict[int, tuple[Plan, int]]:
    """One team's saved plans: round → (plan, version)."""
    rows = c.execute(
        sa.select(plans.c.round, plans.c.plan_json, plans.c.version).where(
            plans.c.team_id == team_id
        )
    )
    return {rnd: (Plan.model_validate_json(body), int(v)) for rnd, body, v in rows}


def snapshot(c, room_id: int, team_ids: list[int] | None = None) -> tuple:
    """The state a reveal depends on: each team's state and each of its plans' versions. A
    reveal publishes only if this is the same after its runs as before them."""
    q = sa.select(teams.c.id, teams.c.state).where(teams.c.room_id == room_id)
    if team_ids is not None:
        q = q.where(teams.c.id.in_(team_ids))
    states = sorted(tuple(r) for r in c.execute(q))
    ids = [tid for tid, _ in states]
    versions = sorted(
        tuple(r)
        for r in c.execute(
            sa.select(plans.c.team_id, plans.c.round, plans.c.version).where(
                plans.c.team_id.in_(ids or [-1])
            )
        )
    )
    return tuple(states), tuple(versions)


def monitor(c, room_id: int, round_no: int) -> pd.DataFrame:
    """Every team of the room: its state, when it joined, was last seen and was last editing,
    when it submitted this round (and the plan's version), its PIN and number of seats."""
    rows = c.execute(
        sa.select(
            teams.c.id,
            teams.c.name,
            teams.c.state,
            teams.c.joined_at,
            teams.c.last_seen,
            teams.c.editing_at,
            teams.c.pin,
            plans.c.submitted_at,
            plans.c.version,
        )
        .select_from(
            teams.outerjoin(plans, (plans.c.team_id == teams.c.id) & (plans.c.round == round_no))
        )
        .where((teams.c.room_id == room_id) & teams.c.state.in_(PLAYING))
        .order_by(teams.c.id)
    ).all()
    extra = seat_counts(c, room_id)
    frame = pd.DataFrame(
        rows,
        columns=[
            "team_id",
            "team",
            "state",
            "joined_at",
            "last_seen",
            "editing_at",
            "pin",
            "submitted_at",
            "version",
        ],
    )
    frame["seats"] = [
        (0 if state == "reserved" else 1) + extra.get(tid, 0)
        for tid, state in zip(frame["team_id"], frame["state"], strict=True)
    ]
    return frame


def published(c, room) -> list:
    """Published result rows of the room's active teams, with each team's id, monthly series
    and the plans it played: every revealed round, and the practice round (0) once revealed
    (its rows exist only from then on). Read once per room version: the results table and
    every team's own rounds are cut from it (after a reveal, 40 tabs ask for their rounds)."""
    q = (
        sa.select(
            teams.c.name,
            results.c.round,
            results.c.kpis_json,
            results.c.score,
            results.c.team_id,
            results.c.series_json,
            results.c.played,
        )
        .join(teams, teams.c.id == results.c.team_id)
        .where(
            (teams.c.room_id == room.id)
            & (teams.c.state == "active")
            & (results.c.round <= room.revealed_round)
        )
        .order_by(results.c.round, teams.c.id)
    )
    return c.execute(q).all()


def results_frame(rows) -> pd.DataFrame:
    out = []
    for name, rnd, k, s, *_ in rows:
        kpis = json.loads(k)
        out.append({"team": name, "round": rnd, **{key: kpis.get(key) for key in RESULT_KPIS}})
        out[-1]["score"] = s
    return pd.DataFrame(out, columns=RESULT_COLUMNS)


def leaderboard(res: pd.DataFrame, final_only: bool) -> pd.DataFrame:
    """Teams ranked by score: the last revealed round's, or the mean over revealed rounds
    (the practice round never counts)."""
    res = res[res["round"] >= 1]
    if res.empty:
        return pd.DataFrame(columns=["rank", "team", "score"])
    if final_only:
        board = res[res["round"] == res["round"].max()][["team", "score"]]
    else:
        board = res.groupby("team", sort=False, as_index=False)["score"].mean()
    board = board.sort_values("score", ascending=False, kind="stable").reset_index(drop=True)
    board.insert(0, "rank", range(1, len(board) + 1))
    return board


def allocation_rows(named_plans: dict[str, Plan]) -> pd.DataFrame:
    """Teams × (segment, lever) values of one round's plans (the instructor's heat-map)."""
    rows = [
        {"team": name, "segment": seg, "lever": lever, "value": float(getattr(lv, lever))}
        for name, plan in named_plans.items()
        for seg, lv in plan.allocations.items()
        for lever in LEVERS
    ]
    return pd.DataFrame(rows, columns=["team", "segment", "lever", "value"])
