"""The engine: exact agreement with the per-customer oracle, common random numbers, lever
effects, statistical properties with tolerances, and output bookkeeping."""

import itertools

import numpy as np
import pandas as pd
import pytest

from crmsim.cases import Event, load_case
from crmsim.metrics import kpis, roi
from crmsim.model.reference import reference_simulate
from crmsim.model.run import simulate
from crmsim.model.state import CHURNED
from crmsim.plans import LEVERS, Levers, Plan, preset_plan
from crmsim.population import generate

COUNTS = [
    "active_start",
    "new",
    "churned",
    "complaints",
    "resolved",
    "unresolved",
    "silent",
    "failures",
]
MONEY = ["revenue", "gross_margin", "rewards_cost", "avg_satisfaction", "avg_loyalty"]


def _assert_matches_oracle(pop, case, plan, months, seed):
    res = simulate(pop, case, plan, months, seed)
    ref = reference_simulate(pop, case, plan, months, seed)
    o = pd.DataFrame(ref.monthly)
    for col in COUNTS:
        np.testing.assert_array_equal(res.monthly[col].to_numpy(), o[col].to_numpy(), err_msg=col)
    for col in MONEY:
        np.testing.assert_allclose(
            res.monthly[col].to_numpy(), o[col].to_numpy(), rtol=1e-5, err_msg=col
        )
    c = res.customers
    used = len(c)
    churn = np.array([h[0] for h in ref.horizon[:used]])
    np.testing.assert_array_equal(c["churn_month"].to_numpy(), churn)
    margin = np.array([h[1] for h in ref.horizon[:used]])
    np.testing.assert_allclose(c["margin"].to_numpy(), margin, rtol=1e-4, atol=1e-3)
    # the valuation months played on past the horizon: survivors' smoothed margin and hazard
    alive = np.array([p.stage < CHURNED for p in ref.people[:used]])
    np.testing.assert_array_equal(c["equity_alive"].to_numpy(), alive)
    for col, attr in (("equity_margin", "val_margin"), ("equity_hazard", "val_hazard")):
        want = np.array([getattr(p, attr) for p in ref.people[:used]])[alive]
        got = c[col].to_numpy()[alive]
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4, err_msg=col)
    return res


def _rich_case(case):
    events = [
        Event(
            month=4,
            kind="competitor_entry",
            param="hazard_shift",
            value=0.3,
            title={"zh": "竞争者进入", "en": "Competitor entry"},
        ),
        Event(
            month=6,
            months=2,
            kind="outage",
            param="p_fail",
            op="mul",
            value=3.0,
            title={"zh": "网络故障", "en": "Outage"},
        ),
        Event(
            month=8,
            kind="salesperson_leaves",
            param="kam_capacity",
            op="mul",
            value=0.5,
            title={"zh": "骨干销售离职", "en": "Key salesperson leaves"},
        ),
        Event(
            month=8,
            months=3,
            kind="salesperson_leaves",
            param="key_hazard_shift",
            value=0.8,
            title={"zh": "带走客户", "en": "Takes accounts"},
        ),
        Event(
            month=10,
            kind="price_war",
            param="value_shift",
            value=0.04,
            title={"zh": "价格战", "en": "Price war"},
        ),
    ]
    return case.model_copy(update={"events": events})


def _rich_plan(case):
    plan = case.status_quo.model_copy(deep=True)
    plan.name = "rich"
    plan.allocations["key"].kam = 2
    plan.allocations["ordinary"].discount = 0.12
    plan.allocations["ordinary"].cross_sell = 4000.0
    plan.allocations["small"].rewards = 0.04
    plan.acquisition = {"online": 4000.0, "referral": 3000.0, "telephone": 1500.0}
    return plan


def test_oracle_status_quo(telecom, pop_small):
    _assert_matches_oracle(pop_small, telecom, telecom.status_quo, 12, 11)


def test_oracle_every_lever_acquisition_and_events(telecom):
    pop = generate(telecom, 900, seed=8)
    case = _rich_case(telecom)
    res = _assert_matches_oracle(pop, case, _rich_plan(case), 14, 8)
    assert res.monthly["new"].sum() > 0 and res.monthly["resolved"].sum() > 0


def test_oracle_non_contractual_retail():
    case = load_case("retail")
    pop = generate(case, 800, seed=2)
    _assert_matches_oracle(pop, case, case.status_quo, 10, 2)


def test_same_seed_same_result_and_population_untouched(telecom, pop_small):
    wallet = pop_small.traits.wallet.copy()
    s0 = pop_small.state.S.copy()
    a = simulate(pop_small, telecom, telecom.status_quo, 12, 3)
    b = simulate(pop_small, telecom, telecom.status_quo, 12, 3)
    pd.testing.assert_frame_equal(a.monthly, b.monthly)
    pd.testing.assert_frame_equal(a.customers, b.customers)
    np.testing.assert_array_equal(pop_small.traits.wallet, wallet)
    np.testing.assert_array_equal(pop_small.state.S, s0)
    c = simulate(pop_small, telecom, telecom.status_quo, 12, 4)
    assert not a.monthly["churned"].equals(c.monthly["churned"])


def test_two_plans_on_one_seed_share_their_luck(telecom, pop_mid):
    """Change only the small customers' care: everyone else lives exactly the same months."""
    base = telecom.status_quo.model_copy(deep=True)
    base.acquisition = {}
    other = base.model_copy(deep=True)
    other.allocations["small"].care *= 3
    a = simulate(pop_mid, telecom, base, 24, 5)
    b = simulate(pop_mid, telecom, other, 24, 5)
    seg = a.customers["segment"].to_numpy()
    small = a.segments.index("small")
    np.testing.assert_array_equal(
        a.customers["churn_month"][seg != small], b.customers["churn_month"][seg != small]
    )
    assert not np.array_equal(
        a.customers["satisfaction"][seg == small], b.customers["satisfaction"][seg == small]
    )


def test_plan_differences_are_mostly_effect_not_luck(telecom):
    """Across seeds, the paired difference between two plans varies far less than either
    plan's own result: common random numbers at work."""
    zero = preset_plan("zero", telecom)
    sq, diffs = [], []
    for seed in range(4):
        pop = generate(telecom, 2000, seed=100 + seed)
        a = simulate(pop, telecom, telecom.status_quo, 18, seed).cohorts[0, -1]
        b = simulate(pop, telecom, zero, 18, seed).cohorts[0, -1]  # survivors of the book
        sq.append(a)
        diffs.append(a - b)
    assert min(diffs) > 0
    assert np.std(diffs) < np.std(sq)


def test_zero_service_retains_fewer_than_status_quo(telecom, pop_mid):
    sq = simulate(pop_mid, telecom, telecom.status_quo, 36, 5)
    zero = simulate(pop_mid, telecom, preset_plan("zero", telecom), 36, 5)
    assert kpis(zero, telecom)["retention_rate"] < kpis(sq, telecom)["retention_rate"] - 0.01
    assert zero.monthly["avg_satisfaction"].iloc[-1] < sq.monthly["avg_satisfaction"].iloc[-1]


def _one_month(pop, case, segment, lever, values):
    out = []
    for v in values:
        plan = Plan(name=f"{lever}={v}", allocations={segment: Levers(**{lever: v})})
        out.append(simulate(pop, case, plan, 1, 9, sample_size=0))
    return out


GRID = [0.0, 500.0, 2000.0, 8000.0, 32000.0]


def test_more_care_never_means_more_failures(telecom, pop_mid):
    runs = _one_month(pop_mid, telecom, "small", "care", GRID)
    fails = [r.monthly["failures"].iloc[0] for r in runs]
    assert all(a >= b for a, b in itertools.pairwise(fails)) and fails[0] > fails[-1]


def test_more_recovery_money_never_resolves_fewer(telecom, pop_mid):
    runs = _one_month(pop_mid, telecom, "small", "recovery", GRID)
    resolved = [r.monthly["resolved"].iloc[0] for r in runs]
    assert runs[0].monthly["complaints"].iloc[0] == runs[-1].monthly["complaints"].iloc[0]
    assert all(a <= b for a, b in itertools.pairwise(resolved))
    assert resolved[-1] > resolved[0]


def test_more_cross_selling_never_lowers_spend_of_the_satisfied(telecom, pop_mid):
    """Direct effect only: below the fatigue dose and for customers not annoyed by it (S ≥ 0.5),
    every extra yuan of personalised marketing raises each customer's spend."""
    fatigue_free = 3 * telecom.costs.cross_sell * 600 / (pop_mid.n / 10_000)  # u = 3 for 600
    runs = _one_month(pop_mid, telecom, "key", "cross_sell", list(np.linspace(0, fatigue_free, 5)))
    c = runs[0].customers
    who = (c["segment"].to_numpy() == runs[0].segments.index("key")) & (pop_mid.state.S >= 0.5)
    rev = np.array([r.customers["revenue"].to_numpy()[who] for r in runs])
    assert (np.diff(rev, axis=0) >= -1e-3).all()
    assert rev[-1].sum() > rev[0].sum()


def test_cross_selling_annoys_the_dissatisfied(telecom, pop_mid):
    runs = _one_month(pop_mid, telecom, "key", "cross_sell", [0.0, 20000.0])
    c = runs[0].customers
    key = c["segment"].to_numpy() == runs[0].segments.index("key")
    unhappy = key & (pop_mid.state.S < 0.5) & (pop_mid.state.L > 0.3)
    assert unhappy.sum() > 0
    sat = [r.customers["satisfaction"].to_numpy()[unhappy] for r in runs]
    assert (sat[1] <= sat[0] + 1e-6).all() and sat[1].mean() < sat[0].mean()


@pytest.mark.parametrize(
    ("lever", "values"),
    [
        ("kam", [0, 1, 2, 4, 8]),
        ("rewards", [0.0, 0.01, 0.05, 0.2]),
        ("discount", [0.0, 0.05, 0.1, 0.3]),
    ],
)
def test_value_levers_never_lower_satisfaction(telecom, pop_mid, lever, values):
    runs = _one_month(pop_mid, telecom, "key", lever, values)
    seg = runs[0].customers["segment"].to_numpy() == runs[0].segments.index("key")
    sats = np.array([r.customers["satisfaction"].to_numpy()[seg] for r in runs])
    assert (np.diff(sats, axis=0) >= -1e-6).all()
    assert sats[-1].mean() > sats[0].mean()


def test_diminishing_returns(telecom, pop_mid):
    zero = simulate(pop_mid, telecom, preset_plan("zero", telecom), 36, 5)

    def scaled(k):
        plan = telecom.status_quo.model_copy(deep=True)
        plan.acquisition = {}
        for lv in plan.allocations.values():
            for name in ("care", "recovery", "cross_sell"):
                setattr(lv, name, getattr(lv, name) * k)
        return simulate(pop_mid, telecom, plan, 36, 5)

    r1, r4 = roi(scaled(1), zero, telecom), roi(scaled(4), zero, telecom)
    assert r1 is not None and r4 is not None and r4 < r1


def test_shuffling_customers_leaves_aggregates_unchanged(telecom, pop_mid):
    perm = np.random.default_rng(0).permutation(pop_mid.n)
    shuffled = type(pop_mid)(
        pop_mid.case_id,
        pop_mid.seed,
        pop_mid.customers.iloc[perm].reset_index(drop=True),
        pop_mid.traits.take(perm),
        pop_mid.state.take(perm),
        pop_mid.list_spend[perm],
    )
    plan = telecom.status_quo.model_copy(update={"acquisition": {}})
    a = kpis(simulate(pop_mid, telecom, plan, 36, 5), telecom)
    b = kpis(simulate(shuffled, telecom, plan, 36, 5), telecom)
    se = np.sqrt(a["churned"])  # Poisson-scale noise of the churn count
    assert abs(a["churned"] - b["churned"]) < 4 * se
    assert b["revenue"] == pytest.approx(a["revenue"], rel=0.02)
    assert b["avg_satisfaction_end"] == pytest.approx(a["avg_satisfaction_end"], abs=0.01)


def test_outputs_add_up(telecom):
    pop = generate(telecom, 3000, seed=6)
    res = simulate(pop, _rich_case(telecom), _rich_plan(telecom), 15, 6)
    m = res.monthly
    np.testing.assert_array_equal(res.transitions.sum(axis=(1, 2)), m["active_start"])
    np.testing.assert_array_equal(res.transitions[:, :, CHURNED].sum(axis=1), m["churned"])
    np.testing.assert_array_equal(res.sat_hist.sum(axis=1), m["active_end"])
    np.testing.assert_array_equal(
        m["active_start"].iloc[1:].to_numpy(),
        (m["active_end"] + m["new"].shift(-1)).iloc[:-1].to_numpy(),
    )
    stages = m[["stage_exploration", "stage_formation", "stage_stability", "stage_decline"]]
    np.testing.assert_array_equal(stages.sum(axis=1), m["active_start"])
    bs = res.by_segment.groupby("month")[["active_end", "revenue"]].sum()
    np.testing.assert_allclose(bs["revenue"], m["revenue"], rtol=1e-9)
    np.testing.assert_array_equal(bs["active_end"], m["active_end"])
    assert len(res.customers) == pop.n + m["new"].sum()
    assert res.cohorts[0, 0] == pop.n and res.cohorts[:, -1].sum() == m["active_end"].iloc[-1]
    np.testing.assert_allclose(m["profit"], m["gross_margin"] - m["service_cost"])


def test_no_customer_by_month_panels(telecom, pop_mid):
    res = simulate(pop_mid, telecom, telecom.status_quo, 24, 5)
    for key, arr in res.sample.items():
        assert arr.shape[-1] <= 2000 or key == "terms"
    assert res.sample["S"].shape == (24, 2000)
    for frame in (res.monthly, res.by_segment, res.by_stage):
        assert len(frame) <= 24 * 10


def test_drill_down_explains_churn(telecom, pop_mid):
    res = simulate(pop_mid, telecom, preset_plan("zero", telecom), 24, 5)
    slots = res.sample["slots"]
    churned = res.customers["churn_month"].to_numpy()[slots] > 0
    terms = res.sample["terms"]
    assert churned.any()
    assert np.isfinite(terms[churned]).all() and np.isnan(terms[~churned]).all()
    # A sampled customer's stage is -1 (not yet a customer) never, churned only after leaving.
    st = res.sample["stage"]
    assert ((st >= 0) & (st <= CHURNED)).all()


def test_events_change_the_run(telecom, pop_small):
    case = _rich_case(telecom)
    with_ev = simulate(pop_small, case, telecom.status_quo, 12, 3).monthly
    without = simulate(pop_small, telecom, telecom.status_quo, 12, 3).monthly
    assert with_ev["failures"].iloc[5:7].sum() > 2 * without["failures"].iloc[5:7].sum()
    np.testing.assert_array_equal(with_ev["failures"].iloc[:3], without["failures"].iloc[:3])


def test_result_records_seed_case_version_and_packages(telecom, pop_small):
    res = simulate(pop_small, telecom, telecom.status_quo, 3, 77)
    assert res.meta["seed"] == 77 and res.meta["case_version"] == telecom.version
    assert {"numpy", "pandas", "python", "crmsim"} <= set(res.meta["versions"])


def test_plan_money_scales_with_population_size(telecom, pop_small):
    res = simulate(pop_small, telecom, preset_plan("pyramid", telecom), 6, 1)
    scale = pop_small.n / telecom.population.customers
    levers = sum(
        lv.money(telecom.costs.kam_salary)
        for lv in preset_plan("pyramid", telecom).allocations.values()
    )
    np.testing.assert_allclose(res.monthly["lever_cost"], levers * scale)
    assert set(LEVERS) == {"care", "recovery", "cross_sell", "kam", "rewards", "discount"}


def test_monthly_streams_give_each_slot_its_own_numbers():
    from crmsim.rng import MonthlyStreams

    s = MonthlyStreams(7)
    big, small = s.uniforms(0, 3, 5000), s.uniforms(0, 3, 1200, rows=2)
    np.testing.assert_array_equal(big[:2, :1200], small)  # independent of n and rows
    assert not np.array_equal(s.uniforms(0, 4, 100), s.uniforms(0, 3, 100))  # months differ
    assert not np.array_equal(s.uniforms(1, 3, 100), s.uniforms(0, 3, 100))  # history differs
    assert abs(np.corrcoef(big)[np.triu_indices(4, 1)]).max() < 0.05  # purposes independent
    assert big.min() >= 0 and big.max() < 1 and abs(big.mean() - 0.5) < 0.01
    np.testing.assert_array_equal(MonthlyStreams(7).uniforms(0, 3, 50), big[:, :50])


def test_counterfactual_plans_remove_one_part(telecom):
    from crmsim.plans import without

    plan = telecom.status_quo
    no_care = without(plan, lever="care")
    assert all(lv.care == 0 for lv in no_care.allocations.values())
    assert no_care.allocations["key"].recovery == plan.allocations["key"].recovery
    no_key = without(plan, segment="key")
    assert "key" not in no_key.allocations and "small" in no_key.allocations


def test_care_pays_back_on_key_accounts_more_than_on_small_ones(telecom, pop_mid):
    """Incremental ROI from same-seed counterfactuals: money on key accounts returns more per
    yuan than the same kind of money spread over small customers (the courseware's point)."""
    from crmsim.metrics import incremental_roi
    from crmsim.plans import without

    plan = telecom.status_quo.model_copy(update={"acquisition": {}})
    full = simulate(pop_mid, telecom, plan, 24, 5)
    roi_key = incremental_roi(
        full, simulate(pop_mid, telecom, without(plan, segment="key"), 24, 5), telecom
    )
    roi_small = incremental_roi(
        full, simulate(pop_mid, telecom, without(plan, segment="small"), 24, 5), telecom
    )
    assert roi_key is not None and roi_small is not None and roi_key > roi_small
    no_discount = without(plan, lever="discount")
    assert incremental_roi(full, simulate(pop_mid, telecom, no_discount, 24, 5), telecom) is None


# -- rounds: one run, plans changing between rounds (the classroom game) -------------------
def _round_plans(telecom):
    sq = telecom.status_quo
    richer = sq.model_copy(
        update={
            "name": "richer",
            "allocations": {
                seg: lv.model_copy(update={"care": lv.care * 2, "discount": 0.05, "rewards": 0.03})
                for seg, lv in sq.allocations.items()
            },
            "acquisition": {"referral": 6000.0},
        }
    )
    return sq, richer, preset_plan("zero", telecom)


def test_rounds_of_one_plan_are_the_plain_run(telecom, pop_small):
    from crmsim.model.run import simulate_rounds

    sq = telecom.status_quo
    one = simulate(pop_small, telecom, sq, 18, 4)
    rounds = simulate_rounds(pop_small, telecom, [sq, sq, sq], 6, 4)
    pd.testing.assert_frame_equal(one.monthly, rounds.monthly)
    pd.testing.assert_frame_equal(one.customers, rounds.customers)
    np.testing.assert_array_equal(one.sample["S"], rounds.sample["S"])


def test_a_round_continues_from_where_the_last_one_left(telecom, pop_small):
    from crmsim.model.run import simulate_rounds

    sq, richer, zero = _round_plans(telecom)
    first = simulate(pop_small, telecom, richer, 6, 4)
    game = simulate_rounds(pop_small, telecom, [richer, zero, sq], 6, 4)
    # round 1 is exactly the first plan's run: same luck, same customers
    cols = [c for c in first.monthly.columns if c != "month"]
    pd.testing.assert_frame_equal(first.monthly[cols], game.monthly[cols].iloc[:6])
    # round 2 serves nobody: no lever money, and the customers who had left stay gone
    m = game.monthly.set_index("month")
    assert (m.loc[7:12, "lever_cost"] == 0).all() and (m.loc[1:6, "lever_cost"] > 0).all()
    left_early = first.customers["churn_month"].between(1, 6).to_numpy()
    assert (game.customers["churn_month"].to_numpy()[: len(left_early)][left_early] <= 6).all()
    # money adds up across rounds with different discounts and rewards
    assert game.customers["revenue"].sum() == pytest.approx(m["revenue"].sum(), rel=1e-5)
    assert game.customers["margin"].sum() == pytest.approx(
        (m["gross_margin"] - m["rewards_cost"]).sum(), rel=1e-5
    )
    # a round without service, after one with it: satisfaction falls and more customers leave
    served = simulate_rounds(pop_small, telecom, [sq, sq], 12, 4)
    cut = simulate_rounds(pop_small, telecom, [sq, zero], 12, 4)
    a, b = served.monthly.set_index("month"), cut.monthly.set_index("month")
    pd.testing.assert_frame_equal(a.loc[1:12], b.loc[1:12])  # same first round
    assert b.loc[24, "avg_satisfaction"] < a.loc[24, "avg_satisfaction"] - 0.01
    assert cut.cohorts[0, 12] == served.cohorts[0, 12]  # the same book enters round 2 …
    assert cut.cohorts[0, 24] < served.cohorts[0, 24]  # … and keeps fewer without service


def test_rounds_must_share_the_segmentation(telecom, pop_small):
    from crmsim.model.run import simulate_rounds
    from crmsim.plans import SegmentationSpec

    sq = telecom.status_quo
    other = sq.model_copy(update={"segmentation": SegmentationSpec(method="abc")})
    with pytest.raises(ValueError):
        simulate_rounds(pop_small, telecom, [sq, other], 6, 4)


def test_a_month_with_nobody_active_still_adds_up():
    """Once every customer has left, the remaining months are zeros, not an error."""
    case = load_case("retail")
    plan = case.status_quo.model_copy(deep=True)
    plan.acquisition = {}
    res = simulate(generate(case, 1, seed=0), case, plan, 60, 0)
    empty = res.monthly[res.monthly["active_start"] == 0]
    assert len(empty) > 0
    assert (empty[["active_end", "churned", "revenue", "complaints"]] == 0).all().all()
    assert res.monthly["churned"].sum() == 1
