"""The classroom's tables (SQLAlchemy Core) and the migration from older schema versions.

Schema 2 (this version) adds to schema 1: a version counter on each room (every change of
round or phase bumps it, and reveal, advance and reopen compare it before they write), the
instructor link's hash, deadlines, a practice round, a team cap and a join lock, the answer
key switch; team states (reserved for a roster label, active, removed, merged), the
normalised name key that keeps look-alike names apart, PINs, last-seen and editing times;
extra seats (one per device that rejoined a team); a version on every plan; the monthly
series and the plan version behind each published result. A schema-1 database is upgraded in
place on first use, keeping every room, team, plan and result.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

from crmsim.classroom.errors import ClassroomError

SCHEMA_VERSION = 2

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
    # schema 2
    sa.Column("version", sa.Integer, nullable=False, server_default="0"),
    sa.Column("admin_hash", sa.String(64), nullable=True),
    sa.Column("deadline_at", sa.Float, nullable=True),
    sa.Column("practice", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("max_teams", sa.Integer, nullable=False, server_default="60"),
    sa.Column("join_locked", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("roster", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("key_revealed", sa.Boolean, nullable=False, server_default=sa.false()),
)
teams = sa.Table(
    "crm_teams",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("room_id", sa.Integer, sa.ForeignKey("crm_rooms.id"), nullable=False),
    sa.Column("name", sa.String(40), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),  # its first seat
    sa.Column("joined_at", sa.Float, nullable=False),
    sa.UniqueConstraint("room_id", "name"),
    # schema 2
    sa.Column("name_key", sa.String(160), nullable=True),  # None once removed or merged
    sa.Column("state", sa.String(12), nullable=False, server_default="active"),
    sa.Column("pin", sa.String(12), nullable=True),
    sa.Column("merged_into", sa.Integer, nullable=True),
    sa.Column("last_seen", sa.Float, nullable=True),
    sa.Column("editing_at", sa.Float, nullable=True),
    sa.Index("ix_crm_teams_name_key", "room_id", "name_key", unique=True),
)
seats = sa.Table(
    "crm_seats",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("team_id", sa.Integer, sa.ForeignKey("crm_teams.id"), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", sa.Float, nullable=False),
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
    # schema 2
    sa.Column("version", sa.Integer, nullable=False, server_default="1"),
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
    # schema 2
    sa.Column("series_json", sa.Text, nullable=True),
    sa.Column("played", sa.String(400), nullable=True),  # plan round/version of each round
)
join_failures = sa.Table(  # rate-limit counters (see ``limits``), named as in schema 1
    "crm_join_failures",
    metadata,
    sa.Column("client", sa.String(64), primary_key=True),
    sa.Column("failures", sa.Integer, nullable=False),
    sa.Column("last_at", sa.Float, nullable=False),
)

# Columns schema 2 added to tables schema 1 already had (ALTER TABLE ... ADD COLUMN).
_ADDED = {
    "crm_rooms": (
        "version",
        "admin_hash",
        "deadline_at",
        "practice",
        "max_teams",
        "join_locked",
        "roster",
        "key_revealed",
    ),
    "crm_teams": ("name_key", "state", "pin", "merged_into", "last_seen", "editing_at"),
    "crm_plans": ("version",),
    "crm_results": ("series_json", "played"),
}


def upgrade_1_to_2(c, name_key: Callable[[str], str]) -> None:
    """Add schema 2's columns and index to a schema-1 database, filling the team name keys
    (two schema-1 names with one key keep apart by their id)."""
    dialect = c.dialect
    have = {t: {col["name"] for col in sa.inspect(c).get_columns(t)} for t in _ADDED}
    for table_name, names in _ADDED.items():
        table = metadata.tables[table_name]
        for name in names:
            if name in have[table_name]:
                continue
            col = table.c[name]
            ddl = f"{col.type.compile(dialect)}"
            if col.server_default is not None:
                default = col.server_default.arg
                text = default if isinstance(default, str) else default.compile(dialect=dialect)
                ddl += f" NOT NULL DEFAULT {_literal(text, col.type)}"
            c.exec_driver_sql(f"ALTER TABLE {table_name} ADD COLUMN {name} {ddl}")
    seen: set[tuple[int, str]] = set()
    for tid, room_id, name in c.execute(
        sa.select(teams.c.id, teams.c.room_id, teams.c.name).order_by(teams.c.id)
    ):
        try:
            key = name_key(name)
        except ClassroomError:  # a schema-1 name today's rules refuse (empty, longer after NFKC)
            key = f"#{tid}"
        if (room_id, key) in seen:
            key = f"{key}#{tid}"
        seen.add((room_id, key))
        c.execute(teams.update().where(teams.c.id == tid).values(name_key=key))
    for index in teams.indexes:
        index.create(c, checkfirst=True)


def _literal(text: str, type_) -> str:
    if isinstance(type_, sa.Boolean):
        return str(text)
    if isinstance(type_, (sa.Integer, sa.Float)):
        return str(text)
    return f"'{text}'"
