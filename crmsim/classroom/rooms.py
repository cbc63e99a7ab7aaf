"""A room as everybody may see it, and the rules a room applies to what is sent to it."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import NamedTuple

from crmsim.cases import Case
from crmsim.classroom import scoring
from crmsim.classroom.errors import ClassroomError
from crmsim.plans import Plan, check_plan

DEFAULT_MAX_TEAMS = 60


@dataclass(frozen=True)
class Room:
    """A room as everybody may see it (no passcode, no tokens)."""

    id: int
    code: str
    case: Case
    customers: int
    seed: int
    rounds: int
    round_months: int
    weights: dict[str, float]
    final_only: bool
    current_round: int
    phase: str
    revealed_round: int
    version: int = 0
    deadline_at: float | None = None
    practice: bool = False
    max_teams: int = DEFAULT_MAX_TEAMS
    join_locked: bool = False
    roster: bool = False
    key_revealed: bool = False
    changed_at: float = 0.0
    case_json: str = field(default="", repr=False)

    @property
    def practice_round(self) -> bool:
        """Whether the current round is the practice round (round 0, never counted)."""
        return self.practice and self.current_round == 0

    def accepting(self, now: float) -> bool:
        """Whether plans are taken now (open, and its deadline not passed)."""
        return self.phase == "open" and (self.deadline_at is None or now < self.deadline_at)


class RoomKeys(NamedTuple):
    """What opens a room for its instructor: the code, the passcode (typed) and the
    instructor link's token (kept private); both are shown once."""

    code: str
    passcode: str
    link: str


@dataclass(frozen=True)
class Submission:
    plan: Plan
    submitted_at: float
    version: int


def expect(row, round_no: int | None, phases: tuple[str, ...]) -> None:
    """Refuse unless the room is at ``round_no`` (when given) in one of ``phases``."""
    if round_no is not None and row.current_round != round_no:
        raise ClassroomError("changed_meanwhile", round=row.current_round, phase=row.phase)
    if row.phase not in phases:
        raise ClassroomError("wrong_phase", phase=row.phase)


def clock_text(ts: float | None) -> str:
    return time.strftime("%H:%M:%S", time.localtime(ts)) if ts else "—"


def room_of(row) -> Room:
    return Room(
        id=row.id,
        code=row.code,
        case=scoring.room_case(row.case_json),
        customers=row.customers,
        seed=row.seed,
        rounds=row.rounds,
        round_months=row.round_months,
        weights=json.loads(row.weights),
        final_only=bool(row.final_only),
        current_round=row.current_round,
        phase=row.phase,
        revealed_round=row.revealed_round,
        version=row.version,
        deadline_at=row.deadline_at,
        practice=bool(row.practice),
        max_teams=row.max_teams,
        join_locked=bool(row.join_locked),
        roster=bool(row.roster),
        key_revealed=bool(row.key_revealed),
        changed_at=row.changed_at,
        case_json=row.case_json,
    )


def check_room_plan(room: Room, plan: Plan) -> None:
    """A submitted plan must use the room's segmentation and pass the shared plan check (the
    budget counts rewards and discounts as a forecast on the room's own book)."""
    sq = room.case.status_quo.segmentation
    if (plan.segmentation.method, plan.segmentation.params or {}) != (sq.method, sq.params or {}):
        raise ClassroomError("wrong_segmentation", method=sq.method)
    names, spend = scoring.book_forecast(room.case_json, room.customers, room.seed)
    issues = check_plan(plan, names, room.case, spend)
    if issues:
        raise ClassroomError("bad_plan", issues=issues)
