"""The classroom store: rooms, rounds and submissions in SQLite or PostgreSQL.

Every change of a room's round or phase is a compare-and-set: it names the round it acts on
(the one on the instructor's screen), checks it and the phase inside its transaction, and
bumps the room's version. A reveal closes the round, notes the version and every plan's
version, simulates outside any lock (the saved plans were played just before, so the round
is seen closed only while it publishes), and publishes only if nothing changed meanwhile — so a
second instructor session reopening the round, a late submit, or another session's reveal
and advance can never get results of other plans published, or a round skipped.

SQLite (``crmsim.classroom.database``): a writer takes the lock when its transaction begins,
plain reads never take it. PostgreSQL: the room's row is locked (``FOR UPDATE``) by every
transaction that changes the room or submits to it. Database failures come out as
``StoreError`` with a message key, never as driver exceptions.
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from crmsim.cases import Case
from crmsim.classroom import limits, scoring, views
from crmsim.classroom.database import default_url, make_engine
from crmsim.classroom.errors import ClassroomError, StoreError, store_error
from crmsim.classroom.limits import Client, as_client
from crmsim.classroom.memo import Memo
from crmsim.classroom.names import (
    hash_passcode,
    name_key,
    new_code,
    new_passcode,
    new_token,
    normalize_code,
    pbkdf2_ok,
    token_hash,
)
from crmsim.classroom.rooms import DEFAULT_MAX_TEAMS, Room, RoomKeys, expect, room_of
from crmsim.classroom.schema import (
    SCHEMA_VERSION,
    meta_table,
    metadata,
    results,
    rooms,
    upgrade_1_to_2,
)
from crmsim.classroom.warm import Warmer, shared_worker

MAX_TEAMS = 200
MAX_ROUNDS = 12
PHASES = ("open", "locked", "revealed", "ended")
SEEN_EVERY_S = 20.0  # a team's "last seen" is written at most this often per process


_VERIFIED: set[tuple[str, str]] = set()  # (stored hash, digest of a passcode that matched it)


class Store:
    """The database under a classroom: rooms, rounds and submissions (``Classroom`` adds
    the teams and what everyone sees). Thread-safe; several processes may share one
    database."""

    def __init__(
        self,
        url: str | None = None,
        clock: Callable[[], float] = time.time,
        busy_timeout: float = 30.0,
        warm: bool = False,
    ):
        """``warm``: have each saved plan's schedule played in the background (by the
        warming worker process), so that a reveal in this process finds the runs played
        (``crmsim.classroom.warm``; the app's store does, scripts and tests need not)."""
        try:
            self.url = url or default_url()
        except OSError as exc:
            raise store_error(exc, "folder") from exc
        self.clock = clock
        self.sqlite = self.url.startswith("sqlite")
        self.engine = make_engine(self.url, busy_timeout)
        self._reader = self.engine.execution_options(crm_read=True)
        self._rooms: dict[str, tuple[float, Room]] = {}
        self._view = threading.local()  # what one page draw has read (``one_view``)
        self._seen: dict[int, tuple[float, bool | None]] = {}
        self._lock = threading.Lock()
        self._memo = Memo()  # what was read from a room at a version (``memo``)
        self._room_ids: dict[str, int] = {}
        self._warmer = Warmer(shared_worker()) if warm else None
        with self._errors():
            self._migrate()

    def close(self) -> None:
        self.engine.dispose()

    # -- transactions and errors -----------------------------------------------------------
    @contextmanager
    def _errors(self) -> Iterator[None]:
        """Database failures as ``StoreError``; a refused attempt's rate-limit counters are
        counted once its own transaction has ended."""
        try:
            yield
        except StoreError:
            raise
        except ClassroomError as exc:
            if exc.failed:
                self._count(exc.failed)
            raise
        except (SQLAlchemyError, OSError) as exc:
            raise store_error(exc) from exc

    @contextmanager
    def _read(self) -> Iterator[sa.Connection]:
        with self._errors(), self._reader.connect() as c:
            yield c

    @contextmanager
    def _write(self) -> Iterator[sa.Connection]:
        try:
            with self._errors(), self.engine.begin() as c:
                yield c
        finally:  # what this thread changed is read again, even inside ``one_view``
            reads = self._view_reads()
            if reads:
                reads.clear()

    @contextmanager
    def one_view(self) -> Iterator[None]:
        """Within the block this thread reads each room (and each team by its seat token)
        once: every later ``room`` call gives the same copy, so a page is drawn from one
        version of the room (not a version query for each part of it, seven on a team's
        page) and a change landing meanwhile is drawn whole by the next poll. A write by
        this thread ends the copies."""
        outer = self._view_reads()
        if outer is None:
            self._view.reads = {}
        try:
            yield
        finally:
            if outer is None:
                self._view.reads = None

    def _view_reads(self) -> dict | None:
        """What this thread has read inside ``one_view`` (None outside it)."""
        return getattr(self._view, "reads", None)

    def _count(self, keys: list[str]) -> None:
        for attempt in range(2):  # two processes may insert one new counter at once
            try:
                with self.engine.begin() as c:
                    limits.count(c, keys, self.clock())
                return
            except IntegrityError:
                if attempt:
                    raise store_error(RuntimeError("rate-limit counter")) from None
            except SQLAlchemyError as exc:
                raise store_error(exc) from exc

    def _room_row(self, c, code: str, lock: bool = False):
        q = sa.select(rooms).where(rooms.c.code == normalize_code(code))
        if lock and not self.sqlite:
            q = q.with_for_update()
        return c.execute(q).first()

    # -- schema ----------------------------------------------------------------------------
    def _migrate(self) -> None:
        with self.engine.begin() as c:
            if not self.sqlite:  # one process migrates at a time
                c.execute(sa.text("SELECT pg_advisory_xact_lock(47110815)"))
            existed = sa.inspect(c).has_table("crm_meta")
            found = None
            if existed:
                found = c.execute(
                    sa.select(meta_table.c.value).where(meta_table.c.key == "schema")
                ).scalar_one_or_none()
            if found is not None and int(found) > SCHEMA_VERSION:
                raise ClassroomError("schema_newer", found=found, known=SCHEMA_VERSION)
            metadata.create_all(c)
            if found is not None and int(found) < 2:
                upgrade_1_to_2(c, name_key)
            if found is None:
                c.execute(meta_table.insert().values(key="schema", value=str(SCHEMA_VERSION)))
            elif int(found) != SCHEMA_VERSION:
                c.execute(
                    meta_table.update()
                    .where(meta_table.c.key == "schema")
                    .values(value=str(SCHEMA_VERSION))
                )

    def schema_version(self) -> int:
        with self._read() as c:
            return int(
                c.execute(
                    sa.select(meta_table.c.value).where(meta_table.c.key == "schema")
                ).scalar_one()
            )

    # -- the instructor --------------------------------------------------------------------
    def _check_secret(self, c, row, secret: str, client: Client):
        """``row`` if ``secret`` is its instructor's passcode or link token; else refused
        (counted against the session, the address and the room; after too many, refused
        before the slow hash is even tried)."""
        secret = str(secret)[:100]
        if row is None:
            raise _failed("bad_passcode", client.keys("pass"))
        digest = hashlib.sha256(secret.encode()).hexdigest()
        if (row.passcode_hash, digest) in _VERIFIED:
            return row
        if row.admin_hash and row.admin_hash == token_hash(secret):
            return row
        now = self.clock()
        room_key = f"pass:r:{row.id}"
        wait = max(
            limits.wait_left(c, client.keys("pass"), limits.PASSCODE_FAILURES, now),
            limits.wait_left(c, [room_key], limits.ROOM_PASSCODE_FAILURES, now),
        )
        if wait > 0:
            raise ClassroomError("slow_down", seconds=math.ceil(wait))
        if pbkdf2_ok(secret, row.passcode_hash):
            if len(_VERIFIED) > 1024:
                _VERIFIED.clear()
            _VERIFIED.add((row.passcode_hash, digest))
            return row
        raise _failed("bad_passcode", [*client.keys("pass"), room_key])

    def check_passcode(self, code: str, passcode: str, client: Client | str | None = None) -> Room:
        """The room, if ``passcode`` (or the instructor link's token) opens it."""
        with self._read() as c:
            row = self._room_row(c, code)
            return room_of(self._check_secret(c, row, passcode, as_client(client)))

    @contextmanager
    def _instructor(self, code: str, secret: str, client) -> Iterator[tuple[sa.Connection, object]]:
        """A write transaction on the room, for its instructor only (the slow passcode check
        runs first, outside the transaction, so no lock is held while it hashes)."""
        client = as_client(client)
        self.check_passcode(code, secret, client)
        with self._write() as c:
            row = self._check_secret(c, self._room_row(c, code, lock=True), secret, client)
            yield c, row
        self._forget(row.code)

    def rotate_keys(self, code: str, secret: str, client: Client | str | None = None) -> RoomKeys:
        """A new passcode and instructor link; the old ones stop working at once."""
        passcode, link = new_passcode(), new_token()
        with self._instructor(code, secret, client) as (c, row):
            c.execute(
                rooms.update()
                .where(rooms.c.id == row.id)
                .values(passcode_hash=hash_passcode(passcode), admin_hash=token_hash(link))
            )
        return RoomKeys(row.code, passcode, link)

    # -- rooms -----------------------------------------------------------------------------
    def create_room(
        self,
        case: Case,
        customers: int,
        seed: int,
        rounds: int = 4,
        round_months: int = 6,
        weights: dict[str, float] | None = None,
        final_only: bool = False,
        practice: bool = False,
        max_teams: int = DEFAULT_MAX_TEAMS,
    ) -> RoomKeys:
        """Open a room; returns its code, the instructor passcode and link token (shown once)."""
        if not 1 <= rounds <= MAX_ROUNDS:
            raise ClassroomError("bad_rounds", limit=MAX_ROUNDS)
        if not 1 <= round_months <= 24:
            raise ClassroomError("bad_round_months")
        if not 100 <= customers <= 20_000:
            raise ClassroomError("bad_customers")
        if not 1 <= max_teams <= MAX_TEAMS:
            raise ClassroomError("bad_max_teams", limit=MAX_TEAMS)
        weights = {
            k: float(v)
            for k, v in (weights or scoring.DEFAULT_WEIGHTS).items()
            if k in scoring.SCORE_KPIS
        }
        if not weights or any(v < 0 for v in weights.values()) or sum(weights.values()) <= 0:
            raise ClassroomError("bad_weights")
        passcode, link = new_passcode(), new_token()
        now = self.clock()
        for _ in range(20):
            code = new_code()
            with self._write() as c:
                try:
                    with c.begin_nested():
                        c.execute(
                            rooms.insert().values(
                                code=code,
                                case_json=case.model_dump_json(),
                                customers=int(customers),
                                seed=int(seed),
                                rounds=int(rounds),
                                round_months=int(round_months),
                                weights=json.dumps(weights),
                                final_only=bool(final_only),
                                passcode_hash=hash_passcode(passcode),
                                admin_hash=token_hash(link),
                                current_round=0 if practice else 1,
                                phase="open",
                                revealed_round=0,
                                created_at=now,
                                changed_at=now,
                                practice=bool(practice),
                                max_teams=int(max_teams),
                            )
                        )
                except IntegrityError:
                    continue  # code taken: draw another
            return RoomKeys(code, passcode, link)
        raise ClassroomError("no_code")  # pragma: no cover - 31^6 codes

    def room(self, code: str, max_age: float = 0.0) -> Room:
        """A room by its code; ``max_age`` > 0 accepts a copy read that many seconds ago by
        this process. Otherwise the database is asked for the room's version only (one
        indexed row), and the whole row with its case is read again only when it changed:
        every change of a room bumps its version."""
        key = normalize_code(code)
        reads = self._view_reads()
        if reads is not None and ("room", key) in reads:
            return reads["room", key]
        with self._lock:
            found = self._rooms.get(key)
        if found and max_age > 0 and time.monotonic() - found[0] < max_age:
            return found[1]
        with self._read() as c:
            if found is not None and self.room_version(code, c) == found[1].version:
                row = None
            else:
                row = self._room_row(c, key)
                if row is None:
                    raise ClassroomError("room_not_found")
        room = found[1] if row is None else room_of(row)
        with self._lock:
            self._rooms[key] = (time.monotonic(), room)
        if reads is not None:
            reads["room", key] = room
        return room

    def room_version(self, code: str, c: sa.Connection | None = None) -> int | None:
        """The room's version (None: no such room): one indexed row, a few bytes."""
        q = sa.select(rooms.c.version).where(rooms.c.code == normalize_code(code))
        if c is not None:
            return c.execute(q).scalar_one_or_none()
        with self._read() as conn:
            return conn.execute(q).scalar_one_or_none()

    def _forget(self, code: str) -> None:
        with self._lock:
            self._rooms.pop(normalize_code(code), None)

    # -- rounds: every change is a compare-and-set ------------------------------------------
    def _bump(self, c, row, **values):
        """Change the room and its version, if the version is still the one read."""
        done = c.execute(
            rooms.update()
            .where((rooms.c.id == row.id) & (rooms.c.version == row.version))
            .values(version=row.version + 1, changed_at=self.clock(), **values)
        )
        if done.rowcount != 1:
            raise ClassroomError("changed_meanwhile", round=row.current_round, phase=row.phase)
        return self._room_row(c, row.code)

    def lock(self, code: str, passcode: str, round_no: int | None = None, client=None) -> Room:
        """Stop submissions for the round (before revealing it)."""
        with self._instructor(code, passcode, client) as (c, row):
            expect(row, round_no, ("open",))
            row = self._bump(c, row, phase="locked")
        return room_of(row)

    def reopen(self, code: str, passcode: str, round_no: int | None = None, client=None) -> Room:
        """Take plans for the round again (its deadline, if any, is lifted)."""
        with self._instructor(code, passcode, client) as (c, row):
            expect(row, round_no, ("locked",))
            row = self._bump(c, row, phase="open", deadline_at=None)
        return room_of(row)

    def advance(self, code: str, passcode: str, round_no: int | None = None, client=None) -> Room:
        """Open the round after ``round_no`` (which must be the revealed current round)."""
        with self._instructor(code, passcode, client) as (c, row):
            expect(row, round_no, ("revealed",))
            if row.current_round >= row.rounds:
                raise ClassroomError("last_round")
            row = self._bump(
                c, row, phase="open", current_round=row.current_round + 1, deadline_at=None
            )
        return room_of(row)

    def end(self, code: str, passcode: str, client=None) -> Room:
        with self._instructor(code, passcode, client) as (c, row):
            expect(row, None, PHASES[:3])
            row = self._bump(c, row, phase="ended", deadline_at=None)
        return room_of(row)

    def set_deadline(
        self, code: str, passcode: str, round_no: int, seconds: float | None, client=None
    ) -> Room:
        """Close the open round by itself ``seconds`` from now (None: no deadline)."""
        with self._instructor(code, passcode, client) as (c, row):
            expect(row, round_no, ("open",))
            when = None if seconds is None else self.clock() + max(0.0, float(seconds))
            row = self._bump(c, row, deadline_at=when)
        return room_of(row)

    def close_if_due(self, code: str) -> Room:
        """Lock the open round once its deadline has passed. Anyone's page may call this (it
        does only what the instructor's deadline said), so the round closes on time even
        when no instructor tab is open. It asks for the room's version only, unless that
        changed (every open tab calls this on each of its polls)."""
        room = self.room(code)
        if room.phase != "open" or room.deadline_at is None or self.clock() < room.deadline_at:
            return room
        with self._write() as c:
            row = self._room_row(c, code, lock=True)
            due = row.deadline_at is not None and self.clock() >= row.deadline_at
            if row.phase == "open" and due:
                row = self._bump(c, row, phase="locked")
        self._forget(code)
        return room_of(row)

    def reveal(self, code: str, passcode: str, round_no: int | None = None, client=None) -> Room:
        """Close the round, play every active team's plans so far and publish the results —
        only if neither the room nor any of those plans changed while they were played."""
        self._play_ahead(self.check_passcode(code, passcode, client))
        with self._instructor(code, passcode, client) as (c, row):
            if round_no is not None and (row.current_round, row.phase) == (round_no, "revealed"):
                raise ClassroomError("already_revealed", round=round_no)
            expect(row, round_no, ("open", "locked"))
            if row.phase == "open":
                row = self._bump(c, row, phase="locked")
            playing = [tm.id for tm in views.team_rows(c, row.id, ("active",))]
            before = views.snapshot(c, row.id, playing)
            by_team = views.plans_by_team(c, row.id)
        room, r = room_of(row), row.current_round
        if self._warmer is not None:  # what was saved between the plays and the lock
            self._warmer.wait(room.id, timeout=5.0)
        out = {tid: scoring.play(room, by_team.get(tid, {}), r) for tid in playing}
        with self._instructor(code, passcode, client) as (c, again):
            if (again.current_round, again.phase) == (r, "revealed"):
                raise ClassroomError("already_revealed", round=r)
            same = (again.version, again.phase, again.current_round) == (row.version, "locked", r)
            if not same or views.snapshot(c, row.id, playing) != before:
                raise ClassroomError(
                    "changed_meanwhile", round=again.current_round, phase=again.phase
                )
            if playing:
                c.execute(
                    results.delete().where(results.c.team_id.in_(playing) & (results.c.round == r))
                )
                c.execute(
                    results.insert(),
                    [
                        {
                            "team_id": tid,
                            "round": r,
                            "kpis_json": json.dumps(o["kpis"]),
                            "score": o["score"],
                            "series_json": scoring.dumps(o["series"]),
                            "played": scoring.dumps(o["played"]),
                        }
                        for tid, o in out.items()
                    ],
                )
            row = self._bump(
                c, again, phase="revealed", revealed_round=max(r, again.revealed_round)
            )
        return room_of(row)

    def _play_ahead(self, room: Room) -> None:
        """Play the saved plans' runs before the round is locked, so that the lock and the
        publishing follow each other closely: every open tab that looks in between draws a
        locked round before its results (on a busy server, a page draw each). Only fills
        the run cache; the reveal still plays and publishes what is saved when it locks."""
        if room.phase not in ("open", "locked"):
            return
        with self._read() as c:
            playing = [tm.id for tm in views.team_rows(c, room.id, ("active",))]
            by_team = views.plans_by_team(c, room.id)
        if self._warmer is not None:  # by the worker: plans saved through other processes too
            for tid in playing:
                self._warmer.put(room, tid, by_team.get(tid, {}), room.current_round, first=True)
            self._warmer.wait(room.id)
        for tid in playing:  # what is left (none, unless the worker failed): here
            for key in scoring.runs_needed(room, by_team.get(tid, {}), room.current_round):
                scoring.team_run(*key)

    def show_answer_key(self, code: str, passcode: str, shown: bool = True, client=None) -> Room:
        """Let teams see their gap to the answer key (the plan search's best plan)."""
        with self._instructor(code, passcode, client) as (c, row):
            row = self._bump(c, row, key_revealed=bool(shown))
        return room_of(row)


def _failed(key: str, counters: list[str], **params) -> ClassroomError:
    exc = ClassroomError(key, **params)
    exc.failed = counters
    return exc
