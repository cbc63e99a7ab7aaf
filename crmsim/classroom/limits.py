"""Rate limits: counters of failed attempts (and of joins) with an exponential wait.

A counter is a row keyed by what it counts and whose it is: ``join:s:<session>`` (a browser
session's failed joins), ``join:a:<address>`` (an address's, only when the address can be
trusted), ``pass:r:<room>`` (wrong passcodes for one room from anyone), ``pin:t:<team>``
(wrong PINs for one team), ``joined:s:<session>`` (teams one session made). After ``free``
counts each further attempt waits 1, 2, 4 … ``max_wait`` seconds; a counter left alone for
``forget`` seconds starts again from zero. A refused attempt is refused before any expensive
check (a passcode's PBKDF2) and without writing, so a flood costs the server one read each.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from crmsim.classroom.schema import join_failures as counters


@dataclass(frozen=True)
class Rule:
    free: int
    max_wait: float = 60.0
    forget: float = 900.0

    def wait(self, count: int, last_at: float, now: float) -> float:
        """Seconds still to wait after ``count`` counted attempts, the last at ``last_at``."""
        if now - last_at > self.forget or count < self.free:
            return 0.0
        return max(0.0, last_at + min(2.0 ** (count - self.free), self.max_wait) - now)


JOIN_FAILURES = Rule(free=3)  # unknown room codes, wrong PINs, per session and address
PASSCODE_FAILURES = Rule(free=3)  # wrong passcodes per session and address
ROOM_PASSCODE_FAILURES = Rule(free=10)  # wrong passcodes for one room from anyone
TEAM_PIN_FAILURES = Rule(free=5)  # wrong PINs for one team from anyone
JOINS_PER_SESSION = Rule(free=6, max_wait=600.0, forget=3600.0)  # teams one session makes


@dataclass(frozen=True)
class Client:
    """Who acts, for rate limits: a browser session's id and, when it can be trusted, the
    address it connects from (empty when not known)."""

    session: str = ""
    address: str = ""

    def keys(self, what: str, address: bool = True) -> list[str]:
        """The counters an attempt counts against: the session's, and the address's unless
        ``address`` is False (a whole class may share one school address)."""
        out = []
        if self.session:
            out.append(f"{what}:s:{self.session}"[:64])
        if self.address and address:
            out.append(f"{what}:a:{self.address}"[:64])
        return out


def as_client(client: Client | str | None) -> Client:
    """A ``Client`` from what callers pass (a bare string is an address, as before v2)."""
    if isinstance(client, Client):
        return client
    return Client(address=str(client)[:45]) if client else Client()


def wait_left(c, keys: list[str], rule: Rule, now: float) -> float:
    """The longest wait any of ``keys`` is under (0: go ahead)."""
    if not keys:
        return 0.0
    rows = c.execute(
        sa.select(counters.c.failures, counters.c.last_at).where(counters.c.client.in_(keys))
    ).all()
    return max((rule.wait(n, last, now) for n, last in rows), default=0.0)


def count(c, keys: list[str], now: float, forget: float = 900.0) -> None:
    """Add one to each counter (a counter idle longer than ``forget`` starts again at 1)."""
    for key in dict.fromkeys(keys):
        row = c.execute(
            sa.select(counters.c.failures, counters.c.last_at).where(counters.c.client == key)
        ).first()
        if row is None:
            c.execute(counters.insert().values(client=key, failures=1, last_at=now))
        else:
            n = 1 if now - row.last_at > forget else row.failures + 1
            c.execute(
                counters.update().where(counters.c.client == key).values(failures=n, last_at=now)
            )


def clear(c, keys: list[str]) -> None:
    if keys:
        c.execute(counters.delete().where(counters.c.client.in_(keys)))
