"""The classroom pages under AppTest, in both languages: a team joins, submits exactly the plan
on screen (never an invalid one, never into a round it did not see), keeps its seat across a
reload and a restart and sees its own results; the instructor's console keeps the passcode
off the shared screen; store failures are told in the user's language on every surface."""

import pytest
import sqlalchemy as sa
import streamlit as st
from streamlit.testing.v1 import AppTest

from crmsim.cases import load_case
from crmsim.classroom import Classroom
from crmsim.i18n import t
from crmsim.ui.classroom import POLL_S
from tests.classroom.helpers import care_plan
from tests.conftest import ROOT


@pytest.fixture
def db(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'room.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    st.cache_data.clear()
    st.cache_resource.clear()  # a new server process: the store is opened again
    store = Classroom(url)
    yield store
    store.close()


def _page(lang: str, page: str = "pages/classroom.py", tab: str | None = None, **query):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.query_params["lang"] = lang
    for k, v in query.items():
        at.query_params[k] = v
    if tab:
        at.session_state[f"room_tab_{lang}"] = t(f"room.{tab}", lang)
    at.switch_page(page)
    at.run()
    assert not at.exception, at.exception
    return at


def _texts(at) -> str:
    """Every text the page shows (markdown, alerts, code, captions, tables' cells)."""
    parts = [
        e.value
        for kind in ("markdown", "caption", "code", "success", "info", "warning", "error")
        for e in getattr(at, kind)
    ]
    parts += [d.value.to_string() for d in at.dataframe]
    parts += [m.value for m in at.metric]
    return "\n".join(str(p) for p in parts)


def _join(at, code: str, name: str, lang: str):
    at.text_input(key="room_join_code").input(code.lower()).run()
    at.text_input(key="room_join_name").input(name)
    _button(at, "room.join", lang).click().run()
    assert not at.exception, at.exception
    return at


def _button(at, label_key: str, lang: str, **params):
    label = t(label_key, lang, **params)
    return next(b for b in at.button if b.label == label)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_team_joins_submits_and_sees_its_own_results(db, lang):
    case = load_case("telecom")
    code, passcode, _ = db.create_room(case, 500, 9, rounds=2, round_months=3)
    at = _join(_page(lang), code, "[Blue](http://x) <b>", lang)
    shown = t("room.joined", lang, name="", code=code).split("“")[0][:4]
    assert any(shown in s.value for s in at.success)
    assert at.session_state["setup"]["customers"] == 500 and at.session_state["setup"]["seed"] == 9
    assert at.query_params["room"] in (code, [code])
    spending = next(
        c.value
        for c in at.caption
        if c.value.startswith(t("room.team.spending", lang, total="", budget="")[:4])
    )
    assert ("元" in spending) if lang == "zh" else ("¥" in spending)  # the sign, not "CNY"
    assert "CNY" not in spending
    at.button(key="room_submit_room").click().run()
    assert not at.exception
    saved = db.status(code, passcode)
    assert saved["submitted_at"].notna().all() and saved["version"].tolist() == [1]
    db.reveal(code, passcode, 1)
    at.run()
    assert not at.exception
    labels = {m.label for m in at.metric}
    assert {t("room.score", lang), t("kpi.npv", lang), t("kpi.retention_rate", lang)} <= labels
    npv = next(m for m in at.metric if m.label == t("kpi.npv", lang)).value
    assert ("万" in npv) if lang == "zh" else ("K" in npv or "M" in npv)  # not 5,575,859.87
    assert npv.endswith("元") if lang == "zh" else npv.startswith("¥")  # not "CNY"
    from streamlit.proto.Metric_pb2 import Metric as MetricProto

    for m in at.metric:  # the status quo was submitted: no change, shown grey without an arrow
        assert not any(ch in "123456789" for ch in m.proto.delta), m.proto.delta
        assert m.proto.color == MetricProto.MetricColor.GRAY, m.label
        assert m.proto.direction == MetricProto.MetricDirection.NONE, m.label
    boards = [d.value for d in at.dataframe if t("room.teams", lang) in d.value.columns]
    assert any("[Blue](http://x) <b>" in set(b[t("room.teams", lang)]) for b in boards)
    assert len(at.get("plotly_chart")) >= 1  # the team's own run


def test_an_invalid_grid_cannot_be_submitted_and_a_valid_one_is_saved_as_shown(db):
    case = load_case("telecom")
    code = db.create_room(case, 500, 9, rounds=2, round_months=3).code
    at = _join(_page("en"), code, "Blue", "en")
    grid_key = f"plan_grid_{at.session_state.get('plan_version', 0)}"
    care = t("lever.care", "en")
    at.session_state[grid_key] = {
        "edited_rows": {0: {care: 2_000_000.0}},  # far over the budget
        "added_rows": [],
        "deleted_rows": [],
    }
    at.switch_page("pages/plan.py").run()
    assert not at.exception
    submit = at.button(key="room_submit_plan")
    assert submit.disabled
    assert any(t("room.team.cannot_submit", "en") in e.value for e in at.error)
    at.session_state[grid_key] = {
        "edited_rows": {0: {care: 9_500.0}},
        "added_rows": [],
        "deleted_rows": [],
    }
    at.run()
    assert not at.button(key="room_submit_plan").disabled
    at.button(key="room_submit_plan").click().run()
    assert not at.exception
    token = at.session_state["room_seat"]["token"]
    saved = db.my_plan(code, token, 1)
    assert saved.allocations["key"].care == 9_500.0  # exactly the grid on screen


def test_a_stale_tab_is_told_not_saved_and_why(db):
    case = load_case("telecom")
    code, passcode, _ = db.create_room(case, 500, 9, rounds=2, round_months=3)
    at = _join(_page("en"), code, "Blue", "en")
    db.reveal(code, passcode, 1)  # the instructor moved on after this tab was drawn
    db.advance(code, passcode, 1)
    at.button(key="room_submit_room").click().run()
    assert not at.exception
    message = next(e.value for e in at.error if t("room.team.not_saved", "en") in e.value)
    assert "round 1 is closed" in message
    token = at.session_state["room_seat"]["token"]
    assert db.my_plan(code, token, 1) is None and db.my_plan(code, token, 2) is None


def test_a_reload_and_a_restart_keep_the_seat_and_a_closed_seat_says_so(db, tmp_path):
    case = load_case("telecom")
    code, passcode, _ = db.create_room(case, 500, 9)
    team, token = db.join(code, "Green")
    db.submit(code, token, care_plan(case, 1.1), 1)
    st.cache_resource.clear()  # the server restarted: only the address is left
    at = _page("zh", room=code, team=token)
    assert at.session_state["room_seat"]["name"] == "Green"
    saved = [s.value for s in at.success if "（第 1 版）" in s.value]
    assert saved and "不同" in saved[0]  # its saved plan, which differs from the one shown
    assert at.session_state["setup"]["customers"] == 500
    db.remove_team(code, passcode, team.id)
    at.run()
    assert not at.exception
    assert any(t("room.team.seat_closed", "zh") in w.value for w in at.warning)
    gone = _page("zh", room=code, team=token)  # the old link after the removal
    assert any(t("url.seat_gone", "zh") in w.value for w in gone.warning)
    assert gone.text_input(key="room_join_code").value == code  # the join form, filled in


def test_a_teammate_rejoins_with_the_pin(db):
    case = load_case("telecom")
    code, _, _ = db.create_room(case, 500, 9)
    team, _ = db.join(code, "Red")
    at = _page("en", room=code)
    assert at.text_input(key="room_join_code").value == code
    at.text_input(key="room_rejoin_name").input("red")
    at.text_input(key="room_rejoin_pin").input(team.pin)
    _button(at, "room.team.rejoin_button", "en").click().run()
    assert not at.exception
    assert at.session_state["room_seat"]["name"] == "Red"


def test_the_passcode_is_shown_once_privately_and_never_on_the_console(db):
    at = _page("en", tab="instructor")
    _button(at, "room.create", "en").click().run()
    keys = at.session_state["room_keys_once"]
    assert keys["passcode"] in [c.value for c in at.code]  # in the private box, once
    _button(at, "room.console.keys_done", "en").click().run()
    page = _texts(at)
    assert keys["code"] in page
    assert keys["passcode"] not in page and keys["link"] not in page
    assert t("room.console.no_teams", "en") in page and not at.dataframe  # no empty table
    _, token = db.join(keys["code"], "Blue")
    db.submit(keys["code"], token, db.room(keys["code"]).case.status_quo, 1)
    at.run()
    assert keys["passcode"] not in _texts(at)
    monitor = next(d.value for d in at.dataframe if t("room.console.status", "en") in d.value)
    assert list(monitor["Teams"]) == ["Blue"] and "submitted" in monitor.iloc[0, 1]
    at.button(key="room_do_reveal").click().run()
    assert not at.exception and db.room(keys["code"]).phase == "revealed"
    # a reload of the console: the keys are gone from the session and the page
    again = _page("en", tab="instructor", room=keys["code"])
    assert keys["passcode"] not in _texts(again)
    assert again.text_input(key="room_admin_code").value == keys["code"]


def test_the_instructor_link_opens_the_console_and_leaves_the_address(db):
    keys = db.create_room(load_case("telecom"), 500, 9)
    at = _page("zh", room=keys.code, admin=keys.link)
    assert "admin" not in at.query_params
    assert at.session_state["room_admin"]["code"] == keys.code
    assert keys.link not in _texts(at)


def test_a_reveal_with_missing_teams_asks_first(db):
    keys = db.create_room(load_case("telecom"), 500, 9)
    db.join(keys.code, "Blue")
    at = _page("zh", tab="instructor", room=keys.code, admin=keys.link)
    at.button(key="room_do_reveal").click().run()
    assert any(t("room.console.missing", "zh", n=1) in w.value for w in at.warning)
    assert db.room(keys.code).phase == "open"
    at.button(key="room_do_reveal_anyway").click().run()
    assert db.room(keys.code).phase == "revealed"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_bad_code_and_bad_passcode_are_explained(db, lang):
    at = _page(lang)
    at.text_input(key="room_join_code").input("NOPE99").run()
    assert not at.exception
    assert t("room.err.room_not_found", lang) in at.error[0].value
    code = db.create_room(load_case("telecom"), 500, 9).code
    at = _page(lang, tab="instructor")
    at.text_input(key="room_admin_code").input(code)
    at.text_input(key="room_admin_pass").input("wrong")
    _button(at, "room.open_room", lang).click().run()
    assert not at.exception
    assert any(t("room.err.bad_passcode", lang) in e.value for e in at.error)


@pytest.mark.parametrize("tab", ["student", "instructor"])
def test_an_unreachable_database_is_reported_on_every_surface(monkeypatch, tab):
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://nobody:x@127.0.0.1:1/none")
    st.cache_resource.clear()
    at = _page("zh", tab=tab)
    if tab == "student":
        at.text_input(key="room_join_code").input("ABCDEF").run()
    else:
        _button(at, "room.create", "zh").click().run()
    assert not at.exception
    assert any("暂时无法连接课堂数据库" in e.value for e in at.error)
    assert all("127.0.0.1" not in e.value and "psycopg" not in e.value for e in at.error)


def test_a_full_disk_during_a_reveal_is_told_on_the_console(db, monkeypatch):
    keys = db.create_room(load_case("telecom"), 500, 9)
    _, token = db.join(keys.code, "Blue")
    db.submit(keys.code, token, db.room(keys.code).case.status_quo, 1)
    at = _page("zh", tab="instructor", room=keys.code, admin=keys.link)

    def full(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("INSERT INTO CRM_RESULTS"):
            raise sa.exc.OperationalError(statement, {}, Exception("database or disk is full"))

    from crmsim.ui.classroom import store

    sa.event.listen(store().engine, "before_cursor_execute", full)
    at.button(key="room_do_reveal").click().run()
    assert not at.exception
    assert any("课堂数据库已满" in e.value for e in at.error)
    assert db.results(keys.code).empty  # nothing half-published
    sa.event.remove(store().engine, "before_cursor_execute", full)


def test_error_details_are_off_for_users():
    import tomllib

    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["client"]["showErrorDetails"] == "none"


def test_the_server_does_not_collect_all_garbage_after_every_run():
    """Streamlit's default full collection after each script run took more than half of the
    server's CPU with 40 classroom tabs polling; the setting travels with ``crmlab`` too."""
    import tomllib

    from crmsim.ui import launch

    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["runner"]["postScriptGC"] is False
    assert "--runner.postScriptGC=false" in launch.command([])


def test_the_score_by_round_chart_is_drawn_only_when_opened(db):
    """After a reveal every open tab draws its page at once: the team's own run is drawn,
    every team's score by round waits in an expander until it is opened."""
    case = load_case("telecom")
    code, passcode, _ = db.create_room(case, 500, 9, rounds=2, round_months=3)
    tokens = [db.join(code, name)[1] for name in ("A", "B")]
    for rnd in (1, 2):
        for i, token in enumerate(tokens):
            db.submit(code, token, care_plan(case, 0.5 + 0.2 * i + 0.1 * rnd), rnd)
        db.reveal(code, passcode, rnd)
        if rnd == 1:
            db.advance(code, passcode, 1)
    at = _page("en", room=code, team=tokens[0])
    assert t("room.html_scores", "en") in [e.label for e in at.expander]
    assert len(at.get("plotly_chart")) == 1  # the team's own run
    at.session_state["room_scores_open"] = True  # the student opens the expander
    at.run()
    assert not at.exception
    specs = [c.proto.spec for c in at.get("plotly_chart")]
    assert len(specs) == 2 and '"name":"B"' in specs[1].replace(" ", "")


def test_each_tab_polls_the_room_in_a_rhythm_of_its_own(monkeypatch):
    """Tabs drawn at the same moment must not poll in step: each session draws its poll
    interval once, within 15 % of ``POLL_S``, and keeps it on every rerun."""
    from types import SimpleNamespace

    from crmsim.ui import room_team

    intervals = []
    for _ in range(24):
        session = SimpleNamespace(session_state={})  # a new browser session
        monkeypatch.setattr(room_team, "st", session)
        first = room_team.poll_every()
        assert room_team.poll_every() == first  # the next run of the same session
        intervals.append(first)
    assert all(0.85 * POLL_S - 0.01 <= v <= 1.15 * POLL_S + 0.01 for v in intervals)
    assert len(set(intervals)) >= 12  # drawn per session, not one for all
    assert max(intervals) - min(intervals) > 0.15 * POLL_S  # over half the 30 % range


def test_a_change_that_lands_while_the_page_is_drawn_is_drawn_at_once(db, monkeypatch):
    """On a busy server a reveal can land while a tab's page is being drawn: the page draws
    itself again at once (``room_team.catch_up``) instead of showing the old round until
    its next poll."""
    from crmsim.ui import room_results

    case = load_case("telecom")
    code, passcode, _ = db.create_room(case, 500, 9, rounds=2, round_months=3)
    token = db.join(code, "A")[1]
    db.submit(code, token, care_plan(case, 0.8), 1)
    real, drawn = room_results.others_plans, []

    def others_plans(room, lang):  # the last part of the page; the reveal lands meanwhile
        drawn.append((room.phase, room.version))
        if len(drawn) == 1:
            db.reveal(code, passcode, 1)
        return real(room, lang)

    monkeypatch.setattr(room_results, "others_plans", others_plans)
    at = _page("en", room=code, team=token)
    now = db.room(code)
    assert now.phase == "revealed"
    assert drawn == [("open", now.version - 2), ("revealed", now.version)]  # locked, published
    assert at.session_state["room_drawn_version"] == now.version
    heading = t("room.team.results_of", "en", round=f"{t('room.round', 'en')} 1")
    assert heading in [h.value for h in at.subheader]
