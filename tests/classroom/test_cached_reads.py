"""What a process remembers of a room, on SQLite and on PostgreSQL: a room is read whole
only when its version changed (a poll with no change reads at most the version), and the
results, leaderboard, a team's own rounds and a round's plans are worked out once per room
version — and never outlive a change, whether it was made by this process or by another one
on the same database (a second store stands for the other process). A saved plan is played in
the background before the reveal, which then publishes the saved plans' results at once."""

import pytest
import sqlalchemy as sa

from crmsim.classroom import Classroom, ClassroomError, scoring
from crmsim.classroom.scoring import play
from tests.classroom.helpers import care_plan, open_room


@pytest.fixture
def statements(store):
    """The SQL statements ``store`` sends, as they are sent (not BEGIN and the like)."""
    sent: list[str] = []

    def note(conn, cursor, statement, *args):
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK")):
            sent.append(" ".join(statement.split()))

    sa.event.listen(store.engine, "before_cursor_execute", note)
    yield sent
    sa.event.remove(store.engine, "before_cursor_execute", note)


def _reads_room_row(sent: list[str]) -> bool:
    return any("crm_rooms.case_json" in s for s in sent)


def _revealed_room(store, case, teams=("A", "B", "C"), rounds=3):
    code, pw = open_room(store, case, rounds=rounds)
    tokens = {name: store.join(code, name)[1] for name in teams}
    for i, token in enumerate(tokens.values()):
        store.submit(code, token, care_plan(case, 0.5 + 0.2 * i), 1)
    store.reveal(code, pw, 1)
    return code, pw, tokens


def test_a_room_is_read_whole_only_when_its_version_changed(store, url, case, statements):
    code, pw = open_room(store, case)
    first = store.room(code)
    assert _reads_room_row(statements)
    statements.clear()
    again = store.room(code)
    assert again is first and len(statements) == 1 and not _reads_room_row(statements)
    other = Classroom(url)  # another app process on the same database
    try:
        other.lock(code, pw, 1)
    finally:
        other.close()
    statements.clear()
    moved = store.room(code)
    assert _reads_room_row(statements)  # the version moved: the room is read again
    assert (moved.phase, moved.version) == ("locked", first.version + 1)


def test_one_page_draw_reads_the_room_and_the_seat_once(store, url, case, statements):
    """Inside ``one_view`` (a page drawn) every read of the room and of a team by its seat
    gives the same copy without asking the database again; another process's change is seen
    once the view ends; this thread's own write is seen at once."""
    code, pw = open_room(store, case)
    _, token = store.join(code, "A")
    store.room(code), store.team(code, token)  # the room's id is remembered from then on
    other = Classroom(url)  # another app process on the same database
    try:
        with store.one_view():
            statements.clear()
            first = store.room(code)
            team = store.team(code, token)
            assert len(statements) == 2  # the room's version, the seat's team
            other.lock(code, pw, 1)  # lands while the page is drawn
            statements.clear()
            assert store.room(code) is first and first.phase == "open"
            assert store.team(code, token) == team and not statements
            store.heartbeat(code, token, editing=True)  # a write of this thread's own
            assert store.room(code).phase == "locked"  # ... ends the copies
        assert store.room(code).phase == "locked"
        other.reopen(code, pw, 1)
        assert store.room(code).phase == "open"  # outside a view: read at every call
    finally:
        other.close()


def test_a_poll_with_no_change_does_not_read_the_room(store, case, statements):
    code, _ = open_room(store, case)
    store.room(code)
    statements.clear()
    for _ in range(5):  # five open tabs of this process polling
        room = store.close_if_due(code)
    assert room.phase == "open"
    assert not _reads_room_row(statements)  # never the room with its case
    assert len(statements) == 5 and all("crm_rooms.version" in s for s in statements)


def test_results_are_worked_out_once_per_version_and_renewed_by_a_reveal(store, url, case):
    code, pw, tokens = _revealed_room(store, case)
    board = store.leaderboard(code)
    assert list(board["rank"]) == [1, 2, 3]
    misses = store._memo.misses
    for _ in range(4):  # four tabs redrawing
        assert store.leaderboard(code).equals(board)
        assert len(store.results(code)) == 3
        assert [r["round"] for r in store.team_results(code, tokens["A"])] == [1]
    assert store._memo.misses == misses + 1  # the team's own rounds: read once
    other = Classroom(url)  # the instructor's process reveals the next round
    try:
        other.advance(code, pw, 1)
        for i, token in enumerate(tokens.values()):
            other.submit(code, token, care_plan(case, 0.9 - 0.2 * i), 2)
        other.reveal(code, pw, 2)
    finally:
        other.close()
    assert set(store.results(code)["round"]) == {1, 2}
    assert [r["round"] for r in store.team_results(code, tokens["A"])] == [1, 2]
    assert not store.leaderboard(code)["score"].equals(board["score"])  # means of 2 rounds


def test_a_renamed_removed_or_merged_team_is_seen_at_once_by_every_process(store, url, case):
    code, pw, _ = _revealed_room(store, case, teams=("A", "B", "C", "D"))
    assert set(store.leaderboard(code)["team"]) == {"A", "B", "C", "D"}
    assert set(store.revealed_plans(code, 1)) == {"A", "B", "C", "D"}
    ids = {r.team: r.team_id for r in store.status(code, pw).itertuples()}
    other = Classroom(url)
    try:
        before = other.room(code).version
        other.rename_team(code, pw, ids["A"], "Alpha")
        other.remove_team(code, pw, ids["B"])
        other.merge_teams(code, pw, ids["C"], ids["D"])
        assert other.room(code).version == before + 3  # each change bumps the version
    finally:
        other.close()
    assert set(store.leaderboard(code)["team"]) == {"Alpha", "D"}
    assert set(store.results(code)["team"]) == {"Alpha", "D"}
    assert set(store.revealed_plans(code, 1)) == {"Alpha", "D"}


def test_a_resubmitted_plan_is_the_one_the_reveal_scores(store, case):
    code, pw = open_room(store, case)
    _, token = store.join(code, "A")
    first, second = care_plan(case, 0.5), care_plan(case, 0.9)
    store.submit(code, token, first, 1)
    assert store.results(code).empty  # read (and remembered) before the reveal
    store.lock(code, pw, 1)
    store.reopen(code, pw, 1)
    assert store.submit(code, token, second, 1) == 2
    store.reveal(code, pw, 1)
    room = store.room(code)
    mine = store.team_results(code, token)[-1]
    assert mine["kpis"] == play(room, {1: (second, 2)}, 1)["kpis"]
    assert mine["kpis"] != play(room, {1: (first, 1)}, 1)["kpis"]
    assert mine["played"] == [[1, 2]]  # round 1, plan version 2
    assert store.results(code)["score"].tolist() == [mine["score"]]


def test_a_saved_plan_is_played_in_the_background_before_the_reveal(url, case, monkeypatch):
    monkeypatch.setattr(scoring, "RUNS", scoring.RunCache())  # nothing played before
    store = Classroom(url, warm=True)  # as the app's store is
    try:
        code, pw = open_room(store, case)
        tokens = [store.join(code, name)[1] for name in ("A", "B")]
        store._warmer.wait()  # a join has the worker play the room's status quo
        assert scoring.RUNS.get(scoring.status_quo_key(store.room(code), 1)) is not None
        jobs, worker_played = store._warmer.played, store._warmer._worker.played
        mine = {t: care_plan(case, f) for t, f in zip(tokens, (0.611, 0.733), strict=True)}
        for token, plan in mine.items():
            store.submit(code, token, plan, 1)
        store._warmer.wait()
        assert store._warmer.played - jobs == 2
        assert store._warmer._worker.played - worker_played >= 2  # in the worker process
        before = scoring.RUNS.played
        store.reveal(code, pw, 1)
        assert scoring.RUNS.played == before  # nothing left to play
        room = store.room(code)
        for token, plan in mine.items():  # and what it published is the saved plans' result
            assert (
                store.team_results(code, token)[0]["kpis"] == play(room, {1: (plan, 1)}, 1)["kpis"]
            )
    finally:
        store.close()


def test_a_reveal_plays_the_saved_plans_before_it_locks_the_round(url, case, monkeypatch):
    """Between the lock and the publishing every open tab that looks draws a locked round
    (on a busy server, a page draw each): the plays come first, so nothing is left to play
    in between."""
    monkeypatch.setattr(scoring, "RUNS", scoring.RunCache())  # nothing played before
    store = Classroom(url)  # no warming: the reveal plays every run itself
    try:
        code, pw = open_room(store, case)
        tokens = [store.join(code, name)[1] for name in ("A", "B", "C")]
        for i, token in enumerate(tokens):
            store.submit(code, token, care_plan(case, 0.5171 + 0.0913 * i), 1)
        real, at_lock = store._bump, []

        def bump(c, row, **changes):
            if changes.get("phase") == "locked":
                at_lock.append(scoring.RUNS.played)
            return real(c, row, **changes)

        monkeypatch.setattr(store, "_bump", bump)
        before = scoring.RUNS.played
        store.reveal(code, pw, 1)
        assert len(at_lock) == 1 and at_lock[0] - before == 4  # every team's, the status quo's
        assert scoring.RUNS.played == at_lock[0]  # none between the lock and the publishing
        assert store.room(code).phase == "revealed"
    finally:
        store.close()


def test_plans_saved_through_another_process_are_played_by_this_ones_worker(url, case, monkeypatch):
    """With two app processes, the instructor's process has not warmed the plans saved
    through the other one: its reveal hands them to its worker (the other core) rather than
    play them in the interpreter that draws the pages."""
    monkeypatch.setattr(scoring, "RUNS", scoring.RunCache())
    mine, other = Classroom(url, warm=True), Classroom(url)  # ``other``: no warming seen here
    try:
        code, pw = open_room(mine, case)
        a = mine.join(code, "A")[1]
        b = other.join(code, "B")[1]
        mine.submit(code, a, care_plan(case, 0.6417), 1)
        other.submit(code, b, care_plan(case, 0.7129), 1)
        mine._warmer.wait()
        worker_played, here = mine._warmer._worker.played, scoring.RUNS.played
        mine.reveal(code, pw, 1)
        assert mine._warmer._worker.played - worker_played >= 1  # B's run, in the worker
        assert scoring.RUNS.played == here  # nothing played in this process
        assert {r["round"] for r in mine.team_results(code, b)} == {1}
    finally:
        mine.close()
        other.close()


def test_a_reveal_with_a_wrong_passcode_plays_nothing(url, case, monkeypatch):
    monkeypatch.setattr(scoring, "RUNS", scoring.RunCache())
    store = Classroom(url)
    try:
        code, _ = open_room(store, case)
        token = store.join(code, "A")[1]
        store.submit(code, token, care_plan(case, 0.5533), 1)
        with pytest.raises(ClassroomError) as info:
            store.reveal(code, "not the passcode", 1)
        assert info.value.key == "bad_passcode"
        assert scoring.RUNS.played == 0
    finally:
        store.close()
