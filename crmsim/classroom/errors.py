"""What can go wrong in the classroom, as message keys the app and the CLI translate.

``ClassroomError`` is an action that cannot be done (a wrong passcode, a closed round);
``StoreError`` is the database failing under it (unreachable, full, read-only, busy). Both
carry a key into the catalogs' ``room.err`` table, so every surface, the instructor's
included, says what happened in the user's language and never shows a traceback or a server
path. The original exception is logged for whoever runs the server.
"""

from __future__ import annotations

import errno
import logging
from collections.abc import Callable

from crmsim.i18n import Lang, t

log = logging.getLogger("crmsim.classroom")


class ClassroomError(Exception):
    """A classroom action that cannot be done; ``key`` names the message (``room.err.*``).

    ``failed`` lists rate-limit counters the failure counts against (see ``limits``); the
    store records them once the transaction that raised has ended."""

    def __init__(self, key: str, issues: list | None = None, **params: object):
        self.key, self.params, self.issues = key, params, issues or []
        self.failed: list[str] = []
        super().__init__(self.message("en"))

    def message(self, lang: Lang, escape: Callable[[str], str] | None = None) -> str:
        """The message in ``lang`` (a phase named in it is translated too); ``escape``
        protects the user's own words in it (a team name) where the text is rendered as
        markdown."""
        params = {
            k: escape(v) if escape and isinstance(v, str) else v for k, v in self.params.items()
        }
        if self.issues:  # a plan's own problems, in the same language as the message
            params["detail"] = "; ".join(i.render(lang) for i in self.issues)[:300]
        if "phase" in params:
            params["phase"] = t(f"room.phase_{params['phase']}", lang)
        return t(f"room.err.{self.key}", lang, **params)


class StoreError(ClassroomError):
    """The classroom database failed: ``db_unreachable``, ``db_full``, ``db_readonly``,
    ``db_busy``, ``db_folder``, ``db_url`` or ``db_failed``."""


# Lower-case fragments of driver messages (SQLite, psycopg/PostgreSQL, the OS) → our key.
# Checked in this order: a full disk often also mentions "could not write".
_PATTERNS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "db_full",
        (
            "database or disk is full",
            "no space left on device",
            "disk full",
            "could not extend file",
            "disk quota exceeded",
        ),
    ),
    (
        "db_readonly",
        (
            "readonly database",
            "read-only",
            "read only",
            "permission denied",
            "operation not permitted",
        ),
    ),
    (
        "db_busy",
        ("database is locked", "lock timeout", "deadlock detected", "database table is locked"),
    ),
    (
        "db_unreachable",
        (
            "unable to open database file",
            "connection refused",
            "could not connect",
            "connection timed out",
            "timeout expired",
            "server closed the connection",
            "terminating connection",
            "no route to host",
            "could not translate host name",
            "name or service not known",
            "the database system is",
            "connection is closed",
            "connection failed",
            "password authentication failed",
            "does not exist",
        ),
    ),
)
_ERRNO_KEYS = {
    errno.ENOSPC: "db_full",
    errno.EDQUOT: "db_full",
    errno.EROFS: "db_readonly",
    errno.EACCES: "db_readonly",
    errno.EPERM: "db_readonly",
}


def store_error(exc: BaseException, where: str = "database") -> StoreError:
    """The ``StoreError`` a driver or OS exception means (logged with its details here, where
    the server's operator reads them; the user gets only the key's message)."""
    key = "db_failed"
    if where == "url":
        key = "db_url"
    elif isinstance(exc, OSError) and exc.errno in _ERRNO_KEYS:
        key = _ERRNO_KEYS[exc.errno]
    elif isinstance(exc, OSError) and where == "folder":
        key = "db_folder"
    else:
        text = " ".join(_chain(exc)).lower()
        for found, fragments in _PATTERNS:
            if any(f in text for f in fragments):
                key = found
                break
    log.warning("classroom %s error (%s): %s", where, key, exc, exc_info=exc)
    return StoreError(key)


def _chain(exc: BaseException | None, depth: int = 0) -> list[str]:
    """The messages of an exception and of those it happened during: SQLite rolls a full
    disk's transaction back by itself, so the error that reaches us is often the failed
    rollback, with the real cause in its context."""
    if exc is None or depth > 5:
        return []
    own = [str(exc), str(getattr(exc, "orig", ""))]
    return own + _chain(exc.__cause__ or exc.__context__, depth + 1)
