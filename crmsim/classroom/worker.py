"""The warming worker: a process of its own that plays classroom runs for the app process.

An app process is one Python interpreter, and one lock (the GIL) lets one of its threads run
Python at a time. Playing the class's plans in a thread of the app (``crmsim.classroom.warm``)
made every open tab's page wait for the simulations, and the simulations wait for the pages:
a 40-team reveal on a 2-core server waited 3.6–6.6 s for runs that take 1.2–1.6 s of one core.
Played here, on the machine's other core, the runs are ready as the last plans come in, and
the app's interpreter draws pages.

The worker is ``python -m crmsim.classroom.worker``, started on first use. It reads one run's
arguments at a time from its standard input (pickled: it is our own child on a pipe) and
writes the run back (``scoring.play_schedule``), and ends when the app process is gone (its
input closes). A worker that dies is started again; one that cannot start leaves the app
playing runs in its own thread, as before.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the folder holding the crmsim package
RUN_TIMEOUT_S = 60.0  # one run of a large room takes seconds; a worker stuck longer is killed


class WorkerError(RuntimeError):
    """The worker could not play a run (it did not start, it died, or the run failed)."""


class Worker:
    """The one worker process of this app process, played one run at a time."""

    def __init__(self, command: list[str] | None = None) -> None:
        self.command = command or [sys.executable, "-m", "crmsim.classroom.worker"]
        self.played = 0  # runs played by the worker (tests read it)
        self.started = 0  # worker processes started
        self._proc: subprocess.Popen | None = None
        self._lock = threading.Lock()

    def play(self, key: tuple, timeout: float = RUN_TIMEOUT_S) -> tuple[dict, dict]:
        """``scoring.play_schedule(*key)``, played in the worker process. A worker that has
        not answered within ``timeout`` seconds is killed (and started again next time)."""
        with self._lock:
            proc = self._running()
            watchdog = threading.Timer(timeout, proc.kill)
            watchdog.start()
            try:
                pickle.dump(key, proc.stdin, protocol=pickle.HIGHEST_PROTOCOL)
                proc.stdin.flush()
                status, value = pickle.load(proc.stdout)
            except (OSError, EOFError, pickle.UnpicklingError) as exc:
                late = not watchdog.is_alive()
                self._stop()
                if late:
                    raise WorkerError(f"the worker did not answer within {timeout:g} s") from None
                raise WorkerError(f"the worker process ended: {exc!r}") from None
            finally:
                watchdog.cancel()
        if status != "ok":
            raise WorkerError(value)
        self.played += 1
        return value

    def _running(self) -> subprocess.Popen:
        if self._proc is not None and self._proc.poll() is None:
            return self._proc
        path = os.environ.get("PYTHONPATH")
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), path]))}
        try:
            self._proc = subprocess.Popen(
                self.command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                cwd=ROOT,
                env=env,
            )
        except OSError as exc:
            raise WorkerError(f"the worker process did not start: {exc!r}") from None
        self.started += 1
        return self._proc

    def _stop(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait()
            self._proc = None

    def close(self) -> None:
        """End the worker (its input closes, it ends)."""
        with self._lock:
            if self._proc is not None:
                try:
                    self._proc.stdin.close()
                    self._proc.wait(timeout=5)
                except (OSError, subprocess.TimeoutExpired):
                    self._proc.kill()
                    self._proc.wait()
                self._proc = None


def main() -> None:
    """Play runs until the input closes. Nothing but the runs goes to the output (a stray
    print would break the pipe's framing): ``sys.stdout`` is the error stream here."""
    from crmsim.classroom import scoring

    inp, out = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr
    while True:
        try:
            key = pickle.load(inp)
        except EOFError:
            return
        try:
            reply = ("ok", scoring.play_schedule(*key))
        except Exception as exc:  # the app plays this run itself and says what went wrong
            reply = ("error", f"{type(exc).__name__}: {exc}")
        pickle.dump(reply, out, protocol=pickle.HIGHEST_PROTOCOL)
        out.flush()


if __name__ == "__main__":
    main()
