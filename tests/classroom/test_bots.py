"""A class of bots plays a whole game through the running app (its websocket protocol, as
browser tabs do), on SQLite and on PostgreSQL: an instructor opens the room from the console
(the passcode only in the one-time box), three teams join from the room's link, edit their
grid and submit it from the Service plan page, reload in the middle of the round and come
back to their seat, see every reveal without reloading, submit again from the Classroom page,
and the instructor downloads the debrief workbook. The same bots, 40–60 of them, are the
load benchmark (``benchmarks/bench_classroom.py``)."""

import asyncio
import io

import pandas as pd
import pytest

from benchmarks._server import app_server
from benchmarks.bots import Tab
from benchmarks.class_bots import play_class
from crmsim.classroom import Classroom
from tests.classroom.conftest import empty_postgres
from tests.classroom.helpers import care_plan, open_room

TEAMS, ROUNDS = 3, 2


@pytest.fixture(params=["sqlite", "postgresql"])
def class_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'classroom.db'}"
    return empty_postgres()


def test_a_small_class_plays_a_whole_game_through_the_app(class_url, tmp_path):
    with app_server({"DATABASE_URL": class_url}, log=tmp_path / "server.log") as (port, _):
        report = asyncio.run(
            play_class([f"ws://127.0.0.1:{port}"], teams=TEAMS, rounds=ROUNDS, lang="zh")
        )
    assert report.joined == TEAMS
    assert not report.problems
    assert len(report.saved) == TEAMS * ROUNDS  # every submit said "saved"
    assert report.reseated == TEAMS  # every reload came back to its seat, plan saved
    assert all(len(report.reveal_s[r]) == TEAMS for r in range(1, ROUNDS + 1))  # pushed
    store = Classroom(class_url)
    res = store.results(report.code)
    assert len(res) == TEAMS * ROUNDS and set(res["round"]) == {1, 2}
    status = store.status(report.code, report.passcode)
    assert status["version"].notna().all()  # everyone's round-2 plan is in the store
    assert store.room(report.code).phase == "revealed"
    book = pd.read_excel(io.BytesIO(report.workbook), sheet_name=None)
    assert len(book) == 3 and len(next(iter(book.values()))) == TEAMS
    store.close()


def test_a_submit_redraws_the_round_panel_only(tmp_path, case):
    """40 teams submitting within 2 s used to redraw 40 whole pages (results, charts and
    leaderboard of the rounds before); a click now runs the round panel's fragment only."""
    url = f"sqlite:///{tmp_path / 'classroom.db'}"
    store = Classroom(url)
    code, pw = open_room(store, case, rounds=2)
    _, token = store.join(code, "A")
    store.submit(code, token, care_plan(case, 0.8), 1)
    store.reveal(code, pw, 1)
    store.advance(code, pw, 1)

    async def click_submit(port: int) -> tuple[bool, str]:
        tab = await Tab.open(
            f"ws://127.0.0.1:{port}", "classroom", f"lang=en&room={code}&team={token}"
        )
        panel = tab.find("room_submit_room").fragment
        outside = {p: e for p, e in tab.elements.items() if e.fragment != panel}
        assert any(e.kind == "dataframe" for e in outside.values())  # the leaderboard
        assert tab.find("room_team_run") in outside.values()  # the team's run chart
        await tab.click("room_submit_room")
        kept = all(tab.elements.get(p) is e for p, e in outside.items())
        text = tab.text()
        await tab.close()
        return kept, text

    with app_server({"DATABASE_URL": url}, log=tmp_path / "server.log") as (port, _):
        kept, text = asyncio.run(click_submit(port))
    assert kept  # nothing outside the round panel (results, charts, leaderboard) was sent again
    assert "EXCEPTION" not in text
    assert store.my_submission(code, token, 2).version == 1  # and the plan is saved
    store.close()


def test_a_bots_polls_keep_the_rhythm_they_were_registered_with():
    """As a browser's ``setInterval``: a poll that waited for the tab's own run goes out
    late, and the next ones are on the grid again (not ``interval`` after the late one)."""
    import time

    interval = 0.1

    async def play() -> list[float]:
        tab = Tab("ws://unused", "classroom", "")
        tab._tickers, tab._busy = {}, asyncio.Lock()
        sent: list[float] = []

        async def request(fragment: str = "", auto: bool = False, trigger: str = "") -> float:
            sent.append(time.perf_counter() - start)
            await asyncio.sleep(0.25 if len(sent) == 2 else 0.01)  # the second one is slow
            return 0.0

        tab._request = request
        start = time.perf_counter()
        tab._tick("poll", interval)
        await asyncio.sleep(0.75)
        for task in tab._tickers.values():
            task.cancel()
        return sent

    sent = asyncio.run(play())
    assert sent[:2] == pytest.approx([0.1, 0.2], abs=0.04)
    # the 2nd ran until 0.45 s: the polls due at 0.3 and 0.4 were missed, the next on time
    assert sent[2] == pytest.approx(0.45, abs=0.04)
    assert sent[3:5] == pytest.approx([0.5, 0.6], abs=0.04)
