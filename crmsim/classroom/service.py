"""The classroom as teams and the instructor use it: joining and seats, rosters, managing
teams, and what everyone sees (the monitor, results, leaderboard, debrief workbook).

Joining: with the room code and a team name (or, when the instructor pasted a roster, by
picking a label); the team gets a seat token (its link) and a PIN. A reload, a restart or a
new device gets back to the same seat with the link, or with the team's name and PIN.
Failed joins and wrong PINs are slowed down per browser session, per address (when it can be
trusted) and, for PINs, per team; one session can make only a few teams; the instructor sets
the room's team cap and can lock joining.
"""

from __future__ import annotations

import json
import math

import pandas as pd
import sqlalchemy as sa

from crmsim.classroom import debrief, limits, scoring, teams, views
from crmsim.classroom.errors import ClassroomError
from crmsim.classroom.limits import Client, as_client
from crmsim.classroom.names import clean_name, normalize_code, same_secret
from crmsim.classroom.rooms import Room, Submission, check_room_plan, clock_text, room_of
from crmsim.classroom.schema import plans, rooms
from crmsim.classroom.store import MAX_TEAMS, SEEN_EVERY_S, Store, _failed
from crmsim.classroom.teams import Team
from crmsim.i18n import Lang
from crmsim.plans import Plan

MAX_ROSTER = MAX_TEAMS


class Classroom(Store):
    """The classroom store with its teams and views. Thread-safe; several processes may
    share one database."""

    # -- joining ---------------------------------------------------------------------------
    def _may_try(self, c, client: Client, extra: list[str] = ()) -> None:
        now = self.clock()
        wait = max(
            limits.wait_left(c, client.keys("join"), limits.JOIN_FAILURES, now),
            # teams made: per session only (a class behind one school address joins)
            limits.wait_left(c, client.keys("joined", False), limits.JOINS_PER_SESSION, now),
            limits.wait_left(c, list(extra), limits.TEAM_PIN_FAILURES, now),
        )
        if wait > 0:
            raise ClassroomError("slow_down", seconds=math.ceil(wait))

    def _open_room_row(self, c, code: str, client: Client):
        row = self._room_row(c, code, lock=True)
        if row is None:
            raise _failed("room_not_found", client.keys("join"))
        if row.phase == "ended":
            raise ClassroomError("room_ended")
        return row

    def find_room(self, code: str, client: Client | str | None = None) -> Room:
        """The room a student typed the code of; unknown codes count as failed joins (so
        codes cannot be guessed by looking them up)."""
        client = as_client(client)
        with self._read() as c:
            self._may_try(c, client)
            row = self._room_row(c, code)
        if row is None:
            self._count(client.keys("join"))
            raise ClassroomError("room_not_found")
        return room_of(row)

    def join(self, code: str, name: str, client: Client | str | None = None) -> tuple[Team, str]:
        """Join a room as a new team; returns the team (with its PIN) and its seat token."""
        client = as_client(client)
        with self._read() as c:
            self._may_try(c, client)
        name = clean_name(name)
        with self._write() as c:
            row = self._open_room_row(c, code, client)
            if row.join_locked:
                raise ClassroomError("joining_locked")
            if row.roster:
                raise ClassroomError("pick_from_roster")
            if teams.playing_count(c, row.id) >= min(row.max_teams, MAX_TEAMS):
                raise ClassroomError("room_full", limit=row.max_teams)
            tid, token, pin = teams.add(c, row.id, name, self.clock())
            limits.count(
                c, client.keys("joined", False), self.clock(), limits.JOINS_PER_SESSION.forget
            )
            limits.clear(c, client.keys("join"))
        self._arriving(row)
        return Team(tid, int(row.id), name, "active", pin), token

    def _arriving(self, row) -> None:
        """A team took a seat: a class is arriving, so the warming worker gets ready."""
        if self._warmer is not None:
            self._warmer.prime(room_of(row))

    def claim(self, code: str, label: str, client: Client | str | None = None) -> tuple[Team, str]:
        """Take a roster label nobody has taken yet; a taken one needs its PIN (``rejoin``)."""
        client = as_client(client)
        with self._read() as c:
            self._may_try(c, client)
        with self._write() as c:
            row = self._open_room_row(c, code, client)
            team = teams.by_name(c, row.id, label)
            if team is None:
                raise ClassroomError("team_not_found")
            if team.state != "reserved":
                raise ClassroomError("team_taken", name=team.name)
            now = self.clock()
            teams.activate(c, team, now)
            token = teams.add_seat(c, team.id, now)
        self._arriving(row)
        return Team(team.id, team.room_id, team.name, "active", team.pin or ""), token

    def rejoin(
        self, code: str, name: str, pin: str, client: Client | str | None = None
    ) -> tuple[Team, str]:
        """Back to a team's seat on any device, with the team's name and PIN."""
        client = as_client(client)
        with self._read() as c:
            self._may_try(c, client)
            row = self._room_row(c, code)
            found = teams.by_name(c, row.id, name) if row is not None else None
            if found is not None:
                self._may_try(c, Client(), [f"pin:t:{found.id}"])
        with self._write() as c:
            row = self._open_room_row(c, code, client)
            team = teams.by_name(c, row.id, name)
            if team is None or not same_secret(pin, team.pin or ""):
                pin_key = [f"pin:t:{team.id}"] if team is not None else []
                raise _failed("bad_pin", [*client.keys("join"), *pin_key])
            now = self.clock()
            teams.activate(c, team, now)
            token = teams.add_seat(c, team.id, now)
            limits.clear(c, client.keys("join"))
        return Team(team.id, team.room_id, team.name, "active", team.pin or ""), token

    def roster_labels(self, code: str) -> list[tuple[str, bool]]:
        """The room's roster: each label and whether a team has taken it."""
        with self._read() as c:
            row = self._room_row(c, code)
            if row is None:
                raise ClassroomError("room_not_found")
            if not row.roster:
                return []
            return [(tm.name, tm.state != "reserved") for tm in views.team_rows(c, row.id)]

    # -- submissions -----------------------------------------------------------------------
    def submit(
        self,
        code: str,
        token: str,
        plan: Plan,
        round_no: int,
        seen_version: int | None = None,
    ) -> int:
        """Save the team's plan for ``round_no`` (which must be the open round, before its
        deadline); a resubmit replaces it. With ``seen_version`` (the version of the team's
        plan the submitting tab showed, 0 for none), a plan saved meanwhile from another of
        the team's tabs is not overwritten (``stale_plan``). Returns the saved version."""
        room = self.room(code, max_age=5.0)  # the case only: the round is checked below
        check_room_plan(room, plan)
        body = plan.model_dump_json()
        with self._write() as c:
            row = self._room_row(c, code, lock=True)
            team = teams.by_token(c, row.id, token) if row is not None else None
            if team is None:
                raise ClassroomError("bad_token")
            now = self.clock()
            if row.phase != "open" or row.current_round != round_no:
                raise ClassroomError("round_closed", round=round_no)
            if row.deadline_at is not None and now >= row.deadline_at:
                raise ClassroomError("deadline_passed", round=round_no)
            had = c.execute(
                sa.select(plans.c.version, plans.c.submitted_at).where(
                    (plans.c.team_id == team.id) & (plans.c.round == round_no)
                )
            ).first()
            if seen_version is not None and (had.version if had else 0) != seen_version:
                raise ClassroomError("stale_plan", time=clock_text(had.submitted_at))
            version = (had.version if had else 0) + 1
            if had:
                c.execute(
                    plans.update()
                    .where((plans.c.team_id == team.id) & (plans.c.round == round_no))
                    .values(plan_json=body, submitted_at=now, version=version)
                )
            else:
                c.execute(
                    plans.insert().values(
                        team_id=team.id,
                        round=round_no,
                        plan_json=body,
                        submitted_at=now,
                        version=1,
                    )
                )
            teams.activate(c, team, now)
            teams.seen(c, team.id, now, editing=False)
            if self._warmer is not None:  # play it now, in the background, for the reveal
                self._warmer.put(room, team.id, views.team_plans(c, team.id), round_no)
        with self._lock:
            self._seen[team.id] = (now, False)
        return version

    def my_submission(self, code: str, token: str, round_no: int) -> Submission | None:
        """The team's plan for a round, when it was saved and its version (None: not yet)."""
        with self._read() as c:
            team = self._team_row(c, code, token)
            row = c.execute(
                sa.select(plans.c.plan_json, plans.c.submitted_at, plans.c.version).where(
                    (plans.c.team_id == team.id) & (plans.c.round == round_no)
                )
            ).first()
        if row is None:
            return None
        return Submission(Plan.model_validate_json(row[0]), float(row[1]), int(row[2]))

    def my_plan(self, code: str, token: str, round_no: int) -> Plan | None:
        found = self.my_submission(code, token, round_no)
        return found.plan if found else None

    def _team_row(self, c, code: str, token: str):
        """The team row a seat token belongs to (``bad_token`` if none); ``c`` None: on a
        connection of its own, opened only when ``one_view`` has not read it already."""
        reads = self._view_reads()
        key = ("team", normalize_code(code), token)
        if reads is not None and key in reads:
            return reads[key]
        if c is None:
            with self._read() as own:
                return self._team_row(own, code, token)
        room_id = self._room_id(c, code)
        team = teams.by_token(c, room_id, token) if room_id is not None else None
        if team is None:
            raise ClassroomError("bad_token")
        if reads is not None:
            reads[key] = team
        return team

    def _room_id(self, c, code: str) -> int | None:
        """A room's id by its code (which never changes: remembered once read)."""
        key = normalize_code(code)
        found = self._room_ids.get(key)
        if found is None:
            found = c.execute(sa.select(rooms.c.id).where(rooms.c.code == key)).scalar()
            if found is not None:
                self._room_ids[key] = found
        return found

    def team(self, code: str, token: str) -> Team:
        """The team a token belongs to, in this room (else ``bad_token``). A roster team
        opened through its link for the first time is playing from now on."""
        row = self._team_row(None, code, token)
        if row.state == "reserved":
            with self._write() as c:
                teams.activate(c, row, self.clock())
        return teams.team_of(row)

    def heartbeat(self, code: str, token: str, editing: bool | None = None) -> None:
        """A team's tab is open (``editing``: its grid differs from its saved plan). Written
        at most every ``SEEN_EVERY_S`` per team and process, or when editing changes."""
        now = self.clock()
        try:
            team = self._team_row(None, code, token)
        except ClassroomError:
            return
        with self._lock:
            last = self._seen.get(team.id)
            if last and now - last[0] < SEEN_EVERY_S and (editing is None or editing == last[1]):
                return
            self._seen[team.id] = (now, editing if editing is not None else (last or (0, None))[1])
        with self._write() as c:
            teams.seen(c, team.id, now, editing)

    # -- the instructor manages teams --------------------------------------------------------
    def set_roster(
        self, code: str, passcode: str, labels: list[str], client=None
    ) -> dict[str, str]:
        """Make a team for every label not yet in the room; from now on students pick their
        label instead of typing a name. Returns each new label's team link token (shown to
        the instructor once, to hand out)."""
        cleaned = list(dict.fromkeys(clean_name(lb) for lb in labels if str(lb).strip()))
        if not cleaned:
            raise ClassroomError("roster_empty")
        if len(cleaned) > MAX_ROSTER:
            raise ClassroomError("room_full", limit=MAX_ROSTER)
        out = {}
        with self._instructor(code, passcode, client) as (c, row):
            now = self.clock()
            for label in cleaned:
                if teams.by_name(c, row.id, label) is not None:
                    continue
                _, token, _ = teams.add(c, row.id, label, now, state="reserved")
                out[label] = token
            n = teams.playing_count(c, row.id)
            self._bump(c, row, roster=True, max_teams=max(row.max_teams, min(n, MAX_TEAMS)))
        return out

    def set_joining(
        self,
        code: str,
        passcode: str,
        locked: bool | None = None,
        max_teams: int | None = None,
        client=None,
    ) -> Room:
        """Lock or unlock joining, or set the room's team cap."""
        values: dict = {}
        if locked is not None:
            values["join_locked"] = bool(locked)
        if max_teams is not None:
            if not 1 <= int(max_teams) <= MAX_TEAMS:
                raise ClassroomError("bad_max_teams", limit=MAX_TEAMS)
            values["max_teams"] = int(max_teams)
        with self._instructor(code, passcode, client) as (c, row):
            row = self._bump(c, row, **values)
        return room_of(row)

    def rename_team(self, code: str, passcode: str, team_id: int, name: str, client=None) -> str:
        with self._instructor(code, passcode, client) as (c, row):
            name = teams.rename(c, teams.by_id(c, row.id, team_id), name)
            self._bump(c, row)  # every tab shows the new name
        return name

    def remove_team(self, code: str, passcode: str, team_id: int, client=None) -> None:
        """Take a team (a ghost, a junk name) out: off the leaderboard, its seats closed."""
        with self._instructor(code, passcode, client) as (c, row):
            teams.retire(c, teams.by_id(c, row.id, team_id), "removed")
            self._bump(c, row)  # off every tab's leaderboard

    def merge_teams(
        self, code: str, passcode: str, team_id: int, into_id: int, client=None
    ) -> None:
        """Fold a team into another: its devices play for ``into_id`` from now on, and rounds
        where ``into_id`` has no plan take this team's."""
        if int(team_id) == int(into_id):
            raise ClassroomError("merge_same")
        with self._instructor(code, passcode, client) as (c, row):
            teams.merge(
                c, teams.by_id(c, row.id, team_id), teams.by_id(c, row.id, into_id), self.clock()
            )
            self._bump(c, row)

    def reseat(
        self, code: str, passcode: str, team_id: int, revoke_others: bool = False, client=None
    ) -> str:
        """A new link for a team that lost its own (``revoke_others``: every other device of
        the team is logged out). Returns the new seat token."""
        with self._instructor(code, passcode, client) as (c, row):
            team = teams.by_id(c, row.id, team_id)
            if revoke_others:
                teams.revoke_seats(c, team.id)
            return teams.add_seat(c, team.id, self.clock())

    def reset_pin(self, code: str, passcode: str, team_id: int, client=None) -> str:
        with self._instructor(code, passcode, client) as (c, row):
            return teams.reset_pin(c, teams.by_id(c, row.id, team_id))

    # -- what everyone sees ------------------------------------------------------------------
    def revealed_plans(self, code: str, round_no: int) -> dict[str, Plan]:
        """Every active team's plan of a round, once the instructor has revealed that round."""
        room = self.room(code)
        if round_no > room.revealed_round or (
            round_no == room.current_round and room.phase not in ("revealed", "ended")
        ):
            raise ClassroomError("not_revealed")

        def read() -> dict[str, Plan]:
            with self._read() as c:
                names = {tm.id: tm.name for tm in views.team_rows(c, room.id, ("active",))}
                found = views.plans_by_team(c, room.id, round_no)
            return {names[tid]: by[round_no][0] for tid, by in found.items() if tid in names}

        return dict(self._memo.get((room.id, room.version, "plans", round_no), read))

    def all_plans(self, code: str, passcode: str, client=None) -> dict[str, dict[int, Plan]]:
        """Every plan of every round of every team ever in the room (instructor only)."""
        room = self.check_passcode(code, passcode, client)
        with self._read() as c:
            names = {tm.id: tm.name for tm in views.team_rows(c, room.id, teams.ALL_STATES)}
            found = views.plans_by_team(c, room.id)
        return {
            names[tid]: {r: plan for r, (plan, _) in by_round.items()}
            for tid, by_round in found.items()
        }

    def status(self, code: str, passcode: str, client=None) -> pd.DataFrame:
        """The instructor's monitor: every team, its state, when it joined, was last seen,
        was editing, submitted this round (and the version), its PIN and its devices."""
        room = self.check_passcode(code, passcode, client)
        with self._read() as c:
            return views.monitor(c, room.id, room.current_round)

    def allocations(
        self, code: str, passcode: str, round_no: int | None = None, client=None
    ) -> pd.DataFrame:
        """Teams × (segment, lever) money of a round's plans (the instructor's heat-map)."""
        room = self.check_passcode(code, passcode, client)
        r = room.current_round if round_no is None else round_no
        with self._read() as c:
            names = {tm.id: tm.name for tm in views.team_rows(c, room.id, ("active",))}
            found = views.plans_by_team(c, room.id, r)
        chosen = {
            names[tid]: rounds[r][0]
            for tid, rounds in found.items()
            if tid in names and r in rounds
        }
        return views.allocation_rows(chosen)

    def _published(self, room: Room) -> list:
        """The room's published rows at its version (``views.published``), read once."""

        def read() -> list:
            with self._read() as c:
                return views.published(c, room)

        return self._memo.get((room.id, room.version, "published"), read)

    def results(self, code: str) -> pd.DataFrame:
        """Published results: one row per active team and revealed round (round 0: practice).
        Read once per room version by this process (``memo``)."""
        room = self.room(code)

        def frame() -> pd.DataFrame:
            return views.results_frame(self._published(room))

        return self._memo.get((room.id, room.version, "results"), frame).copy()

    def team_results(self, code: str, token: str) -> list[dict]:
        """The team's own published rounds, each with its KPIs, score, monthly series and
        the plans it played (``[round, version]`` per round; ``[0, 0]`` = status quo)."""
        room = self.room(code)
        team = self._team_row(None, code, token)

        def parse() -> list[dict]:
            return [
                {
                    "round": rnd,
                    "kpis": json.loads(k),
                    "score": s,
                    "series": json.loads(series) if series else None,
                    "played": json.loads(played) if played else None,
                }
                for _, rnd, k, s, tid, series, played in self._published(room)
                if tid == team.id
            ]

        return list(self._memo.get((room.id, room.version, "team", team.id), parse))

    def leaderboard(self, code: str) -> pd.DataFrame:
        """Teams ranked by score: the last revealed round's, or the mean over revealed rounds."""
        room = self.room(code)

        def rank() -> pd.DataFrame:
            return views.leaderboard(self.results(code), room.final_only)

        return self._memo.get((room.id, room.version, "board"), rank).copy()

    def ranks(self, code: str) -> dict[str, int]:
        """Each ranked team's place on the leaderboard, by name (every tab shows its own)."""
        room = self.room(code)

        def places() -> dict[str, int]:
            board = self.leaderboard(code)
            return {
                name: int(place) for name, place in zip(board["team"], board["rank"], strict=True)
            }

        return dict(self._memo.get((room.id, room.version, "ranks"), places))

    def answer_key(self, code: str, round_no: int) -> dict | None:
        """The answer key's result for a revealed round, once the instructor shows it (None
        before, or while this build has no plan search)."""
        room = self.room(code)
        if not room.key_revealed or round_no < 1 or round_no > room.revealed_round:
            return None
        return scoring.answer_key(room, round_no)

    # -- debrief ---------------------------------------------------------------------------
    def export_xlsx(self, code: str, passcode: str, lang: Lang | None = None, client=None) -> bytes:
        """Debrief workbook: leaderboard, teams × rounds × KPIs, and every plan; sheet names and
        headers in ``lang`` (None: the column keys, for scripts). (The HTML report is
        ``charts.debrief_html``: Plotly stays out of the core.)"""
        return debrief.workbook(
            self.all_plans(code, passcode, client),
            self.leaderboard(code),
            self.results(code),
            lang,
        )
