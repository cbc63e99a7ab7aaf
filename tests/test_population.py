import numpy as np
import pytest

from crmsim.cases import load_case
from crmsim.metrics import top_share
from crmsim.population import HISTORY_MONTHS, generate, name_pools

HIDDEN = {"wallet", "logit_theta", "beta", "sow0", "fit", "voice", "price_sens"}


def test_shape_and_observables(pop_small):
    c = pop_small.customers
    assert len(c) == 2000 and pop_small.n == 2000
    for col in (
        "customer_id",
        "name",
        "city",
        "region",
        "age_band",
        "channel",
        "tenure_months",
        "stage",
        "recency",
        "frequency",
        "monetary",
        "revenue_12m",
        "complaints_12m",
        "survey_score",
    ):
        assert col in c.columns
    assert not HIDDEN & set(c.columns), "hidden traits must not be observable"
    assert c["customer_id"].is_unique


def test_same_seed_same_customers(telecom):
    a, b = generate(telecom, 500, seed=3), generate(telecom, 500, seed=3)
    assert a.customers.equals(b.customers)
    for k, v in a.traits.arrays().items():
        np.testing.assert_array_equal(v, getattr(b.traits, k))
    c = generate(telecom, 500, seed=4)
    assert not np.array_equal(a.traits.wallet, c.traits.wallet)


def test_locale_changes_names_only(telecom):
    zh = generate(telecom, 300, seed=9, locale="zh")
    en = generate(telecom, 300, seed=9, locale="en")
    assert zh.customers["monetary"].equals(en.customers["monetary"])
    assert any("\u4e00" <= ch <= "\u9fff" for ch in str(zh.customers["name"].iloc[0]))
    assert str(en.customers["name"].iloc[0]).isascii()


def test_name_pools_are_built_once():
    assert name_pools("zh", "person") is name_pools("zh", "person")


def test_company_names_and_industry_for_b2b():
    pop = generate(load_case("b2b_it"), 200, seed=1)
    assert "industry" in pop.customers.columns and "age_band" not in pop.customers.columns


@pytest.mark.parametrize("cid", ["telecom", "retail", "bank", "b2b_it", "saas"])
def test_top_fifth_holds_60_to_80_percent_of_revenue(cid):
    case = load_case(cid)
    pop = generate(case, 5000, seed=21)
    share = top_share(pop.customers["revenue_12m"].to_numpy(), 0.2)
    assert 0.6 <= share <= 0.8, share


def test_rfm_comes_from_simulated_history(pop_small):
    c = pop_small.customers
    assert c["recency"].between(0, HISTORY_MONTHS).all()
    assert c["frequency"].between(0, HISTORY_MONTHS).all()
    assert (c["monetary"] >= 0).all()
    # Recent buyers buy more often: the history is a purchase process, not noise.
    assert (
        c.loc[c["recency"] == 0, "frequency"].mean() > c.loc[c["recency"] >= 3, "frequency"].mean()
    )
    # Monetary is revenue per active month over the window.
    old = c["tenure_months"] >= HISTORY_MONTHS
    np.testing.assert_allclose(c.loc[old, "monetary"], c.loc[old, "revenue_12m"] / 12, atol=0.02)


def test_survey_answers_are_sparse_and_biased_to_the_happy(pop_mid):
    c = pop_mid.customers
    rate = c["survey_score"].notna().mean()
    assert 0.06 < rate < 0.14, rate
    sat = pop_mid.state.S
    answered = c["survey_score"].notna().to_numpy()
    assert sat[answered].mean() > sat[~answered].mean()


def test_rising_stars_hide_in_the_lower_value_groups(pop_mid):
    h = pop_mid.traits
    value = h.wallet * h.sow0
    star = h.rising_star
    assert 0.02 < star.mean() < 0.08
    assert value[star].mean() < np.median(value)


def test_frailty_falls_with_tenure(pop_mid):
    tenure = pop_mid.customers["tenure_months"].to_numpy()
    lt = pop_mid.traits.logit_theta
    assert lt[tenure > 36].mean() < lt[tenure < 12].mean()


def test_lifecycle_stage_mix_is_plausible(pop_mid):
    mix = pop_mid.customers["stage"].value_counts(normalize=True)
    assert set(mix.index) == {"exploration", "formation", "stability", "decline"}
    assert mix["stability"] > 0.3 and mix["exploration"] < 0.2


def test_size_limits(telecom):
    with pytest.raises(ValueError):
        generate(telecom, 0)
    with pytest.raises(ValueError):
        generate(telecom, 1_000_001)


@pytest.mark.parametrize("cid", ["telecom", "retail", "rice_shop", "b2b_it", "saas", "bank"])
def test_tenure_recency_frequency_and_spend_agree_for_every_customer(cid):
    """A customer's observed history tells one story: no purchase before she joined, a
    customer who joined in the window did so with a purchase, one who has just joined has
    nothing yet, and nobody spends without a purchase (a contract customer's latest bill
    counts when she bought nothing else)."""
    case = load_case(cid)
    c = generate(case, 3000, seed=4).customers
    tenure, rec, freq = (c[k].to_numpy() for k in ("tenure_months", "recency", "frequency"))
    spend = c["monetary"].to_numpy()
    assert (rec <= np.minimum(tenure, HISTORY_MONTHS)).all()
    assert (rec >= 0).all() and (freq >= 0).all()
    joined = (tenure >= 1) & (tenure < HISTORY_MONTHS)  # joined within the window
    assert (freq[joined] >= 1).all()
    new = tenure == 0
    assert (freq[new] == 0).all() and (spend[new] == 0).all()
    assert (spend[freq == 0] == 0).all()
    assert (rec[freq == 0] == np.minimum(tenure, HISTORY_MONTHS)[freq == 0]).all()
    assert (spend[tenure >= 1] >= 0).all()
