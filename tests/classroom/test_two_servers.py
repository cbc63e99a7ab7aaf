"""More than one server: two app processes behind Debian's nginx with sticky sessions (a
cookie nginx sets), sharing one PostgreSQL database. A class of bots plays one room through
nginx with teams on both processes: every team's plan is saved, every reveal reaches every
tab, a reload stays on its process and keeps its seat, and the instructor on one process
sees the teams of the other. Under ``CI=true`` a missing nginx or PostgreSQL fails the test;
elsewhere it is skipped with the reason."""

import asyncio
import os
import secrets

import pytest

from benchmarks import _proxy
from benchmarks._server import app_server
from benchmarks.class_bots import play_class
from crmsim.classroom import Classroom
from tests.classroom.conftest import empty_postgres

TEAMS, ROUNDS = 4, 2


def _nginx_or_skip() -> None:
    if _proxy.nginx() is None:
        reason = "nginx is not installed (`.ci/run` installs Debian's package)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)


def test_two_app_processes_behind_nginx_play_one_room(tmp_path):
    _nginx_or_skip()
    url = empty_postgres()
    env = {
        "DATABASE_URL": url,
        "CRMLAB_TRUSTED_PROXIES": "127.0.0.1",
        "STREAMLIT_SERVER_COOKIE_SECRET": secrets.token_hex(16),  # the same on every process
    }
    with (
        app_server(env, log=tmp_path / "a.log") as (a, _),
        app_server(env, log=tmp_path / "b.log") as (b, _),
        _proxy.proxy([a, b]) as front,
    ):
        cookies = _proxy.spread_cookies(front, TEAMS, 2)
        ends = {_proxy.upstream_of(front, c) for c in cookies}
        assert ends == {f"127.0.0.1:{a}", f"127.0.0.1:{b}"}  # teams on both processes
        routes = [(f"ws://127.0.0.1:{front}", {"Cookie": f"crmlab_node={c}"}) for c in cookies]
        report = asyncio.run(play_class(routes, teams=TEAMS, rounds=ROUNDS, lang="en"))
    assert not report.problems
    assert report.joined == TEAMS and len(report.saved) == TEAMS * ROUNDS
    assert report.reseated == TEAMS  # reloads came back to their process and seat
    assert all(len(report.reveal_s[r]) == TEAMS for r in range(1, ROUNDS + 1))
    store = Classroom(url)
    res = store.results(report.code)
    assert len(res) == TEAMS * ROUNDS and res["team"].nunique() == TEAMS
    assert len(report.workbook) > 1000 and report.workbook[:2] == b"PK"
    store.close()
