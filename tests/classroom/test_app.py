"""The classroom page under AppTest: a team joins and submits, the instructor reveals, both see
the leaderboard; bad codes and passcodes are told in the user's language."""

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from crmsim.cases import load_case
from crmsim.classroom import Classroom
from crmsim.i18n import t
from tests.conftest import ROOT


@pytest.fixture
def db(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'room.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    st.cache_data.clear()
    store = Classroom(url)
    yield store
    store.close()


def _page(lang: str, **query) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.query_params["lang"] = lang
    for k, v in query.items():
        at.query_params[k] = v
    at.switch_page("pages/classroom.py")
    at.run()
    return at


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_team_joins_submits_and_sees_the_leaderboard(db, lang):
    case = load_case("telecom")
    code, passcode, _ = db.create_room(case, 500, 9, rounds=2, round_months=3)
    at = _page(lang)
    assert not at.exception
    at.text_input(key="room_join_code").input(code.lower())
    at.text_input(key="room_join_name").input("<b>Team Zhang</b>")
    at.get("form")[0]  # the join form is drawn
    at.button[0].click().run()  # the form's submit button
    assert not at.exception
    joined = t("room.joined", lang, name="<b>Team Zhang</b>", code=code)
    assert any(joined in s.value for s in at.success)
    assert at.query_params["room"] in (code, [code])
    # the room's case, size and seed are now the app's
    assert at.session_state["setup"]["customers"] == 500 and at.session_state["setup"]["seed"] == 9
    at.button(key="room_submit").click().run()
    assert not at.exception
    assert any(t("room.submitted", lang, round=1, time="")[:6] in s.value for s in at.success)
    status = db.status(code, passcode)
    assert status["submitted_at"].notna().all()
    db.reveal(code, passcode)
    at.run()
    assert not at.exception
    frames = [d.value for d in at.dataframe]
    assert any("<b>Team Zhang</b>" in list(f.iloc[:, 1].astype(str)) for f in frames)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_bad_code_and_bad_passcode_are_explained(db, lang):
    at = _page(lang)
    at.text_input(key="room_join_code").input("NOPE99")
    at.text_input(key="room_join_name").input("A")
    at.button[0].click().run()
    assert not at.exception
    assert t("room.err.room_not_found", lang) in at.error[0].value
    code = db.create_room(load_case("telecom"), 500, 9).code
    at.text_input(key="room_admin_code").input(code)
    at.text_input(key="room_admin_pass").input("wrong")
    at.button[2].click().run()
    assert not at.exception
    assert any(t("room.err.bad_passcode", lang) in e.value for e in at.error)


def test_instructor_creates_a_room_watches_and_reveals(db):
    at = _page("en")
    at.button[1].click().run()  # "Open a new room" with the defaults
    assert not at.exception
    created = at.session_state["room_created"]
    code, passcode = created
    assert any(code in s.value and passcode in s.value for s in at.success)
    _, token = db.join(code, "Blue")
    db.submit(code, token, db.room(code).case.status_quo, 1)
    at.run()
    status = next(d.value for d in at.dataframe if "Teams" in d.value.columns)
    assert list(status["Teams"]) == ["Blue"] and status["Submitted this round"].iloc[0] != "—"
    at.button(key="room_do_reveal").click().run()
    assert not at.exception
    assert db.room(code).phase == "revealed"
    assert any("Blue" in list(d.value.iloc[:, 1].astype(str)) for d in at.dataframe)


def test_an_unreachable_database_is_reported_not_a_traceback(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://nobody:x@127.0.0.1:1/none")
    at = _page("zh")
    at.text_input(key="room_join_code").input("ABCDEF")
    at.text_input(key="room_join_name").input("A")
    at.button[0].click().run()
    assert not at.exception
    assert "暂时无法连接课堂数据库" in at.error[0].value and "127.0.0.1" not in at.error[0].value
