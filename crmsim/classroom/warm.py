"""Playing a team's round ahead of the reveal, in the background of the process that saved it.

A reveal plays every team's plans (``scoring.play``: 40 teams of 5,000 customers took
1.5–2 s of one core), and only then can any tab show a result. The plans are known before:
each submit names the team's schedule of plans so far. So the process that saves a plan hands
that schedule to one background thread, which plays it into ``scoring``'s per-process cache;
a reveal in this process then finds most runs already played and publishes at once. The
reveal itself decides what is published (from the plans in the database, compare-and-set as
before): warming only fills a cache, so a plan changed meanwhile is simply played again.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict

from crmsim.classroom import scoring

log = logging.getLogger(__name__)


class Warmer:
    """One daemon thread playing the schedules handed to it, oldest team first. A team that
    saves again before its turn keeps only its latest schedule."""

    def __init__(self) -> None:
        self._jobs: OrderedDict[tuple, tuple] = OrderedDict()  # (room, team) → job, in order
        self._busy = False
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self.played = 0  # schedules played (for tests)

    def put(self, room, team_id: int, by_round: dict, upto: int) -> None:
        """Play ``by_round`` (round → (plan, version)) up to round ``upto`` when there is
        time; returns at once."""
        with self._cond:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="crm-warm", daemon=True)
                self._thread.start()
            self._jobs[(room.id, team_id)] = (room, dict(by_round), upto)
            self._cond.notify()

    def wait(self, timeout: float = 60.0) -> bool:
        """Until every schedule handed over so far has been played (a reveal waits here
        rather than play the same runs a second time on the same core); False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._jobs and not self._busy, timeout)

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._jobs)
                _, (room, by_round, upto) = self._jobs.popitem(last=False)
                self._busy = True
            try:
                scoring.play(room, by_round, upto)
                self.played += 1
            except Exception:  # a cache left cold only costs the reveal its own run
                log.exception("warming a classroom run failed")
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()
