"""The warming worker: a process of its own that plays classroom runs for the app process.

An app process is one Python interpreter, and one lock (the GIL) lets one of its threads run
Python at a time. Playing the class's plans in a thread of the app (``crmsim.classroom.warm``)
made every open tab's page wait for the simulations, and the simulations wait for the pages:
a 40-team reveal on a 2-core server waited 3.6–6.6 s for runs that take 1.2–1.6 s of one core.
Played here, on the machine's other core, the runs are ready as the last plans come in, and
the app's interpreter draws pages.

The worker is a Python process of its own (``main``), started on first use. It first says
which code it runs (a fingerprint of the package's files: a worker started after the code on
disk changed would play other runs than the app, so the app then plays them itself), then
reads one run's arguments at a time from its standard input (pickled, with a request number:
it is our own child on a pipe) and writes the run back (``scoring.play_schedule``) with the
same number, and ends when the app process is gone (its input closes). A reply that is not
the answer to the request sent, a worker that dies or does not answer in time is stopped and
started again; one that cannot start leaves the app playing runs in its own thread, as before.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import signal
import subprocess
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the folder holding the crmsim package
RUN_TIMEOUT_S = 30.0  # a run of the largest room takes seconds; a worker stuck longer is killed
START_TIMEOUT_S = 60.0  # importing numpy, pandas and the model on a loaded machine


def code_fingerprint() -> str:
    """The package's Python files as they are on disk (path, size, modification time)."""
    h = hashlib.sha256()
    for f in sorted((ROOT / "crmsim").rglob("*.py")):
        st = f.stat()
        h.update(f"{f.relative_to(ROOT)}:{st.st_size}:{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


CODE = code_fingerprint()  # the code this process loaded (when the classroom was imported)


class WorkerError(RuntimeError):
    """The worker could not play a run (it did not start, it died, it did not answer, or it
    runs other code than the app)."""


class RunFailed(WorkerError):
    """The run itself failed in a healthy worker (the app plays it and says why)."""


class Worker:
    """The one worker process of this app process, played one run at a time."""

    def __init__(self, command: list[str] | None = None) -> None:
        self.command = command or [
            sys.executable,
            "-c",
            "from crmsim.classroom.worker import main; main()",
        ]
        self.played = 0  # runs played by the worker (tests read it)
        self.started = 0  # worker processes started
        self.stale = False  # a worker started after the code on disk changed: never again
        self._proc: subprocess.Popen | None = None
        self._asked = 0  # requests sent to the current process
        self._lock = threading.Lock()

    def play(self, key: tuple, timeout: float = RUN_TIMEOUT_S) -> tuple[dict, dict]:
        """``scoring.play_schedule(*key)``, played in the worker process. A worker that has
        not answered within ``timeout`` seconds is killed (and started again next time)."""
        with self._lock:
            proc = self._running()
            self._asked += 1
            status, value = self._exchange(proc, (self._asked, key), self._asked, timeout)
            if status != "ok":
                raise RunFailed(value)
            self.played += 1
            return value

    def _exchange(self, proc, message, expect, timeout: float) -> tuple[str, object]:
        """Send ``message`` (None: nothing) and read the reply numbered ``expect``."""
        watchdog = threading.Timer(timeout, proc.kill)
        watchdog.start()
        try:
            if message is not None:
                pickle.dump(message, proc.stdin, protocol=pickle.HIGHEST_PROTOCOL)
                proc.stdin.flush()
            reply = pickle.load(proc.stdout)
            if not (isinstance(reply, tuple) and len(reply) == 3 and reply[0] == expect):
                raise WorkerError(f"the worker's reply was not the answer asked for: {reply!r:.80}")
            return reply[1], reply[2]
        except WorkerError:
            self._stop()
            raise
        except Exception as exc:
            late = not watchdog.is_alive()
            self._stop()
            if late:
                raise WorkerError(f"the worker did not answer within {timeout:g} s") from None
            raise WorkerError(f"the worker process ended: {exc!r}") from None
        except BaseException:  # an interrupt: the pipe may be mid-message
            self._stop()
            raise
        finally:
            watchdog.cancel()

    def _running(self) -> subprocess.Popen:
        if self._proc is not None and self._proc.poll() is None:
            return self._proc
        if self.stale:
            raise WorkerError("the code on disk changed since the app started")
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
        except Exception as exc:  # no such program, or sys.executable None
            raise WorkerError(f"the worker process did not start: {exc!r}") from None
        self.started += 1
        self._asked = 0
        _, code = self._exchange(self._proc, None, "hello", START_TIMEOUT_S)
        if code != CODE:
            self.stale = True
            self._stop()
            raise WorkerError("the code on disk changed since the app started")
        return self._proc

    def _stop(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait()
            self._proc = None

    def close(self) -> None:
        """End the worker (its input closes, it ends); kill it if it is stuck in a run."""
        locked = self._lock.acquire(timeout=5)
        try:
            proc, self._proc = self._proc, None
            if proc is not None:
                try:
                    proc.stdin.close()
                    proc.wait(timeout=5)
                except (OSError, subprocess.TimeoutExpired):
                    proc.kill()
                    proc.wait()
        finally:
            if locked:
                self._lock.release()


def main() -> None:
    """Say which code this is, then play runs until the input closes. Only the replies go to
    the pipe: whatever else writes to the output (a print, C code, a child process) goes to
    the error stream, so it cannot break the framing. An interrupt (Ctrl-C in the app's
    terminal) is left to the app: this process ends when its input closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    inp = sys.stdin.buffer
    from crmsim.classroom import scoring

    try:
        _send(out, ("hello", "ok", CODE))
        while True:
            try:
                number, key = pickle.load(inp)
            except EOFError:
                return
            try:
                reply = (number, "ok", scoring.play_schedule(*key))
            except Exception as exc:  # the app plays this run itself and says what went wrong
                reply = (number, "error", f"{type(exc).__name__}: {exc}")
            _send(out, reply)
    except (BrokenPipeError, OSError):  # the app is gone
        return


def _send(out, reply: tuple) -> None:
    pickle.dump(reply, out, protocol=pickle.HIGHEST_PROTOCOL)
    out.flush()


if __name__ == "__main__":
    main()
