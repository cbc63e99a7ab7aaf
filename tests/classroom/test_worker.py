"""The warming worker process: it plays exactly the run the app would, survives being killed,
and when it cannot help the app plays its runs itself."""

import sys
from pathlib import Path

import pytest

from crmsim.cases import load_case
from crmsim.classroom import scoring, warm
from crmsim.classroom.worker import ROOT, Worker, WorkerError

from .helpers import care_plan


@pytest.fixture(scope="module")
def case():
    return load_case("telecom")


def key(case, *cares: float) -> tuple:
    """A small room's schedule: one plan per round (600 customers, seed 5, 4-month rounds)."""
    plans = tuple(care_plan(case, c).model_dump_json() for c in cares)
    return (case.model_dump_json(), 600, 5, 4, plans)


@pytest.fixture
def worker():
    found = Worker()
    yield found
    found.close()


def test_the_worker_plays_exactly_the_run_this_process_would(case, worker):
    for cares in [(0.8,), (1.3, 0.6)]:
        k = key(case, *cares)
        assert worker.play(k) == scoring.play_schedule(*k)
    assert (worker.played, worker.started) == (2, 1)  # one process for both runs


def test_a_killed_worker_is_started_again(case, worker):
    k = key(case, 0.9)
    first = worker.play(k)
    worker._proc.kill()
    worker._proc.wait()
    assert worker.play(k) == first
    assert worker.started == 2


def test_a_run_that_fails_says_why_and_the_worker_goes_on(case, worker):
    bad = (*key(case, 1.0)[:4], ("not a plan",))
    with pytest.raises(WorkerError, match="ValidationError"):
        worker.play(bad)
    assert worker.play(key(case, 1.1)) == scoring.play_schedule(*key(case, 1.1))
    assert worker.started == 1


def test_a_worker_that_cannot_start_says_so():
    with pytest.raises(WorkerError, match="did not start"):
        Worker(["/no/such/python"]).play(("x",))
    with pytest.raises(WorkerError, match="did not start"):  # sys.executable may be None
        Worker([None, "-c", "pass"]).play(("x",))


def _fake(body: str) -> list[str]:
    """A worker command that says hello with this code's fingerprint, then runs ``body``."""
    return [
        sys.executable,
        "-c",
        "import pickle, sys\n"
        "from crmsim.classroom.worker import CODE\n"
        "out = sys.stdout.buffer\n"
        "pickle.dump(('hello', 'ok', CODE), out); out.flush()\n" + body,
    ]


def test_a_reply_to_another_request_stops_the_worker(case):
    """A pipe out of step would cache one run's result under another's key."""
    liar = Worker(
        _fake(
            "while True:\n"
            "    n, key = pickle.load(sys.stdin.buffer)\n"
            "    pickle.dump((n + 1, 'ok', ({}, {})), out); out.flush()\n"
        )
    )
    with pytest.raises(WorkerError, match="not the answer asked for"):
        liar.play(key(case, 1.0))
    assert liar._proc is None  # stopped: the next run starts a new one


def test_a_worker_running_other_code_is_not_used(case):
    """A worker started after the code on disk changed would play other runs than the app."""
    other = Worker([sys.executable, "-c", _fake("")[2].replace("CODE)", "'changed')")])
    with pytest.raises(WorkerError, match="code on disk changed"):
        other.play(key(case, 1.0))
    with pytest.raises(WorkerError, match="code on disk changed"):
        other.play(key(case, 1.0))
    assert (other.stale, other.started) == (True, 1)  # not started again


def test_a_worker_that_does_not_answer_is_killed(case):
    stuck = Worker(_fake("import time\ntime.sleep(60)\n"))
    with pytest.raises(WorkerError, match=r"did not answer within 0\.5 s"):
        stuck.play(key(case, 1.0), timeout=0.5)
    assert stuck._proc is None  # killed, started again on the next run


def test_stray_output_in_the_worker_does_not_reach_the_pipe(case):
    """A print, or C code writing to the process's output, goes to the error stream."""
    noisy = Worker(
        [
            sys.executable,
            "-c",
            "import os\n"
            "from crmsim.classroom import scoring, worker\n"
            "real = scoring.play_schedule\n"
            "def play(*a):\n"
            "    os.write(1, b'N.')\n"
            "    print('stray')\n"
            "    return real(*a)\n"
            "scoring.play_schedule = play\n"
            "worker.main()\n",
        ]
    )
    try:
        for care in (0.93, 0.94):
            assert noisy.play(key(case, care)) == scoring.play_schedule(*key(case, care))
    finally:
        noisy.close()


def test_a_worker_that_dies_at_once_says_so(case):
    with pytest.raises(WorkerError, match="ended"):
        Worker([sys.executable, "-c", "pass"]).play(key(case, 1.0))


def test_the_warmer_plays_the_runs_itself_when_the_worker_fails(case, tmp_path, monkeypatch):
    from crmsim.classroom import Classroom

    from .helpers import open_room

    store = Classroom(f"sqlite:///{tmp_path / 'c.db'}")
    code, _ = open_room(store, case)
    room = store.room(code)
    broken = Worker([sys.executable, "-c", "pass"])
    warmer = warm.Warmer(broken)
    monkeypatch.setattr(scoring, "RUNS", scoring.RunCache())
    cares = [0.7, 0.75, 0.8, 0.85, 0.9]
    for team, care in enumerate(cares):
        warmer.put(room, team, {1: (care_plan(case, care), 1)}, 1)
        assert warmer.wait(timeout=60)
    assert warmer.played == len(cares)
    assert broken.started == warm.GIVE_UP_AFTER  # then it was no longer asked
    assert scoring.RUNS.played == len(cares) + 1  # each team's run and the status quo's
    for care in cares:  # every run is in the cache, as the worker would have left it
        k = scoring.run_key(room, [care_plan(case, care)])
        assert scoring.RUNS.get(k) == scoring.play_schedule(*k)
    store.close()


def test_the_run_cache_keeps_the_newest_runs():
    runs = scoring.RunCache(size=2)
    for i in range(3):
        runs.put(("k", i), ({"i": i}, {}))
    runs.get(("k", 1))  # read: now the newest
    runs.put(("k", 3), ({}, {}))
    assert runs.get(("k", 0)) is None and runs.get(("k", 2)) is None
    assert runs.get(("k", 1)) == ({"i": 1}, {})


def test_the_worker_ends_when_the_app_process_is_killed(case, tmp_path):
    """No worker outlives its app process, even one killed with -9 (its input closes)."""
    import os
    import signal
    import subprocess
    import time

    script = tmp_path / "parent.py"
    script.write_text(
        "import sys, time\n"
        "from crmsim.classroom.worker import Worker\n"
        "w = Worker()\n"
        "w.play(tuple(eval(sys.argv[1])))\n"
        "print(w._proc.pid, flush=True)\n"
        "time.sleep(600)\n"
    )
    parent = subprocess.Popen(
        [sys.executable, str(script), repr(key(case, 1.05))],
        stdout=subprocess.PIPE,
        text=True,
        cwd=str(tmp_path),
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    pid = int(parent.stdout.readline())
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()

    def ended() -> bool:  # gone, or a zombie its new parent has not reaped yet
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except FileNotFoundError:
            return True
        return "\nState:\tZ" in status

    for _ in range(100):
        if ended():
            break
        time.sleep(0.1)
    assert ended()


def test_a_reveal_waits_for_its_own_room_only_and_goes_first(monkeypatch):
    """A server may hold several classes: a reveal's schedules go before another room's
    backlog, and it waits for its own room's runs only."""
    import threading
    import time
    from types import SimpleNamespace

    order, release = [], threading.Event()

    def play(self, room, by_round, upto):
        order.append((room.id, by_round["team"]))
        if len(order) == 1:
            assert release.wait(10)  # the first job holds the thread until released
        else:
            time.sleep(0.05)

    monkeypatch.setattr(warm.Warmer, "_play", play)
    warmer = warm.Warmer(None)
    busy, mine = SimpleNamespace(id=1), SimpleNamespace(id=2)
    for team in range(8):  # another class's backlog
        warmer.put(busy, team, {"team": team}, 1)
    while not order:
        time.sleep(0.01)
    for team in (100, 101):
        warmer.put(mine, team, {"team": team}, 1, first=True)
    release.set()
    assert warmer.wait(room_id=2, timeout=10)
    assert order[:3] == [(1, 0), (2, 101), (2, 100)]  # right after the one being played
    assert len(order) < 8 + 2  # the other room's runs were not all waited for
    assert warmer.wait(timeout=10) and len(order) == 8 + 2
