"""Classroom store against SQLite and a real PostgreSQL server: rounds, races, restarts,
security, scoring and the debrief exports."""

import io
import multiprocessing
import threading

import pandas as pd
import pytest
import sqlalchemy as sa

from crmsim.classroom import CODE_ALPHABET, SCHEMA_VERSION, Classroom, ClassroomError
from crmsim.plans import preset_plan
from tests.classroom.helpers import care_plan as _plan
from tests.classroom.helpers import open_room as _room


def test_a_whole_game(store, case):
    code, pw = _room(store, case)
    assert len(code) >= 6 and set(code) <= set(CODE_ALPHABET)
    _, a = store.join(code, "Alpha")
    _, b = store.join(code, "Beta")
    store.submit(code, a, _plan(case, 1.0), 1)
    store.submit(code, b, preset_plan("zero", case), 1)
    status = store.status(code, pw)
    assert list(status["team"]) == ["Alpha", "Beta"] and status["submitted_at"].notna().all()
    room = store.reveal(code, pw)
    assert (room.phase, room.revealed_round) == ("revealed", 1)
    board = store.leaderboard(code)
    assert list(board["team"]) == ["Alpha", "Beta"]  # no service scores below the status quo
    assert board["score"].iloc[0] == pytest.approx(100.0)  # Alpha played the status quo
    store.advance(code, pw)
    store.submit(code, b, _plan(case, 1.0), 2)  # Beta serves again; Alpha keeps its plan
    store.reveal(code, pw)
    res = store.results(code)
    assert set(res["round"]) == {1, 2} and len(res) == 4
    # each round continues the team's own run: Beta's round 2 carries round 1's losses
    beta2 = res[(res["team"] == "Beta") & (res["round"] == 2)]["score"].item()
    assert beta2 < 100.0
    store.advance(code, pw)
    store.reveal(code, pw)
    with pytest.raises(ClassroomError) as info:
        store.advance(code, pw)
    assert info.value.key == "last_round"
    assert store.end(code, pw).phase == "ended"
    with pytest.raises(ClassroomError):
        store.join(code, "Late")


def test_final_round_only_scoring(store, case):
    code, pw = _room(store, case, rounds=2, final_only=True)
    _, a = store.join(code, "A")
    store.submit(code, a, preset_plan("zero", case), 1)
    store.reveal(code, pw)
    store.advance(code, pw)
    store.submit(code, a, _plan(case, 1.0), 2)
    store.reveal(code, pw)
    res = store.results(code)
    board = store.leaderboard(code)
    assert board["score"].item() == pytest.approx(res[res["round"] == 2]["score"].item())


def test_restart_in_the_middle_loses_nothing(url, case):
    first = Classroom(url)
    code, pw = _room(first, case)
    _, token = first.join(code, "Keepers")
    first.submit(code, token, _plan(case, 1.25), 1)
    first.close()
    again = Classroom(url)  # a new app process on the same database
    assert again.my_plan(code, token, 1).name == "care x1.25"
    assert again.status(code, pw)["submitted_at"].notna().all()
    assert again.schema_version() == SCHEMA_VERSION
    again.close()


def test_two_teams_submitting_at_the_same_instant_are_both_saved(store, case):
    code, pw = _room(store, case)
    tokens = [store.join(code, f"T{i}")[1] for i in range(6)]
    gate = threading.Barrier(len(tokens))
    errors = []

    def go(tok, i):
        gate.wait()
        try:
            store.submit(code, tok, _plan(case, 1 + i / 50), 1)
        except Exception as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=go, args=(tok, i)) for i, tok in enumerate(tokens)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors
    assert len(store.all_plans(code, pw)) == 6


def _submit_in_process(url, code, token, care, gate):
    from crmsim.cases import load_case
    from crmsim.classroom import Classroom

    store = Classroom(url)
    gate.wait()
    store.submit(code, token, _plan(load_case("telecom"), care), 1)
    store.close()


def test_two_app_processes_submitting_at_once_are_both_saved(store, url, case):
    code, pw = _room(store, case)
    tokens = [store.join(code, name)[1] for name in ("P1", "P2")]
    ctx = multiprocessing.get_context("spawn")
    gate = ctx.Barrier(2)
    procs = [
        ctx.Process(target=_submit_in_process, args=(url, code, tok, 1.2, gate)) for tok in tokens
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0, 0]
    assert set(store.all_plans(code, pw)) == {"P1", "P2"}


def test_double_submit_stores_one_plan_the_later_one(store, case):
    code, _ = _room(store, case)
    _, token = store.join(code, "Twice")
    store.submit(code, token, _plan(case, 1.0), 1)
    store.submit(code, token, _plan(case, 1.1), 1)
    gate = threading.Barrier(2)

    def again():
        gate.wait()
        store.submit(code, token, _plan(case, 1.25), 1)

    ths = [threading.Thread(target=again) for _ in range(2)]
    for th in ths:
        th.start()
    for th in ths:
        th.join()
    with store.engine.connect() as c:
        n = c.execute(sa.text("select count(*) from crm_plans")).scalar_one()
    assert n == 1 and store.my_plan(code, token, 1).name == "care x1.25"


def _race_once(store, case, trial: int, action: str = "lock") -> None:
    code, pw = _room(store, case)
    _, token = store.join(code, f"Racer{trial}")
    gate = threading.Barrier(2)
    outcome = {}

    def submit():
        gate.wait()
        try:
            store.submit(code, token, _plan(case, 1.2), 1)
            outcome["submit"] = "saved"
        except ClassroomError as exc:
            outcome["submit"] = exc.key

    def close():
        gate.wait()
        getattr(store, action)(code, pw)

    ths = [threading.Thread(target=submit), threading.Thread(target=close)]
    for th in ths:
        th.start()
    for th in ths:
        th.join()
    saved = store.my_plan(code, token, 1)
    assert outcome["submit"] in ("saved", "round_closed")
    assert (saved is not None) == (outcome["submit"] == "saved")
    assert store.room(code).phase == ("locked" if action == "lock" else "revealed")
    if action == "reveal":  # a plan that was saved is the one the results played
        played = store.results(code)["score"].item()
        assert (played == pytest.approx(100.0)) == (saved is None)


def test_closing_the_round_while_a_team_submits_has_one_defined_outcome(store, case):
    """Either the plan lands before the close (saved) or after it (refused, nothing saved)."""
    for trial in range(6):
        _race_once(store, case, trial)


def test_revealing_while_a_team_submits_has_one_defined_outcome(store, case):
    for trial in range(3):
        _race_once(store, case, trial, "reveal")


def test_a_wrong_passcode_can_do_nothing_an_instructor_can(store, case):
    code, pw = _room(store, case)
    store.join(code, "A")
    for action in (
        store.lock,
        store.reveal,
        store.advance,
        store.end,
        store.status,
        store.all_plans,
        store.export_xlsx,
        store.allocations,
    ):
        with pytest.raises(ClassroomError) as info:
            action(code, pw[:-1] + ("X" if pw[-1] != "X" else "Y"))
        assert info.value.key == "bad_passcode"
    room = store.room(code)
    assert (room.phase, room.current_round, room.revealed_round) == ("open", 1, 0)
    with store.engine.connect() as c:
        stored = c.execute(sa.text("select passcode_hash from crm_rooms")).scalar_one()
    assert pw not in stored and stored.startswith("pbkdf2_sha256$")


def test_a_team_reaches_only_its_own_plans(store, case):
    code, pw = _room(store, case)
    _, a = store.join(code, "A")
    _, b = store.join(code, "B")
    store.submit(code, a, _plan(case, 1.25), 1)
    assert store.my_plan(code, b, 1) is None  # B sees nothing of A's
    with pytest.raises(ClassroomError) as info:
        store.revealed_plans(code, 1)
    assert info.value.key == "not_revealed"
    store.submit(code, b, _plan(case, 1.0), 1)
    assert store.my_plan(code, a, 1).name == "care x1.25"  # B's submit did not touch A's
    with pytest.raises(ClassroomError) as info:
        store.submit(code, "forged-token", _plan(case, 1.0), 1)
    assert info.value.key == "bad_token"
    other, _ = _room(store, case)
    with pytest.raises(ClassroomError):
        store.my_plan(other, a, 1)  # a token belongs to one room
    store.reveal(code, pw)
    assert set(store.revealed_plans(code, 1)) == {"A", "B"}
    with store.engine.connect() as c:
        hashes = [r[0] for r in c.execute(sa.text("select token_hash from crm_teams"))]
    assert a not in hashes and b not in hashes


def test_failed_joins_are_slowed_down(url, case):
    now = [1000.0]
    store = Classroom(url, clock=lambda: now[0])
    code, _ = _room(store, case)
    for _ in range(3):
        with pytest.raises(ClassroomError) as info:
            store.join("ZZZZZZ", "guess", client="10.0.0.9")
        assert info.value.key == "room_not_found"
    with pytest.raises(ClassroomError) as info:
        store.join(code, "right code too early", client="10.0.0.9")
    assert info.value.key == "slow_down"
    assert store.join(code, "another client", client="10.0.0.10")[0].name == "another client"
    now[0] += 1.5
    store.join(code, "after waiting", client="10.0.0.9")  # and a success resets the count
    with pytest.raises(ClassroomError) as info:
        store.join("ZZZZZZ", "x", client="10.0.0.9")
    store.join(code, "not slowed", client="10.0.0.9")
    store.close()


def _debrief(store, code, pw):
    from crmsim.charts import debrief_html

    room = store.check_passcode(code, pw)
    return debrief_html(
        "debrief",
        store.leaderboard(code),
        store.results(code),
        "en",
        store.allocations(code, pw, 1),
        room.case.costs.kam_salary,
    )


def test_texts_are_limited_and_never_html(store, case):
    code, pw = _room(store, case)
    with pytest.raises(ClassroomError) as info:
        store.join(code, "x" * 41)
    assert info.value.key == "name_too_long"
    with pytest.raises(ClassroomError):
        store.join(code, " \t\n ")
    name = "<script>alert(1)</script>"
    _, token = store.join(code, name + "\x07")
    store.submit(code, token, case.status_quo, 1)
    store.reveal(code, pw)
    page = _debrief(store, code, pw)
    assert (
        "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    )
    with pytest.raises(ClassroomError) as info:
        store.join(code, name)  # the control character was dropped: the same name
    assert info.value.key == "name_taken"


def test_room_codes_are_unambiguous_and_unique(store, case):
    codes = {_room(store, case)[0] for _ in range(40)}
    assert len(codes) == 40
    assert all(len(c) == 6 and not set(c) & set("01OIL") for c in codes)
    assert store.room(next(iter(codes)).lower()).code in codes  # typed in lower case


def test_plans_must_fit_the_room(store, case):
    code, _ = _room(store, case)
    _, token = store.join(code, "A")
    from crmsim.plans import SegmentationSpec

    other = case.status_quo.model_copy(update={"segmentation": SegmentationSpec(method="abc")})
    with pytest.raises(ClassroomError) as info:
        store.submit(code, token, other, 1)
    assert info.value.key == "wrong_segmentation"
    rich = _plan(case, 50.0)
    with pytest.raises(ClassroomError) as info:
        store.submit(code, token, rich, 1)
    assert info.value.key == "bad_plan" and "budget" in str(info.value)
    with pytest.raises(ClassroomError) as info:
        store.submit(code, token, case.status_quo, 2)
    assert info.value.key == "round_closed"


def test_debrief_workbook_has_results_and_every_plan(store, case):
    code, pw = _room(store, case)
    _, a = store.join(code, "甲组")
    store.submit(code, a, _plan(case, 1.2), 1)
    store.reveal(code, pw)
    book = pd.read_excel(io.BytesIO(store.export_xlsx(code, pw)), sheet_name=None)
    assert set(book) == {"leaderboard", "results", "plans"}
    assert list(book["results"]["team"]) == ["甲组"]
    assert set(book["plans"]["segment"]) >= {"key", "ordinary", "small"}
    heat = store.allocations(code, pw, 1)
    assert set(heat["lever"]) >= {"care", "recovery"} and (heat["team"] == "甲组").all()


def test_a_newer_schema_is_refused(url, case):
    store = Classroom(url)
    with store.engine.begin() as c:
        c.execute(sa.text("update crm_meta set value = '99' where key = 'schema'"))
    store.close()
    with pytest.raises(ClassroomError) as info:
        Classroom(url)
    assert info.value.key == "schema_newer"
    assert "99" in info.value.message("zh")


def test_messages_and_workbook_speak_the_instructors_language(store, case):
    code, pw = _room(store, case)
    _, token = store.join(code, "A")
    with pytest.raises(ClassroomError) as info:
        store.submit(code, token, _plan(case, 50.0), 1)
    assert "超过预算" in info.value.message("zh") and "above the budget" in str(info.value)
    store.submit(code, token, case.status_quo, 1)
    store.reveal(code, pw)
    book = pd.read_excel(io.BytesIO(store.export_xlsx(code, pw, "zh")), sheet_name=None)
    assert set(book) == {"排行榜", "结果", "方案"}
    assert {"小组", "回合", "得分", "利润净现值"} <= set(book["结果"].columns)
    assert "关怀回访" in book["方案"].columns


def test_a_remembered_passcode_still_refuses_a_wrong_one(store, case):
    code, pw = _room(store, case)
    store.status(code, pw)  # remembered after the first check
    store.status(code, pw)
    with pytest.raises(ClassroomError):
        store.status(code, pw + "x")
    other, _ = _room(store, case)
    with pytest.raises(ClassroomError):
        store.status(other, pw)  # another room's hash: not remembered for this passcode
