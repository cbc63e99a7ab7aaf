"""Connecting to the classroom database: an SQLite file (the embedded default) or PostgreSQL
(which several app processes can share).

SQLite runs in WAL mode with a busy timeout. A writer takes the write lock when its
transaction begins (``BEGIN IMMEDIATE``, so "read the room, then write" cannot interleave with
another writer); a plain read begins a deferred transaction, which in WAL mode reads a
snapshot and never waits for a writer, so a page view never waits for a submit.
"""

from __future__ import annotations

import os
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from crmsim.classroom.errors import store_error


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


def make_engine(url: str, busy_timeout: float) -> sa.Engine:
    """The engine for ``url`` (``busy_timeout``: seconds an SQLite writer waits for the lock);
    an address SQLAlchemy cannot use is a ``StoreError`` ("url")."""
    kwargs: dict = {"pool_pre_ping": True}
    sqlite = url.startswith("sqlite")
    if sqlite:
        kwargs["connect_args"] = {"timeout": busy_timeout, "check_same_thread": False}
    elif url.startswith("postgresql"):
        kwargs["connect_args"] = {"connect_timeout": 5}
    try:
        engine = sa.create_engine(url, **kwargs)
    except (ArgumentError, NoSuchModuleError, ValueError) as exc:
        raise store_error(exc, "url") from None
    if sqlite:
        wait_ms = int(busy_timeout * 1000)
        sa.event.listen(engine, "connect", lambda conn, _r: _sqlite_pragmas(conn, wait_ms))
        sa.event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_pragmas(dbapi_conn, busy_ms: int) -> None:
    dbapi_conn.isolation_level = None  # transactions are begun by ``_sqlite_begin``
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute(f"PRAGMA busy_timeout={int(busy_ms)}")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def _sqlite_begin(conn) -> None:
    """Writers take the write lock when they begin; readers begin a plain (deferred)
    transaction, which in WAL mode reads a snapshot and never waits for a writer."""
    read = conn.get_execution_options().get("crm_read", False)
    conn.exec_driver_sql("BEGIN" if read else "BEGIN IMMEDIATE")
