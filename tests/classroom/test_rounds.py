"""Rounds that can't be corrupted: two instructor sessions (two stores on one database, as two
app processes are) racing each other and late submits, on SQLite and on PostgreSQL. A reveal
is held in the middle of its runs (between closing the round and publishing) while the other
session acts; whatever it does, what gets published is the plans that are saved, and no
round is skipped."""

import threading

import pytest

from crmsim.classroom import Classroom, ClassroomError, scoring
from crmsim.plans import preset_plan
from tests.classroom.helpers import care_plan, open_room


class HeldReveal:
    """Runs ``store.reveal`` in a thread that stops inside its simulations until released."""

    def __init__(self, monkeypatch, store, code, passcode, round_no):
        self.inside, self.release = threading.Event(), threading.Event()
        self.outcome: dict = {}
        real = scoring.play

        def play(*args, **kw):
            if threading.current_thread().name == "held-reveal":
                self.inside.set()
                assert self.release.wait(60)
            return real(*args, **kw)

        monkeypatch.setattr(scoring, "play", play)

        def run():
            try:
                self.outcome["room"] = store.reveal(code, passcode, round_no)
            except ClassroomError as exc:
                self.outcome["error"] = exc.key

        self.thread = threading.Thread(target=run, name="held-reveal")

    def __enter__(self):
        self.thread.start()
        assert self.inside.wait(60), "the reveal never reached its simulations"
        return self

    def __exit__(self, *exc):
        self.release.set()
        self.thread.join(60)


def _played(store, code, token, round_no):
    found = [r for r in store.team_results(code, token) if r["round"] == round_no]
    return found[0]["played"] if found else None


def test_reopening_during_a_reveal_publishes_nothing_of_the_old_plan(url, store, case, monkeypatch):
    code, pw = open_room(store, case)
    _, token = store.join(code, "Alpha")
    assert store.submit(code, token, preset_plan("zero", case), 1) == 1
    other = Classroom(url)  # the second instructor session
    with HeldReveal(monkeypatch, store, code, pw, 1) as held:
        other.reopen(code, pw, 1)
        assert other.submit(code, token, care_plan(case, 1.2), 1) == 2  # "saved"
    assert held.outcome == {"error": "changed_meanwhile"}
    room = store.room(code)
    assert (room.phase, room.current_round, room.revealed_round) == ("open", 1, 0)
    assert store.results(code).empty  # nothing was published from the old plan
    store.reveal(code, pw, 1)
    assert _played(store, code, token, 1) == [[1, 2]]  # the saved plan, version 2
    other.close()


def test_a_slow_reveal_after_another_sessions_reveal_and_advance_skips_no_round(
    url, store, case, monkeypatch
):
    code, pw = open_room(store, case)
    _, token = store.join(code, "Alpha")
    store.submit(code, token, care_plan(case, 1.1), 1)
    other = Classroom(url)
    with HeldReveal(monkeypatch, store, code, pw, 1) as held:
        other.reveal(code, pw, 1)
        other.advance(code, pw, 1)
    assert held.outcome == {"error": "changed_meanwhile"}
    room = store.room(code)
    assert (room.phase, room.current_round, room.revealed_round) == ("open", 2, 1)
    res = store.results(code)
    assert list(res["round"]) == [1]  # round 2 is not "revealed" with round 1's results
    with pytest.raises(ClassroomError) as info:
        store.advance(code, pw, 2)  # round 2 must be revealed first: no skipping
    assert info.value.key == "wrong_phase"
    store.reveal(code, pw, 2)
    assert store.advance(code, pw, 2).current_round == 3
    other.close()


def test_a_submit_during_a_reveal_is_refused_and_the_published_plan_is_the_saved_one(
    url, store, case, monkeypatch
):
    code, pw = open_room(store, case)
    _, token = store.join(code, "Alpha")
    store.submit(code, token, care_plan(case, 1.1), 1)
    with HeldReveal(monkeypatch, store, code, pw, 1) as held, pytest.raises(ClassroomError) as info:
        store.submit(code, token, care_plan(case, 0.9), 1)
    assert info.value.key == "round_closed"  # the tab is told "not saved"
    assert held.outcome["room"].phase == "revealed"
    assert store.my_submission(code, token, 1).version == 1
    assert _played(store, code, token, 1) == [[1, 1]]


def test_two_reveals_at_once_publish_once(url, store, case, monkeypatch):
    code, pw = open_room(store, case)
    for name in ("A", "B", "C"):
        store.join(code, name)
    other = Classroom(url)
    with HeldReveal(monkeypatch, store, code, pw, 1) as held:
        assert other.reveal(code, pw, 1).phase == "revealed"
    assert held.outcome == {"error": "already_revealed"}
    assert len(store.results(code)) == 3
    with pytest.raises(ClassroomError) as info:
        other.reveal(code, pw, 1)  # a stale tab clicking "reveal" again
    assert info.value.key == "already_revealed"
    other.close()


def test_two_advances_at_once_move_one_round(url, store, case):
    code, pw = open_room(store, case)
    store.reveal(code, pw, 1)
    other = Classroom(url)
    gate = threading.Barrier(2)
    outcomes = []

    def advance(s):
        gate.wait()
        try:
            outcomes.append(s.advance(code, pw, 1).current_round)
        except ClassroomError as exc:
            outcomes.append(exc.key)

    threads = [threading.Thread(target=advance, args=(s,)) for s in (store, other)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    assert sorted(map(str, outcomes)) == ["2", "changed_meanwhile"]
    assert store.room(code).current_round == 2
    other.close()


def test_a_stale_instructor_tab_changes_nothing(store, case):
    code, pw = open_room(store, case)
    store.reveal(code, pw, 1)
    store.advance(code, pw, 1)
    before = store.room(code)
    for action in (store.reveal, store.lock, store.advance, store.reopen):
        with pytest.raises(ClassroomError) as info:
            action(code, pw, 1)  # the tab still shows round 1
        assert info.value.key == "changed_meanwhile"
        assert "2" in info.value.message("en")  # it says where the room is now
    assert store.room(code) == before


def test_a_tab_that_missed_another_devices_submit_does_not_overwrite_it(store, case):
    code, _ = open_room(store, case)
    _, laptop = store.join(code, "Alpha")
    assert store.submit(code, laptop, care_plan(case, 1.1), 1, seen_version=0) == 1
    with pytest.raises(ClassroomError) as info:
        store.submit(code, laptop, care_plan(case, 1.2), 1, seen_version=0)  # the other tab
    assert info.value.key == "stale_plan"
    assert store.my_plan(code, laptop, 1).name == "care x1.1"
    assert store.submit(code, laptop, care_plan(case, 1.2), 1, seen_version=1) == 2


def test_a_deadline_closes_the_round_and_teams_without_a_plan_carry_their_last(url, case):
    now = [1000.0]
    store = Classroom(url, clock=lambda: now[0])
    code, pw = open_room(store, case)
    _, a = store.join(code, "Alpha")
    _, b = store.join(code, "Beta")
    store.submit(code, a, care_plan(case, 1.2), 1)
    store.submit(code, b, care_plan(case, 0.8), 1)
    store.reveal(code, pw, 1)
    store.advance(code, pw, 1)
    room = store.set_deadline(code, pw, 2, 90)
    assert room.deadline_at == 1090.0 and room.accepting(1089.0) and not room.accepting(1090.0)
    store.submit(code, a, care_plan(case, 0.9), 2)
    now[0] = 1090.0
    with pytest.raises(ClassroomError) as info:
        store.submit(code, b, care_plan(case, 1.0), 2)
    assert info.value.key == "deadline_passed"
    assert store.close_if_due(code).phase == "locked"  # any tab's poll closes it
    store.reveal(code, pw, 2)
    assert _played(store, code, a, 2) == [[1, 1], [2, 1]]
    assert _played(store, code, b, 2) == [[1, 1], [1, 1]]  # Beta carried round 1's plan
    store.close()


def test_a_practice_round_is_played_alone_and_never_counts(store, case):
    code, pw, _ = store.create_room(case, 600, 5, rounds=2, round_months=4, practice=True)
    room = store.room(code)
    assert room.practice_round and room.current_round == 0
    _, a = store.join(code, "Alpha")
    store.submit(code, a, preset_plan("zero", case), 0)  # try something wild in practice
    store.reveal(code, pw, 0)
    res = store.results(code)
    assert list(res["round"]) == [0] and res["score"].item() < 100.0
    assert store.leaderboard(code).empty  # practice never counts
    assert store.advance(code, pw, 0).current_round == 1
    store.reveal(code, pw, 1)  # no plan for round 1: the status quo, not the practice plan
    assert _played(store, code, a, 1) == [[0, 0]]
    assert store.leaderboard(code)["score"].item() == pytest.approx(100.0)


def test_rotating_the_keys_locks_out_the_old_ones(store, case):
    keys = store.create_room(case, 600, 5)
    assert store.check_passcode(keys.code, keys.link).code == keys.code  # the link opens it
    new = store.rotate_keys(keys.code, keys.passcode)
    for old in (keys.passcode, keys.link):
        with pytest.raises(ClassroomError) as info:
            store.lock(keys.code, old)
        assert info.value.key == "bad_passcode"
    assert store.lock(keys.code, new.passcode).phase == "locked"
    assert store.check_passcode(keys.code, new.link).phase == "locked"
