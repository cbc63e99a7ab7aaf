"""Classroom mode: rooms, rounds, team plans, results and the leaderboard, in a real database.

One instructor opens a room on a case; 20–60 teams join with the room code, submit a service
plan each round and, once the instructor reveals the round, see their results and the
leaderboard. Every team plays the same population and seed; round r replays the team's plans of
rounds 1…r on one run (``engine.simulate_rounds``), so each round continues from the team's own
state at the end of the previous one.

The store is SQLAlchemy 2 (Core): an SQLite file by default (WAL, busy timeout; one server), or
PostgreSQL when ``DATABASE_URL`` says so (several app processes). Everything lives in the
database, so a restarted app loses nothing.

Races, and what happens (each a test):
- two teams submit at once: both plans are saved (each submit is one short transaction);
- a team submits twice: one plan per team and round, the later one;
- the instructor locks, reveals or advances while a team submits: the room row is locked for
  the length of either transaction, so the submit either lands before (saved for that round) or
  after (refused: "round closed", nothing saved; the team submits again for the new round).
Security: the instructor passcode and team tokens are stored hashed; a wrong passcode can do
nothing an instructor can; a team's token reaches only its own plans; other teams' plans are
shown only for revealed rounds; room codes are 6 characters from an alphabet without look-alike
characters, and repeated failed joins from one client are slowed down; every text is
length-limited and the HTML export (``charts.debrief_html``) escapes it.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import os
import secrets
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from crmsim.cases import Case
from crmsim.i18n import Lang, t
from crmsim.plans import LEVERS, Plan, check_plan

SCHEMA_VERSION = 1
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L
CODE_LENGTH = 6
MAX_NAME = 40
MAX_TEAMS = 200
MAX_ROUNDS = 12
FREE_FAILURES = 3  # failed joins before a client has to wait
MAX_WAIT_S = 60.0
PBKDF2_ROUNDS = 120_000
SCORE_KPIS = ("npv", "customer_equity_end", "retention_rate", "avg_satisfaction_end")
DEFAULT_WEIGHTS = {
    "npv": 0.4,
    "customer_equity_end": 0.3,
    "retention_rate": 0.2,
    "avg_satisfaction_end": 0.1,
}
PHASES = ("open", "locked", "revealed", "ended")

metadata = sa.MetaData()
meta_table = sa.Table(
    "crm_meta",
    metadata,
    sa.Column("key", sa.String(40), primary_key=True),
    sa.Column("value", sa.String(200), nullable=False),
)
rooms = sa.Table(
    "crm_rooms",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("code", sa.String(12), nullable=False, unique=True),
    sa.Column("case_json", sa.Text, nullable=False),
    sa.Column("customers", sa.Integer, nullable=False),
    sa.Column("seed", sa.Integer, nullable=False),
    sa.Column("rounds", sa.Integer, nullable=False),
    sa.Column("round_months", sa.Integer, nullable=False),
    sa.Column("weights", sa.Text, nullable=False),
    sa.Column("final_only", sa.Boolean, nullable=False),
    sa.Column("passcode_hash", sa.String(200), nullable=False),
    sa.Column("current_round", sa.Integer, nullable=False),
    sa.Column("phase", sa.String(12), nullable=False),
    sa.Column("revealed_round", sa.Integer, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("changed_at", sa.Float, nullable=False),
)
teams = sa.Table(
    "crm_teams",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("room_id", sa.Integer, sa.ForeignKey("crm_rooms.id"), nullable=False),
    sa.Column("name", sa.String(MAX_NAME), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("joined_at", sa.Float, nullable=False),
    sa.UniqueConstraint("room_id", "name"),
)
plans = sa.Table(
    "crm_plans",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("team_id", sa.Integer, sa.ForeignKey("crm_teams.id"), nullable=False),
    sa.Column("round", sa.Integer, nullable=False),
    sa.Column("plan_json", sa.Text, nullable=False),
    sa.Column("submitted_at", sa.Float, nullable=False),
    sa.UniqueConstraint("team_id", "round"),
)
results = sa.Table(
    "crm_results",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("team_id", sa.Integer, sa.ForeignKey("crm_teams.id"), nullable=False),
    sa.Column("round", sa.Integer, nullable=False),
    sa.Column("kpis_json", sa.Text, nullable=False),
    sa.Column("score", sa.Float, nullable=False),
    sa.UniqueConstraint("team_id", "round"),
)
join_failures = sa.Table(
    "crm_join_failures",
    metadata,
    sa.Column("client", sa.String(64), primary_key=True),
    sa.Column("failures", sa.Integer, nullable=False),
    sa.Column("last_at", sa.Float, nullable=False),
)


class ClassroomError(Exception):
    """A classroom action that cannot be done; ``key`` names the message (``room.err.*``)."""

    def __init__(self, key: str, issues: list | None = None, **params: object):
        self.key, self.params, self.issues = key, params, issues or []
        super().__init__(self.message("en"))

    def message(self, lang: Lang) -> str:
        """The message in ``lang`` (a phase named in it is translated too)."""
        params = dict(self.params)
        if self.issues:  # a plan's own problems, in the same language as the message
            params["detail"] = "; ".join(i.render(lang) for i in self.issues)[:300]
        if "phase" in params:
            params["phase"] = t(f"room.phase_{params['phase']}", lang)
        return t(f"room.err.{self.key}", lang, **params)


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


@dataclass(frozen=True)
class Team:
    id: int
    room_id: int
    name: str


def default_url() -> str:
    """``DATABASE_URL`` (PostgreSQL for several app processes), else an SQLite file in the
    data folder (``CRMLAB_DATA``, default ``./data``)."""
    url = os.environ.get("DATABASE_URL", "").strip()
    if url:
        return url.replace("postgres://", "postgresql+psycopg://", 1).replace(
            "postgresql://", "postgresql+psycopg://", 1
        )
    folder = Path(os.environ.get("CRMLAB_DATA", "data"))
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'classroom.db'}"


def _hash_passcode(passcode: str, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", passcode.encode(), salt, PBKDF2_ROUNDS)
    return f"pbkdf2_sha256${PBKDF2_ROUNDS}${salt.hex()}${digest.hex()}"


def _passcode_ok(passcode: str, stored: str) -> bool:
    """Whether ``passcode`` matches the stored PBKDF2 hash. A match is remembered (by digest,
    never the passcode itself) so an instructor's live view, refreshed every few seconds, does
    not pay the deliberately slow hash again; a wrong passcode always pays it."""
    key = (stored, hashlib.sha256(passcode[:64].encode()).hexdigest())
    if key in _VERIFIED:
        return True
    if _pbkdf2_ok(passcode, stored):
        if len(_VERIFIED) > 1024:
            _VERIFIED.clear()
        _VERIFIED.add(key)
        return True
    return False


_VERIFIED: set[tuple[str, str]] = set()


def _pbkdf2_ok(passcode: str, stored: str) -> bool:
    try:
        _, rounds, salt, digest = stored.split("$")
        got = hashlib.pbkdf2_hmac(
            "sha256", passcode[:64].encode(), bytes.fromhex(salt), int(rounds)
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got.hex(), digest)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token[:100].encode()).hexdigest()


def clean_name(name: str) -> str:
    """A team name as stored: trimmed, control characters removed, at most ``MAX_NAME``."""
    text = "".join(ch for ch in str(name) if unicodedata.category(ch)[0] != "C").strip()
    if not text:
        raise ClassroomError("name_empty")
    if len(text) > MAX_NAME:
        raise ClassroomError("name_too_long", limit=MAX_NAME)
    return text


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalize_code(code: str) -> str:
    return "".join(ch for ch in str(code).upper() if ch.isalnum())[:12]


class Classroom:
    """The classroom store. Thread-safe; several processes may share one database."""

    def __init__(self, url: str | None = None, clock: Callable[[], float] = time.time):
        self.url = url or default_url()
        self.clock = clock
        self.sqlite = self.url.startswith("sqlite")
        kwargs: dict = {"future": True, "pool_pre_ping": True}
        if self.sqlite:
            kwargs["connect_args"] = {"timeout": 30, "check_same_thread": False}
        self.engine = sa.create_engine(self.url, **kwargs)
        if self.sqlite:
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
            # BEGIN IMMEDIATE: a writer takes the lock at the start of its transaction, so
            # "read the room, then write" cannot interleave with another writer.
            sa.event.listen(
                self.engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN IMMEDIATE")
            )
        self._migrate()

    def close(self) -> None:
        self.engine.dispose()

    # -- schema ----------------------------------------------------------------------------
    def _migrate(self) -> None:
        with self.engine.begin() as c:
            metadata.create_all(c)
            row = c.execute(
                sa.select(meta_table.c.value).where(meta_table.c.key == "schema")
            ).first()
            if row is None:
                try:
                    with c.begin_nested():
                        c.execute(
                            meta_table.insert().values(key="schema", value=str(SCHEMA_VERSION))
                        )
                except IntegrityError:
                    pass  # another process created it first
            elif int(row[0]) > SCHEMA_VERSION:
                raise ClassroomError("schema_newer", found=row[0], known=SCHEMA_VERSION)

    def schema_version(self) -> int:
        with self.engine.connect() as c:
            return int(
                c.execute(
                    sa.select(meta_table.c.value).where(meta_table.c.key == "schema")
                ).scalar_one()
            )

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
    ) -> tuple[str, str]:
        """Open a room; returns its code and the instructor passcode (shown once)."""
        if not 1 <= rounds <= MAX_ROUNDS:
            raise ClassroomError("bad_rounds", limit=MAX_ROUNDS)
        if not 1 <= round_months <= 24:
            raise ClassroomError("bad_round_months")
        if not 100 <= customers <= 20_000:
            raise ClassroomError("bad_customers")
        weights = {k: float(v) for k, v in (weights or DEFAULT_WEIGHTS).items() if k in SCORE_KPIS}
        if not weights or any(v < 0 for v in weights.values()) or sum(weights.values()) <= 0:
            raise ClassroomError("bad_weights")
        passcode = "".join(secrets.choice(CODE_ALPHABET) for _ in range(10))
        now = self.clock()
        for _ in range(20):
            code = new_code()
            try:
                with self.engine.begin() as c:
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
                            passcode_hash=_hash_passcode(passcode),
                            current_round=1,
                            phase="open",
                            revealed_round=0,
                            created_at=now,
                            changed_at=now,
                        )
                    )
                return code, passcode
            except IntegrityError:
                continue  # code taken: draw another
        raise ClassroomError("no_code")  # pragma: no cover - 31^6 codes

    def room(self, code: str) -> Room:
        with self.engine.connect() as c:
            row = c.execute(sa.select(rooms).where(rooms.c.code == normalize_code(code))).first()
        if row is None:
            raise ClassroomError("room_not_found")
        return _room(row)

    def _instructor(self, c, code: str, passcode: str, lock: bool = True):
        q = sa.select(rooms).where(rooms.c.code == normalize_code(code))
        if lock and not self.sqlite:
            q = q.with_for_update()
        row = c.execute(q).first()
        if row is None or not _passcode_ok(str(passcode), row.passcode_hash):
            raise ClassroomError("bad_passcode")
        return row

    def check_passcode(self, code: str, passcode: str) -> Room:
        """The room, if ``passcode`` is its instructor's (else ``bad_passcode``)."""
        with self.engine.connect() as c:
            return _room(self._instructor(c, code, passcode, lock=False))

    def _set_phase(self, code: str, passcode: str, allowed: tuple[str, ...], **values) -> Room:
        with self.engine.begin() as c:
            row = self._instructor(c, code, passcode)
            if row.phase not in allowed:
                raise ClassroomError("wrong_phase", phase=row.phase)
            c.execute(
                rooms.update().where(rooms.c.id == row.id).values(changed_at=self.clock(), **values)
            )
        return self.room(code)

    def lock(self, code: str, passcode: str) -> Room:
        """Stop submissions for the current round (before revealing it)."""
        return self._set_phase(code, passcode, ("open",), phase="locked")

    def reopen(self, code: str, passcode: str) -> Room:
        return self._set_phase(code, passcode, ("locked",), phase="open")

    def advance(self, code: str, passcode: str) -> Room:
        """Open the next round (after the current one was revealed)."""
        room = self.check_passcode(code, passcode)
        if room.current_round >= room.rounds:
            raise ClassroomError("last_round")
        return self._set_phase(
            code, passcode, ("revealed",), phase="open", current_round=room.current_round + 1
        )

    def end(self, code: str, passcode: str) -> Room:
        return self._set_phase(code, passcode, PHASES[:3], phase="ended")

    def reveal(self, code: str, passcode: str) -> Room:
        """Close the round, simulate every team's plans so far and publish the results."""
        room = self.check_passcode(code, passcode)
        if room.phase not in ("open", "locked"):
            raise ClassroomError("wrong_phase", phase=room.phase)
        # Close submissions first (in its own short transaction), then simulate outside any
        # lock, then publish. A submit that lands before the close counts; one after is refused.
        self._set_phase(code, passcode, ("open", "locked"), phase="locked")
        r = room.current_round
        rows = self._team_rows(room.id)
        all_plans = self._plans(room.id)
        base = _status_quo_kpis(
            room.case.model_dump_json(), room.customers, room.seed, room.round_months, r
        )
        out = []
        for team in rows:
            schedule = _schedule(room, all_plans.get(team.id, {}), r)
            k = _team_kpis(
                room.case.model_dump_json(),
                room.customers,
                room.seed,
                room.round_months,
                tuple(p.model_dump_json() for p in schedule),
            )
            out.append((team.id, k, score(k, base, room.weights)))
        with self.engine.begin() as c:
            row = self._instructor(c, code, passcode)
            for team_id, k, s in out:
                c.execute(
                    results.delete().where((results.c.team_id == team_id) & (results.c.round == r))
                )
                c.execute(
                    results.insert().values(
                        team_id=team_id, round=r, kpis_json=json.dumps(k), score=s
                    )
                )
            c.execute(
                rooms.update()
                .where(rooms.c.id == row.id)
                .values(phase="revealed", revealed_round=r, changed_at=self.clock())
            )
        return self.room(code)

    # -- teams -----------------------------------------------------------------------------
    def _wait_left(self, c, client: str) -> float:
        row = c.execute(sa.select(join_failures).where(join_failures.c.client == client)).first()
        if row is None or row.failures < FREE_FAILURES:
            return 0.0
        wait = min(2.0 ** (row.failures - FREE_FAILURES), MAX_WAIT_S)
        return max(0.0, row.last_at + wait - self.clock())

    def _failed(self, client: str) -> None:
        now = self.clock()
        with self.engine.begin() as c:
            row = c.execute(
                sa.select(join_failures).where(join_failures.c.client == client)
            ).first()
            if row is None:
                c.execute(join_failures.insert().values(client=client, failures=1, last_at=now))
            else:
                c.execute(
                    join_failures.update()
                    .where(join_failures.c.client == client)
                    .values(failures=row.failures + 1, last_at=now)
                )

    def join(self, code: str, name: str, client: str = "anonymous") -> tuple[Team, str]:
        """Join a room as a team; returns the team and its token (kept by the browser)."""
        client = str(client)[:64]
        with self.engine.connect() as c:
            wait = self._wait_left(c, client)
        if wait > 0:
            raise ClassroomError("slow_down", seconds=f"{wait:.0f}")
        name = clean_name(name)
        token = secrets.token_urlsafe(18)
        try:
            with self.engine.begin() as c:
                row = c.execute(
                    sa.select(rooms).where(rooms.c.code == normalize_code(code))
                ).first()
                if row is None:
                    raise ClassroomError("room_not_found")
                if row.phase == "ended":
                    raise ClassroomError("room_ended")
                n = c.execute(
                    sa.select(sa.func.count()).select_from(teams).where(teams.c.room_id == row.id)
                ).scalar_one()
                if n >= MAX_TEAMS:
                    raise ClassroomError("room_full")
                tid = c.execute(
                    teams.insert().values(
                        room_id=row.id,
                        name=name,
                        token_hash=_token_hash(token),
                        joined_at=self.clock(),
                    )
                ).inserted_primary_key[0]
        except ClassroomError as exc:
            if exc.key == "room_not_found":
                self._failed(client)
            raise
        except IntegrityError:
            raise ClassroomError("name_taken", name=name) from None
        with self.engine.begin() as c:
            c.execute(join_failures.delete().where(join_failures.c.client == client))
        return Team(int(tid), int(row.id), name), token

    def team(self, code: str, token: str) -> Team:
        """The team a token belongs to, in this room (else ``bad_token``)."""
        room = self.room(code)
        with self.engine.connect() as c:
            row = c.execute(
                sa.select(teams).where(
                    (teams.c.token_hash == _token_hash(str(token))) & (teams.c.room_id == room.id)
                )
            ).first()
        if row is None:
            raise ClassroomError("bad_token")
        return Team(row.id, row.room_id, row.name)

    def submit(self, code: str, token: str, plan: Plan, round_no: int) -> None:
        """Save the team's plan for ``round_no`` (the open round); a resubmit replaces it."""
        room = self.room(code)
        team = self.team(code, token)
        _check_room_plan(room, plan)
        body = plan.model_dump_json()
        with self.engine.begin() as c:
            q = sa.select(rooms.c.phase, rooms.c.current_round).where(rooms.c.id == room.id)
            if not self.sqlite:
                q = q.with_for_update()
            phase, current = c.execute(q).one()
            if phase != "open" or current != round_no:
                raise ClassroomError("round_closed", round=round_no)
            done = c.execute(
                plans.update()
                .where((plans.c.team_id == team.id) & (plans.c.round == round_no))
                .values(plan_json=body, submitted_at=self.clock())
            )
            if done.rowcount == 0:
                c.execute(
                    plans.insert().values(
                        team_id=team.id, round=round_no, plan_json=body, submitted_at=self.clock()
                    )
                )

    def my_submission(self, code: str, token: str, round_no: int) -> tuple[Plan, float] | None:
        """The team's plan for a round and when it was submitted (None: not yet)."""
        team = self.team(code, token)
        with self.engine.connect() as c:
            row = c.execute(
                sa.select(plans.c.plan_json, plans.c.submitted_at).where(
                    (plans.c.team_id == team.id) & (plans.c.round == round_no)
                )
            ).first()
        return (Plan.model_validate_json(row[0]), float(row[1])) if row else None

    def my_plan(self, code: str, token: str, round_no: int) -> Plan | None:
        team = self.team(code, token)
        with self.engine.connect() as c:
            body = c.execute(
                sa.select(plans.c.plan_json).where(
                    (plans.c.team_id == team.id) & (plans.c.round == round_no)
                )
            ).scalar_one_or_none()
        return Plan.model_validate_json(body) if body else None

    def revealed_plans(self, code: str, round_no: int) -> dict[str, Plan]:
        """Every team's plan of a round, once the instructor has revealed that round."""
        room = self.room(code)
        if round_no > room.revealed_round:
            raise ClassroomError("not_revealed")
        names = {tm.id: tm.name for tm in self._team_rows(room.id)}
        found = self._plans(room.id)
        return {
            names[tid]: by_round[round_no]
            for tid, by_round in found.items()
            if round_no in by_round
        }

    def all_plans(self, code: str, passcode: str) -> dict[str, dict[int, Plan]]:
        """Every plan of every round (instructor only)."""
        room = self.check_passcode(code, passcode)
        names = {tm.id: tm.name for tm in self._team_rows(room.id)}
        return {names[tid]: by_round for tid, by_round in self._plans(room.id).items()}

    # -- views -----------------------------------------------------------------------------
    def _team_rows(self, room_id: int) -> list:
        with self.engine.connect() as c:
            return list(
                c.execute(sa.select(teams).where(teams.c.room_id == room_id).order_by(teams.c.id))
            )

    def _plans(self, room_id: int) -> dict[int, dict[int, Plan]]:
        with self.engine.connect() as c:
            rows = c.execute(
                sa.select(plans.c.team_id, plans.c.round, plans.c.plan_json)
                .join(teams, teams.c.id == plans.c.team_id)
                .where(teams.c.room_id == room_id)
            )
            out: dict[int, dict[int, Plan]] = {}
            for tid, rnd, body in rows:
                out.setdefault(tid, {})[rnd] = Plan.model_validate_json(body)
        return out

    def status(self, code: str, passcode: str) -> pd.DataFrame:
        """Instructor view: every team, when it joined, whether it submitted this round."""
        room = self.check_passcode(code, passcode)
        with self.engine.connect() as c:
            rows = c.execute(
                sa.select(teams.c.name, teams.c.joined_at, plans.c.submitted_at)
                .select_from(
                    teams.outerjoin(
                        plans,
                        (plans.c.team_id == teams.c.id) & (plans.c.round == room.current_round),
                    )
                )
                .where(teams.c.room_id == room.id)
                .order_by(teams.c.id)
            ).all()
        return pd.DataFrame(rows, columns=["team", "joined_at", "submitted_at"])

    def allocations(self, code: str, passcode: str, round_no: int | None = None) -> pd.DataFrame:
        """Teams × (segment, lever) money of a round's plans (the instructor's heat-map)."""
        room = self.check_passcode(code, passcode)
        r = round_no or room.current_round
        rows = []
        for name, by_round in self.all_plans(code, passcode).items():
            plan = by_round.get(r)
            if plan is None:
                continue
            for seg, lv in plan.allocations.items():
                for lever in LEVERS:
                    rows.append(
                        {
                            "team": name,
                            "segment": seg,
                            "lever": lever,
                            "value": float(getattr(lv, lever)),
                        }
                    )
        return pd.DataFrame(rows, columns=["team", "segment", "lever", "value"])

    def results(self, code: str) -> pd.DataFrame:
        """Published results: one row per team and revealed round (KPIs and score)."""
        room = self.room(code)
        with self.engine.connect() as c:
            rows = c.execute(
                sa.select(teams.c.name, results.c.round, results.c.kpis_json, results.c.score)
                .join(teams, teams.c.id == results.c.team_id)
                .where((teams.c.room_id == room.id) & (results.c.round <= room.revealed_round))
                .order_by(results.c.round, teams.c.id)
            ).all()
        return pd.DataFrame(
            [{"team": n, "round": r, **json.loads(k), "score": s} for n, r, k, s in rows],
            columns=["team", "round", *SCORE_KPIS, "profit", "score"],
        )

    def leaderboard(self, code: str) -> pd.DataFrame:
        """Teams ranked by score: the last revealed round's, or the mean over revealed rounds."""
        room = self.room(code)
        res = self.results(code)
        if res.empty:
            return pd.DataFrame(columns=["rank", "team", "score"])
        if room.final_only:
            board = res[res["round"] == res["round"].max()][["team", "score"]]
        else:
            board = res.groupby("team", sort=False, as_index=False)["score"].mean()
        board = board.sort_values("score", ascending=False).reset_index(drop=True)
        board.insert(0, "rank", range(1, len(board) + 1))
        return board

    # -- debrief ---------------------------------------------------------------------------
    def export_xlsx(self, code: str, passcode: str, lang: Lang | None = None) -> bytes:
        """Debrief workbook: leaderboard, teams × rounds × KPIs, and every plan; sheet names and
        headers in ``lang`` (None: the column keys, for scripts). (The HTML report is
        ``charts.debrief_html``: Plotly stays out of the core.)"""
        self.check_passcode(code, passcode)
        rows = []
        for name, by_round in self.all_plans(code, passcode).items():
            for rnd, plan in sorted(by_round.items()):
                for seg, lv in plan.allocations.items():
                    rows.append({"team": name, "round": rnd, "segment": seg, **lv.model_dump()})
                for ch, money in plan.acquisition.items():
                    rows.append(
                        {"team": name, "round": rnd, "segment": f"acquisition:{ch}", "care": money}
                    )
        sheets = {
            "leaderboard": self.leaderboard(code),
            "results": self.results(code),
            "plans": pd.DataFrame(rows),
        }
        buf = io.BytesIO()
        with pd.ExcelWriter(buf, engine="openpyxl") as xl:
            for name, frame in sheets.items():
                if lang is not None:
                    names = {**column_names(lang), "segment": t("plan_page.segment", lang)}
                    names |= {lv: t(f"lever.{lv}", lang) for lv in LEVERS}
                    frame = frame.rename(columns=names)
                    name = t(f"room.{name}", lang)
                frame.to_excel(xl, sheet_name=name[:31], index=False)
        return buf.getvalue()


def column_names(lang: Lang) -> dict[str, str]:
    """Headers of the results and leaderboard tables in ``lang``."""
    return {
        "rank": "#",
        "team": t("room.teams", lang),
        "round": t("room.round", lang),
        "score": t("room.score", lang),
        **{k: t(f"kpi.{k}", lang) for k in (*SCORE_KPIS, "profit")},
    }


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    dbapi_conn.isolation_level = None  # let SQLAlchemy's "begin" listener issue BEGIN IMMEDIATE
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def _room(row) -> Room:
    return Room(
        id=row.id,
        code=row.code,
        case=_case(row.case_json),
        customers=row.customers,
        seed=row.seed,
        rounds=row.rounds,
        round_months=row.round_months,
        weights=json.loads(row.weights),
        final_only=bool(row.final_only),
        current_round=row.current_round,
        phase=row.phase,
        revealed_round=row.revealed_round,
    )


def _check_room_plan(room: Room, plan: Plan) -> None:
    """A submitted plan must use the room's segmentation and fit the case's budget."""
    from crmsim.segmentation import segment_names

    sq = room.case.status_quo.segmentation
    if (plan.segmentation.method, plan.segmentation.params or {}) != (sq.method, sq.params or {}):
        raise ClassroomError("wrong_segmentation", method=sq.method)
    issues = check_plan(plan, segment_names(sq.method, sq.params) or [], room.case)
    if issues:
        raise ClassroomError("bad_plan", issues=issues)


def _schedule(room: Room, by_round: dict[int, Plan], upto: int) -> list[Plan]:
    """The plan of each round 1…upto: a round without a submission keeps the previous plan
    (the status quo before the first)."""
    out, last = [], room.case.status_quo
    for r in range(1, upto + 1):
        last = by_round.get(r, last)
        out.append(last)
    return out


@lru_cache(maxsize=32)
def _case(case_json: str) -> Case:
    """A room's case, parsed once per process (every page run asks for the room)."""
    return Case.model_validate_json(case_json)


@lru_cache(maxsize=4)
def _population(case_json: str, customers: int, seed: int):
    from crmsim.population import generate

    return generate(_case(case_json), customers, seed=seed)


def _kpis_of(res, case: Case) -> dict:
    from crmsim.metrics import kpis

    k = kpis(res, case)
    return {key: float(k[key]) for key in (*SCORE_KPIS, "profit")}


@lru_cache(maxsize=256)
def _team_kpis(
    case_json: str, customers: int, seed: int, round_months: int, schedule: tuple
) -> dict:
    from crmsim.model.run import simulate_rounds

    case = _case(case_json)
    pop = _population(case_json, customers, seed)
    played = [Plan.model_validate_json(p) for p in schedule]
    return _kpis_of(simulate_rounds(pop, case, played, round_months, seed, sample_size=0), case)


def _status_quo_kpis(
    case_json: str, customers: int, seed: int, round_months: int, rounds: int
) -> dict:
    case = _case(case_json)
    return _team_kpis(
        case_json,
        customers,
        seed,
        round_months,
        tuple([case.status_quo.model_dump_json()] * rounds),
    )


def score(k: dict, base: dict, weights: dict[str, float]) -> float:
    """Balanced scorecard: each KPI against the status quo on the same months (100 = as good
    as the status quo), weighted as the instructor set and showed the class."""
    total = sum(weights.values())
    points = 0.0
    for key, w in weights.items():
        ref = base.get(key) or 0.0
        ratio = k[key] / ref if ref > 0 else (1.0 if k[key] >= ref else 0.0)
        points += w * ratio
    return 100.0 * points / total
