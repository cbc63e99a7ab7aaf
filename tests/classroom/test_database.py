"""The database under the classroom: failures worded as what they are, in both languages and
without server details; SQLite reads that never wait for a writer; and the upgrade of a
schema-1 database in place."""

import sqlite3

import pytest
import sqlalchemy as sa

from crmsim.classroom import Classroom, ClassroomError, StoreError
from crmsim.classroom.errors import store_error
from crmsim.classroom.names import hash_passcode, token_hash
from tests.classroom.conftest import empty_postgres
from tests.classroom.helpers import care_plan, open_room


def _key(fn, *args, **kw) -> StoreError:
    with pytest.raises(StoreError) as info:
        fn(*args, **kw)
    return info.value


def test_a_full_disk_is_said_to_be_full(tmp_path, case):
    store = Classroom(f"sqlite:///{tmp_path / 'c.db'}")
    code, _ = open_room(store, case)
    with store.engine.connect() as c:
        pages = c.exec_driver_sql("PRAGMA page_count").scalar()
    store.engine.dispose()
    sa.event.listen(
        store.engine,
        "connect",
        lambda conn, _r: conn.execute(f"PRAGMA max_page_count = {pages}"),
    )
    with pytest.raises(StoreError) as info:
        for i in range(10_000):  # fill the few free pages left
            store.join(code, f"team {i}")
    err = info.value
    assert err.key == "db_full"
    assert "已满" in err.message("zh") and "no space left" in err.message("en")
    assert str(tmp_path) not in err.message("en")
    store.close()


def test_a_read_only_database_is_said_to_be_read_only(url, case):
    store = Classroom(url)
    code, _ = open_room(store, case)
    store.engine.dispose()
    statement = (
        "PRAGMA query_only = ON" if store.sqlite else "SET default_transaction_read_only = on"
    )

    def read_only(conn, _record):
        cur = conn.cursor()
        cur.execute(statement)
        cur.close()
        if not store.sqlite:
            conn.commit()  # a SET inside a transaction that is rolled back would not stay

    sa.event.listen(store.engine, "connect", read_only)
    err = _key(store.join, code, "A")
    assert err.key == "db_readonly" and "只读" in err.message("zh")
    assert store.room(code).code == code  # reading still works
    store.close()


def test_an_unreachable_server_is_said_to_be_unreachable():
    err = _key(Classroom, "postgresql+psycopg://nobody:x@127.0.0.1:1/none")
    assert err.key == "db_unreachable"
    assert "127.0.0.1" not in err.message("en") and "无法连接" in err.message("zh")


def test_an_uncreatable_data_folder_is_said_so(tmp_path, monkeypatch):
    blocker = tmp_path / "a file"
    blocker.write_text("not a folder")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("CRMLAB_DATA", str(blocker / "data"))
    err = _key(Classroom)
    assert err.key == "db_folder" and str(tmp_path) not in err.message("en")


def test_a_bad_database_address_is_said_so():
    assert _key(Classroom, "nonsense://").key == "db_url"


@pytest.mark.parametrize(
    ("message", "key"),
    [
        ('could not extend file "base/16384/2619": No space left on device', "db_full"),
        ("database or disk is full", "db_full"),
        ("cannot execute INSERT in a read-only transaction", "db_readonly"),
        ("attempt to write a readonly database", "db_readonly"),
        ("database is locked", "db_busy"),
        ("canceling statement due to lock timeout", "db_busy"),
        ("server closed the connection unexpectedly", "db_unreachable"),
        ("something else entirely", "db_failed"),
    ],
)
def test_driver_messages_map_to_what_happened(message, key):
    assert store_error(sa.exc.OperationalError("stmt", {}, Exception(message))).key == key


def test_sqlite_reads_never_wait_for_a_writer(tmp_path, case):
    path = tmp_path / "c.db"
    store = Classroom(f"sqlite:///{path}", busy_timeout=0.3)
    code, pw = open_room(store, case)
    _, token = store.join(code, "A")
    outside = sqlite3.connect(path, isolation_level=None)
    outside.execute("BEGIN IMMEDIATE")  # someone else holds the write lock
    try:
        assert store.room(code).code == code
        assert store.leaderboard(code).empty and store.my_plan(code, token, 1) is None
        assert list(store.status(code, pw)["team"]) == ["A"]
        err = _key(store.submit, code, token, care_plan(case, 1.1), 1)
        assert err.key == "db_busy"  # a write waits, then says "busy", not a traceback
    finally:
        outside.execute("ROLLBACK")
        outside.close()
    assert store.submit(code, token, care_plan(case, 1.1), 1) == 1
    with store.engine.connect() as c:
        assert c.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    store.close()


# -- schema 1 → 2 -------------------------------------------------------------------------
V1_DDL = [
    "CREATE TABLE crm_meta (key VARCHAR(40) PRIMARY KEY, value VARCHAR(200) NOT NULL)",
    """CREATE TABLE crm_rooms (id INTEGER PRIMARY KEY {auto}, code VARCHAR(12) NOT NULL UNIQUE,
    case_json TEXT NOT NULL, customers INTEGER NOT NULL, seed INTEGER NOT NULL,
    rounds INTEGER NOT NULL, round_months INTEGER NOT NULL, weights TEXT NOT NULL,
    final_only BOOLEAN NOT NULL, passcode_hash VARCHAR(200) NOT NULL,
    current_round INTEGER NOT NULL, phase VARCHAR(12) NOT NULL, revealed_round INTEGER NOT NULL,
    created_at FLOAT NOT NULL, changed_at FLOAT NOT NULL)""",
    """CREATE TABLE crm_teams (id INTEGER PRIMARY KEY {auto},
    room_id INTEGER NOT NULL REFERENCES crm_rooms(id), name VARCHAR(40) NOT NULL,
    token_hash VARCHAR(64) NOT NULL UNIQUE, joined_at FLOAT NOT NULL, UNIQUE (room_id, name))""",
    """CREATE TABLE crm_plans (id INTEGER PRIMARY KEY {auto},
    team_id INTEGER NOT NULL REFERENCES crm_teams(id), round INTEGER NOT NULL,
    plan_json TEXT NOT NULL, submitted_at FLOAT NOT NULL, UNIQUE (team_id, round))""",
    """CREATE TABLE crm_results (id INTEGER PRIMARY KEY {auto},
    team_id INTEGER NOT NULL REFERENCES crm_teams(id), round INTEGER NOT NULL,
    kpis_json TEXT NOT NULL, score FLOAT NOT NULL, UNIQUE (team_id, round))""",
    """CREATE TABLE crm_join_failures (client VARCHAR(64) PRIMARY KEY,
    failures INTEGER NOT NULL, last_at FLOAT NOT NULL)""",
]


def _schema_1(url: str, case) -> None:
    """A database as CRM Lab 1 left it: one room in round 1 with three teams (two of them
    with names that are one name today) and a plan."""
    engine = sa.create_engine(url)
    auto = "" if url.startswith("sqlite") else "GENERATED BY DEFAULT AS IDENTITY"
    with engine.begin() as c:
        for ddl in V1_DDL:
            c.execute(sa.text(ddl.replace("PRIMARY KEY {auto}", f"{auto} PRIMARY KEY")))
        c.execute(sa.text("INSERT INTO crm_meta VALUES ('schema', '1')"))
        room = c.execute(
            sa.text(
                "INSERT INTO crm_rooms (code, case_json, customers, seed, rounds, round_months,"
                " weights, final_only, passcode_hash, current_round, phase, revealed_round,"
                " created_at, changed_at) VALUES ('ABCDEF', :case, 600, 5, 3, 4,"
                " '{\"npv\": 1.0}', false, :pw, 1, 'open', 0, 1.0, 1.0) RETURNING id"
            ),
            {"case": case.model_dump_json(), "pw": hash_passcode("OLDPASS")},
        ).scalar_one()
        ids = {}
        for n, name in ((1, "Team A"), (2, "team a"), (3, "Beta")):
            ids[n] = c.execute(
                sa.text(
                    "INSERT INTO crm_teams (room_id, name, token_hash, joined_at)"
                    " VALUES (:room, :name, :h, 1.0) RETURNING id"
                ),
                {"room": room, "name": name, "h": token_hash(f"token{n}")},
            ).scalar_one()
        c.execute(
            sa.text(
                "INSERT INTO crm_plans (team_id, round, plan_json, submitted_at)"
                " VALUES (:team, 1, :body, 2.0)"
            ),
            {"team": ids[3], "body": care_plan(case, 1.1).model_dump_json()},
        )
    engine.dispose()


@pytest.fixture
def old_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'v1.db'}"
    return empty_postgres()


@pytest.mark.parametrize("old_url", ["sqlite", "postgresql"], indirect=True)
def test_a_schema_1_database_is_upgraded_keeping_everything(old_url, case):
    _schema_1(old_url, case)
    store = Classroom(old_url)
    assert store.schema_version() == 2
    room = store.room("ABCDEF")
    assert (room.current_round, room.phase, room.version, room.max_teams) == (1, "open", 0, 60)
    assert store.team("ABCDEF", "token3").name == "Beta"
    assert store.my_submission("ABCDEF", "token3", 1).version == 1
    assert list(store.status("ABCDEF", "OLDPASS")["team"]) == ["Team A", "team a", "Beta"]
    with pytest.raises(ClassroomError) as info:
        store.join("ABCDEF", "TEAM A")  # the old twins stay, a third is refused
    assert info.value.key == "name_taken"
    store.submit("ABCDEF", "token1", care_plan(case, 0.9), 1)
    store.reveal("ABCDEF", "OLDPASS", 1)
    assert len(store.results("ABCDEF")) == 3
    store.close()
    assert Classroom(old_url).schema_version() == 2  # a second start changes nothing
