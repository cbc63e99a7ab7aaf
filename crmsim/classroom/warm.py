"""Playing a team's round ahead of the reveal, in the background of the process that saved it.

A reveal plays every team's plans (``scoring.play``: 40 teams of 5,000 customers take
1.2–1.6 s of one core), and only then can any tab show a result. The plans are known before:
each submit names the team's schedule of plans so far. So the process that saves a plan hands
that schedule to one background thread, which has it played by the warming worker process
(``crmsim.classroom.worker``: on the machine's other core, not in the interpreter that draws
the pages) into ``scoring``'s per-process cache; a reveal in this process then finds the runs
played and publishes at once. The reveal itself decides what is published (from the plans in
the database, compare-and-set as before): warming only fills a cache, so a plan changed
meanwhile is simply played again.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
from collections import OrderedDict

from crmsim.classroom import scoring
from crmsim.classroom.worker import RunFailed, Worker

log = logging.getLogger(__name__)
GIVE_UP_AFTER = 3  # worker failures in a row before this process plays its runs itself…
RETRY_AFTER_S = 300.0  # …for this long; then the worker is tried again

_worker: Worker | None = None
_worker_lock = threading.Lock()


def shared_worker() -> Worker:
    """This process's one warming worker (every store's warmer shares it; ended at exit)."""
    global _worker
    with _worker_lock:
        if _worker is None:
            _worker = Worker()
            atexit.register(_worker.close)
        return _worker


class Warmer:
    """One daemon thread playing the schedules handed to it, oldest team first, in
    ``worker`` (None: in the thread itself). A team that saves again before its turn keeps
    only its latest schedule."""

    def __init__(self, worker: Worker | None = None) -> None:
        self._jobs: OrderedDict[tuple, tuple] = OrderedDict()  # (room, team) → job, in order
        self._busy: int | None = None  # the room whose schedule is being played
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._worker = worker
        self._failures = 0  # the worker's, in a row
        self._gave_up_at = 0.0  # when the worker was last given up on (monotonic clock)
        self.played = 0  # schedules played (for tests)

    def put(self, room, team_id: int, by_round: dict, upto: int, first: bool = False) -> None:
        """Play ``by_round`` (round → (plan, version)) up to round ``upto`` when there is
        time (``first``: before what is waiting — a reveal is waiting for it); returns at
        once."""
        with self._cond:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="crm-warm", daemon=True)
                self._thread.start()
            self._jobs[(room.id, team_id)] = (room, dict(by_round), upto)
            if first:
                self._jobs.move_to_end((room.id, team_id), last=False)
            self._cond.notify()

    def prime(self, room) -> None:
        """Play the room's status quo of its round (every score needs it): the worker starts
        and builds the room's customers while the class joins, not when the first plans
        come in."""
        self.put(room, 0, {}, max(1, room.current_round))  # team ids start at 1

    def wait(self, room_id: int | None = None, timeout: float = 60.0) -> bool:
        """Until every schedule handed over so far (of room ``room_id`` only, when given: a
        server may hold several classes) has been played — a reveal waits here rather than
        play the same runs a second time; False on timeout."""

        def done() -> bool:
            if room_id is None:
                return not self._jobs and self._busy is None
            return self._busy != room_id and all(r != room_id for r, _ in self._jobs)

        with self._cond:
            return self._cond.wait_for(done, timeout)

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._jobs)
                _, (room, by_round, upto) = self._jobs.popitem(last=False)
                self._busy = room.id
            try:
                self._play(room, by_round, upto)
                self.played += 1
            except Exception:  # a cache left cold only costs the reveal its own run
                log.exception("warming a classroom run failed")
            finally:
                with self._cond:
                    self._busy = None
                    self._cond.notify_all()

    def _play(self, room, by_round: dict, upto: int) -> None:
        """The team's run and the status quo's of the same rounds (every score needs it),
        each unless this process has it already."""
        for key in scoring.runs_needed(room, by_round, upto):
            if scoring.RUNS.get(key) is None:
                played = self._in_worker(key)
                if played is None:
                    scoring.team_run(*key)
                else:
                    scoring.RUNS.put(key, played)

    def _in_worker(self, key: tuple) -> tuple[dict, dict] | None:
        """The run played by the worker; None when there is none to ask or it failed (then
        this thread plays it). After ``GIVE_UP_AFTER`` failures of the worker in a row it is
        not asked for ``RETRY_AFTER_S``; a run that fails in a healthy worker does not count."""
        if self._worker is None:
            return None
        if self._failures >= GIVE_UP_AFTER:
            if time.monotonic() - self._gave_up_at < RETRY_AFTER_S:
                return None
            self._failures = 0
        try:
            played = self._worker.play(key)
        except RunFailed:
            return None
        except Exception as exc:
            self._failures += 1
            if self._failures >= GIVE_UP_AFTER:
                self._gave_up_at = time.monotonic()
            log.warning("the warming worker failed (%s); playing the run here", exc)
            return None
        self._failures = 0
        return played
