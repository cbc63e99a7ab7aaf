"""What this process has already worked out from a room at one version of it.

Every change anyone else should see bumps the room's version (a round's phase, a reveal, a
team renamed, removed or merged), so what is read from a room's published results — the
results table, the leaderboard, a team's own rounds, the plans of a revealed round — is the
same for as long as the version is. Forty open tabs redrawing after a reveal then read and
parse the results once, not forty times. Other processes on the same database bump the same
version, so a copy here is never stale longer than the version read that asks for it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TypeVar

T = TypeVar("T")


class Memo:
    """A small least-recently-used store of values by key (thread-safe). A value is worked
    out outside the lock, so two threads may both work one out; the last one is kept."""

    def __init__(self, size: int = 512):
        self.size = size
        self._values: OrderedDict[Hashable, object] = OrderedDict()
        self._lock = threading.Lock()
        self.misses = 0  # values worked out (for tests: a second ask is not a miss)

    def get(self, key: Hashable, make: Callable[[], T]) -> T:
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key]  # type: ignore[return-value]
        value = make()
        with self._lock:
            self.misses += 1
            self._values[key] = value
            while len(self._values) > self.size:
                self._values.popitem(last=False)
        return value
