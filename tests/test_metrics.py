import numpy as np
import pandas as pd
import pytest

from crmsim.metrics import (
    KPI_KEYS,
    clv_by_segment,
    cohort_table,
    customer_equity,
    kaplan_meier,
    kpis,
    npv,
    roi,
    score,
    segment_summary,
    stage_matrix,
    summary_json,
    top_share,
)
from crmsim.model.run import simulate
from crmsim.plans import preset_plan


@pytest.fixture(scope="module")
def runs(telecom, pop_mid):
    sq = simulate(pop_mid, telecom, telecom.status_quo, 24, 5)
    no_acq = telecom.status_quo.model_copy(update={"acquisition": {}, "name": "no_acq"})
    return {
        "sq": sq,
        "no_acq": simulate(pop_mid, telecom, no_acq, 24, 5),
        "zero": simulate(pop_mid, telecom, preset_plan("zero", telecom), 24, 5),
    }


def test_kpis_have_every_key(runs, telecom):
    k = kpis(runs["sq"], telecom, runs["zero"])
    assert set(KPI_KEYS) <= set(k)
    assert k["customers_start"] == 6000
    assert 0 < k["retention_rate"] < 1 and 0 < k["recovery_rate"] < 1
    assert k["profit"] == pytest.approx(k["gross_margin"] - k["service_cost"])


def test_npv_discounts_monthly_profit(runs, telecom):
    res = runs["sq"]
    r = (1.10) ** (1 / 12) - 1
    expected = sum(p / (1 + r) ** (i + 1) for i, p in enumerate(res.monthly["profit"]))
    assert npv(res, telecom) == pytest.approx(expected)


def test_equity_plays_the_final_plan_on_and_values_survivors_only(runs, telecom):
    res = runs["sq"]
    c = res.customers
    alive = c["equity_alive"].to_numpy()
    mp = telecom.model
    assert len(res.valuation["profit"]) == mp.valuation_months
    # customers gone before the horizon's end bring nothing to the valuation months
    gone = (c["end_stage"] == 4).to_numpy()
    assert gone.any() and (c.loc[gone, "equity_margin"] == 0).all() and not alive[gone].any()
    assert (c.loc[alive, "equity_hazard"].between(0, 1)).all()
    d = telecom.monthly_discount
    k = len(res.valuation["profit"])
    played = sum(p / (1 + d) ** (i + 1) for i, p in enumerate(res.valuation["profit"]))
    r = (1 - c.loc[alive, "equity_hazard"].to_numpy()) / (1 + d)
    h = mp.equity_horizon
    rest = (c.loc[alive, "equity_margin"].to_numpy() * r * (1 - r**h) / (1 - r)).sum()
    assert customer_equity(res, telecom) == pytest.approx(played + rest / (1 + d) ** k)
    assert customer_equity(res, telecom) > 0
    assert score(res, telecom) > npv(res, telecom)


def test_roi_against_itself_is_zero_and_undefined_without_spend(runs, telecom):
    assert roi(runs["sq"], runs["sq"], telecom) == pytest.approx(0.0)
    assert roi(runs["zero"], runs["sq"], telecom) is None


def test_kaplan_meier_equals_the_alive_share_without_late_entrants(runs):
    res = runs["no_acq"]
    km = kaplan_meier(res)
    c = res.customers
    for s, name in enumerate(res.segments):
        members = c[c["segment"] == s]
        for month in (6, 12, 24):
            alive = ((members["churn_month"] < 0) | (members["churn_month"] > month)).mean()
            got = km[(km["segment"] == name) & (km["month"] == month)]["survival"].iloc[0]
            assert got == pytest.approx(alive)
    assert (km.groupby("segment")["survival"].apply(lambda s: (np.diff(s) <= 0).all())).all()


def test_cohorts_start_at_one_and_never_grow(runs):
    tab = cohort_table(runs["sq"])
    assert (tab.loc[tab["age"] == 0, "retention"] == 1.0).all()
    for _, g in tab.groupby("cohort"):
        assert (np.diff(g.sort_values("month")["retention"]) <= 1e-12).all()
    assert tab["cohort"].nunique() > 10


def test_stage_matrix_is_stochastic_with_churn_absorbing(runs):
    p = stage_matrix(runs["sq"])
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    assert p[4, 4] == 1.0 and (p >= 0).all()
    assert p[3, 4] > p[2, 4]  # decline churns more than stability


def test_clv_three_ways_rank_key_accounts_first(runs, telecom):
    clv = clv_by_segment(runs["no_acq"], telecom).set_index("segment")
    for col in ("clv_realised", "clv_formula", "clv_markov"):
        assert clv.loc["key", col] > clv.loc["ordinary", col] > clv.loc["small", col], col


def test_segment_summary_adds_up(runs, telecom):
    seg = segment_summary(runs["sq"], telecom)
    m = runs["sq"].monthly
    assert seg["revenue"].sum() == pytest.approx(m["revenue"].sum())
    assert seg["churned"].sum() == m["churned"].sum()
    assert seg["active_end"].sum() == m["active_end"].iloc[-1]


def test_top_share_by_hand():
    assert top_share(np.array([10.0, 0, 0, 0, 0]), 0.2) == 1.0
    assert top_share(np.array([1.0] * 10), 0.2) == pytest.approx(0.2)


def test_summary_json_is_plain_data(runs, telecom):
    import json

    out = summary_json(runs["sq"], telecom, runs["zero"])
    text = json.dumps(out)
    assert "by_segment" in out and len(out["monthly"]) == 24
    assert isinstance(pd.read_json(pd.io.common.StringIO(json.dumps(out["monthly"]))), pd.DataFrame)
    assert "NaN" not in text
