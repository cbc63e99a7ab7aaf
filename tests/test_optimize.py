"""The plan search: it finds the known best plan of a tiny hand-made case, every plan it
proposes passes the plan check, and the CLI writes its result (and an answer key)."""

import json

import pytest

from crmsim import optimize
from crmsim.cases import builtin_case_ids, load_case
from crmsim.cli import main
from crmsim.plans import budget_use, check_plan, segment_spend
from crmsim.population import generate
from crmsim.segmentation import segment_for_case


def _managers_only_case():
    """A case where only key-account managers do anything: the money levers have no effect, so
    the best plan is the right number of managers for the key segment and nothing else."""
    base = load_case("telecom")
    model = base.model.model_copy(
        update={
            "q_care": 0.0,
            "care_fail_cut": 0.0,
            "q_cross_sell": 0.0,
            "sow_cross_sell": 0.0,
            "cross_sell_annoy": 0.0,
            "recovery_gain": 0.0,
            "voice_boost": 0.0,
            "rewards_value": 0.0,
            "h_lockin": 0.0,
            "price_weight": 0.0,
            "h_discount": 0.0,
            "q_kam": 0.3,
            "sow_kam": 0.4,
            "h_kam": 1.5,
            "valuation_months": 6,
            "valuation_smoothing": 3,
        }
    )
    costs = base.costs.model_copy(update={"kam_salary": 2000.0, "kam_accounts": 20})
    population = base.population.model_copy(update={"customers": 1000})
    sq = base.status_quo.model_copy(
        update={
            "acquisition": {},
            "allocations": {
                s: lv.model_copy(update={"care": 500.0, "recovery": 0.0, "cross_sell": 0.0})
                for s, lv in base.status_quo.allocations.items()
            },
        }
    )
    return base.model_copy(
        update={
            "id": "managers_only",
            "months": 12,
            "budget": 16_000.0,  # up to eight managers
            "acquisition": {},
            "model": model,
            "costs": costs,
            "population": population,
            "status_quo": sq,
        }
    )


def _managers_plan(case, k: int):
    sq = case.status_quo
    alloc = {
        s: lv.model_copy(update={"care": 0.0, "kam": k if s == "key" else 0})
        for s, lv in sq.allocations.items()
    }
    return sq.model_copy(update={"allocations": alloc})


def test_search_finds_the_known_best_plan_of_a_tiny_case():
    case = _managers_only_case()
    # the known best: every headcount for the key segment scored on the search's own books
    ev = optimize.Evaluator(case, 800, optimize.SEARCH_SEEDS)
    by_k = {k: ev.mean(_managers_plan(case, k)) for k in range(9)}
    best_k = max(by_k, key=by_k.get)
    assert 0 < best_k < 8  # an interior optimum: managers pay, up to a point
    res = optimize.search(case, evals=80, seed=3, customers=800)
    best = res.best
    assert best.allocations["key"].kam == best_k
    assert all(lv.kam == 0 for s, lv in best.allocations.items() if s != "key")
    money = sum(lv.care + lv.recovery + lv.cross_sell for lv in best.allocations.values())
    assert money <= 0.15 * case.budget  # the useless levers get (next to) nothing
    assert res.check["best"]["vs_status_quo"] > 0.02
    assert res.check["best"]["score"] > max(
        row["score"] for name, row in res.check.items() if name != "best"
    )


def test_every_plan_the_search_proposes_passes_the_plan_check():
    case = load_case("telecom")
    ev = optimize.Evaluator(case, 1000, (1,))
    spend = segment_spend(ev.books[1], ev.segs[1], case)
    space = optimize.Space(case, list(ev.segs[1].names), list(case.acquisition), spend)
    from crmsim import rng

    gen = rng.stream(5, 1)
    g = space.genome(case.status_quo)
    seen = 0
    for _ in range(200):
        cand = optimize._mutate(g, gen, space)
        plan = space.plan(cand)
        if plan is None:  # managers and rates alone over the budget: the search skips it
            continue
        g, seen = cand, seen + 1
        assert check_plan(plan, space.segments, case, spend) == []
        assert budget_use(plan, case, spend)["total"] <= case.budget * (1 + 1e-9)
    assert seen > 100


def test_capping_acquisition_moves_the_money_to_retention():
    case = load_case("telecom")
    plan = case.status_quo.model_copy(update={"acquisition": {"online": 20_000.0}})
    capped = optimize.capped_acquisition(plan, case, 0.25)
    assert sum(capped.acquisition.values()) <= 0.25 * case.budget
    before = sum(lv.care + lv.cross_sell for lv in plan.allocations.values())
    after = sum(lv.care + lv.cross_sell for lv in capped.allocations.values())
    assert after + sum(capped.acquisition.values()) == pytest.approx(before + 20_000.0, abs=10)


def test_optimize_command_writes_its_result(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(optimize, "CHECK_SEEDS", (201, 202))
    out_file = tmp_path / "best.json"
    args = ["--case", "rice_shop", "--evals", "20", "--customers", "400", "--json", str(out_file)]
    code = main(["--lang", "zh", "optimize", *args])
    out, err = capsys.readouterr()
    assert code == 0 and "Traceback" not in out + err
    data = json.loads(out_file.read_text(encoding="utf-8"))
    assert data["case"] == "rice_shop" and data["evals"] >= 20
    assert {"best", "status_quo", "zero", "pyramid"} <= set(data["check"])
    assert "agrees_with_course" in data["checks"] and "最佳方案" in out + err
    # the best plan is a valid plan of the case
    case = load_case("rice_shop")
    pop = generate(case, 400, seed=1)
    seg = segment_for_case(pop.customers, "abc", {}, case, 1)
    plan = optimize.Plan.model_validate(data["best_plan"])
    assert [i.key for i in check_plan(plan, seg.names, case, segment_spend(pop, seg, case))] in (
        [],
        ["over_budget"],  # another book's forecast may differ by a little
    )


def test_answer_key_is_read_back_for_a_room(tmp_path, monkeypatch):
    monkeypatch.setattr(optimize, "ANSWER_KEYS", tmp_path)
    case = load_case("telecom")
    assert optimize.best_plan(case, 2000, 1, 36) is None
    (tmp_path / "telecom.json").write_text(
        json.dumps({"best_plan": case.status_quo.model_dump()}), encoding="utf-8"
    )
    assert optimize.best_plan(case, 2000, 1, 36) == case.status_quo


def test_a_preset_is_scored_on_its_own_segmentation():
    # beijing_post's status quo segments by ABC; the pyramid preset names key/ordinary/small:
    # run on ABC segments its money would reach nobody and it would score like zero service.
    case = load_case("beijing_post")
    ev = optimize.Evaluator(case, 1500, (1,))
    seg = ev.segs[1]
    pyramid = optimize.preset_plan("pyramid", case, seg, 1500)
    assert pyramid.segmentation != case.status_quo.segmentation
    assert set(ev.segmentation(pyramid, 1).names) == set(pyramid.allocations)
    zero = optimize.preset_plan("zero", case, seg, 1500)
    assert ev.mean(pyramid) > ev.mean(zero) * 1.05


@pytest.mark.parametrize("case_id", builtin_case_ids())
def test_every_built_in_case_has_a_valid_answer_key(case_id):
    """The stored answer keys (``optimize --answer-key``) stay plans of their case: a case
    edited so that its key no longer fits fails here until the key is searched again."""
    case = load_case(case_id)
    data = json.loads((optimize.ANSWER_KEYS / f"{case_id}.json").read_text(encoding="utf-8"))
    key = optimize.best_plan(case, 2000, 1, case.months)
    assert key is not None and key.segmentation == case.status_quo.segmentation
    pop = generate(case, 2000, seed=1)
    seg = segment_for_case(pop.customers, key.segmentation.method, key.segmentation.params, case, 1)
    spend = segment_spend(pop, seg, case)
    issues = check_plan(key, seg.names, case, spend)
    assert [i.key for i in issues] in ([], ["over_budget"])  # another book's forecast
    assert budget_use(key, case, spend)["total"] <= case.budget * 1.03
    assert data["checks"]["agrees_with_course"] is True
    assert data["check"]["best"]["vs_status_quo"] > 2 * data["check"]["best"]["vs_status_quo_se"]
