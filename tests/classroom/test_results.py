"""Each team's own results: its run month by month for its charts, and its gap to the
answer key once the instructor shows it."""

import numpy as np
import plotly.graph_objects as go
import pytest

from crmsim import optimize
from crmsim.classroom import ClassroomError
from crmsim.plans import preset_plan
from tests.classroom.helpers import care_plan, open_room


def test_each_team_gets_its_own_run_month_by_month(store, case):
    code, pw = open_room(store, case)  # 3 rounds of 4 months
    _, a = store.join(code, "Alpha")
    _, b = store.join(code, "Beta")
    store.submit(code, a, care_plan(case, 1.1), 1)
    store.submit(code, b, preset_plan("zero", case), 1)
    store.reveal(code, pw, 1)
    store.advance(code, pw, 1)
    store.submit(code, a, care_plan(case, 0.9), 2)
    store.reveal(code, pw, 2)
    mine = store.team_results(code, a)
    assert [r["round"] for r in mine] == [1, 2]
    one, two = mine[0]["series"], mine[1]["series"]
    assert two["month"] == list(range(1, 9)) and two["round_months"] == 4
    retained = np.array(two["retained"])
    assert np.all((retained > 0) & (retained <= 1)) and np.all(np.diff(retained) <= 0)
    assert set(two["segments"]) == {"key", "ordinary", "small"}
    by_segment = np.sum([v for v in two["segments"].values()], axis=0)
    assert np.allclose(by_segment, two["active"])
    # round 2 continues round 1's run: its first four months are round 1's
    for key in ("active", "profit", "satisfaction"):
        assert two[key][:4] == pytest.approx(one[key], rel=1e-5)
    assert mine[1]["played"] == [[1, 1], [2, 1]]
    assert mine[1]["kpis"]["profit"] == pytest.approx(sum(two["profit"]), rel=1e-4)
    theirs = store.team_results(code, b)
    assert theirs[1]["played"] == [[1, 1], [1, 1]]  # Beta kept its plan
    with pytest.raises(ClassroomError):
        store.team_results(code, "forged")


def test_the_answer_key_shows_once_the_instructor_reveals_it(store, case, monkeypatch):
    key_plan = care_plan(case, 1.2)
    monkeypatch.setattr(optimize, "best_plan", lambda case_, customers, seed, months: key_plan)
    code, pw = open_room(store, case)
    _, a = store.join(code, "Alpha")
    _, b = store.join(code, "Beta")
    store.submit(code, a, key_plan, 1)
    store.submit(code, b, preset_plan("zero", case), 1)
    store.reveal(code, pw, 1)
    assert store.answer_key(code, 1) is None  # not shown yet
    store.show_answer_key(code, pw)
    key = store.answer_key(code, 1)
    res = store.results(code).set_index("team")
    assert key["score"] == pytest.approx(res.loc["Alpha", "score"])  # played the key: no gap
    assert key["score"] > res.loc["Beta", "score"]
    assert store.answer_key(code, 2) is None  # not revealed yet


def test_a_case_without_an_answer_key_shows_none(store, case, monkeypatch, tmp_path):
    monkeypatch.setattr(optimize, "ANSWER_KEYS", tmp_path)  # no stored key for any case
    code, pw = open_room(store, case)
    store.reveal(code, pw, 1)
    store.show_answer_key(code, pw)
    assert store.room(code).key_revealed and store.answer_key(code, 1) is None


def test_the_plan_searchs_stored_key_is_the_answer_key(store, case, monkeypatch, tmp_path):
    """Through the real ``crmsim.optimize.best_plan``: a key stored for the room's case is
    played and scored like a team; a case without a stored key has none."""
    import json

    from crmsim import optimize
    from crmsim.classroom import scoring

    monkeypatch.setattr(optimize, "ANSWER_KEYS", tmp_path)  # no keys stored yet
    scoring._best_plan.cache_clear()
    code, pw = open_room(store, case)
    _, a = store.join(code, "Alpha")
    key_plan = care_plan(case, 1.2)
    store.submit(code, a, key_plan, 1)
    store.reveal(code, pw, 1)
    store.show_answer_key(code, pw)
    assert store.answer_key(code, 1) is None
    (tmp_path / f"{case.id}.json").write_text(json.dumps({"best_plan": key_plan.model_dump()}))
    scoring._best_plan.cache_clear()
    key = store.answer_key(code, 1)
    assert key["score"] == pytest.approx(
        store.results(code).set_index("team").loc["Alpha", "score"]
    )
    scoring._best_plan.cache_clear()


def test_a_teams_charts_show_its_run_against_the_status_quo_and_every_team(store, case):
    from crmsim import charts
    from crmsim.classroom.scoring import status_quo_run
    from crmsim.i18n import t

    code, pw = open_room(store, case)  # 3 rounds of 4 months
    tokens = {n: store.join(code, n)[1] for n in ("<b>Big</b>", "Beta")}
    for rnd in (1, 2):
        for i, token in enumerate(tokens.values()):
            store.submit(code, token, care_plan(case, 0.6 + 0.3 * i + 0.1 * rnd), rnd)
        store.reveal(code, pw, rnd)
        if rnd == 1:
            store.advance(code, pw, 1)
    mine = store.team_results(code, tokens["<b>Big</b>"])[-1]
    _, base = status_quo_run(store.room(code), 2)
    run = charts.team_run(mine["series"], "zh", base, case.currency).to_dict()
    # money in 万元 as on the cards (not 100,000): the profit panel's title and values
    notes = [a["text"] for a in run["layout"]["annotations"]]
    assert t("kpi.profit", "zh") + "（万元）" in notes
    profit = [tr for tr in run["data"] if tr.get("yaxis") == "y2"]
    assert [list(tr["y"]) for tr in profit] == [
        pytest.approx([v / 1e4 for v in base["profit"]]),
        pytest.approx([v / 1e4 for v in mine["series"]["profit"]]),
    ]
    english = charts.team_run(mine["series"], "en", base, case.currency).to_dict()
    assert english["layout"]["yaxis2"]["tickprefix"] == "¥"  # ¥100k, as the other charts
    assert run["layout"]["yaxis4"]["tickformat"] == ",d"  # customers: 10,000, not 10k
    assert "tickformat" not in english["layout"]["yaxis4"]
    axes = [tr.get("yaxis", "y") for tr in run["data"]]
    assert axes.count("y") == axes.count("y2") == axes.count("y3") == 2  # yours, status quo
    assert axes.count("y4") == len(mine["series"]["segments"])  # customers by segment
    yours = [tr for tr in run["data"] if tr["name"] == t("room.team.your_run", "zh")]
    assert list(yours[0]["y"]) == pytest.approx(mine["series"]["retained"])
    assert [tr["line"]["dash"] for tr in run["data"] if tr.get("legendgroup") == "sq"] == [
        "dot"
    ] * 3
    assert sorted({s["x0"] for s in run["layout"]["shapes"]}) == [4.5]  # round 2 began
    assert len(run["layout"]["shapes"]) == 4  # on every panel
    scores = charts.round_scores(store.results(code), "en", "<b>Big</b>").to_dict()
    by_name = {tr["name"]: tr for tr in scores["data"]}
    assert set(by_name) == {"&lt;b&gt;Big&lt;/b&gt;", "Beta"}  # a name is text, not HTML
    big, beta = by_name["&lt;b&gt;Big&lt;/b&gt;"], by_name["Beta"]
    assert big["line"]["width"] > beta["line"]["width"] and beta["opacity"] < 1
    assert list(big["x"]) == [1, 2] and len(beta["y"]) == 2
    assert scores["layout"]["xaxis"]["dtick"] == 1
    for fig in (run, scores):  # built without Plotly's check: every property passes it
        assert go.Figure(fig).to_dict() == fig
