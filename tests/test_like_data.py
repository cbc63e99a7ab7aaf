"""A population like the data (issue 18, item 4): on the CDNOW sample the synthetic book
matches the real one within the tolerances of ``crmsim.purchases.compare`` — each held by its
own assertion, on three seeds — and the case is the data's own (currency, title, objectives)."""

from datetime import date
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from crmsim.cases import load_case
from crmsim.errors import InputError
from crmsim.model.case import PopulationSpec
from crmsim.population import generate
from crmsim.purchases.compare import (
    DECLINES,
    TOLERANCES,
    compare,
    holdout_months,
    real_book,
    synthetic_book,
)
from crmsim.purchases.like import guess_currency, population_like
from crmsim.transactions import analyse, read_transactions

ROOT = Path(__file__).resolve().parent.parent
CDNOW = ROOT / "sample_data" / "transactions" / "cdnow_sample.csv"
CAL_END = pd.Timestamp("1997-09-30")
N = 10_000


@cache
def _cdnow():
    tx = read_transactions(CDNOW.read_bytes(), today=date(2026, 11, 22))
    found = analyse(tx, CAL_END)
    case = population_like(
        found.summary, found.bgnbd, "W", load_case("online_retailer"), gg=found.gamma_gamma
    )
    return tx, found, case


@cache
def _books(seed: int):
    tx, _, case = _cdnow()
    real = real_book(tx, CAL_END, tx.last_date)
    synth = synthetic_book(case, N, seed, holdout_months(CAL_END, tx.last_date))
    return real, synth


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_synthetic_book_is_like_cdnow_within_each_tolerance(seed):
    real, synth = _books(seed)
    # everyone in a log bought once (her first purchase); so does everyone in the synthetic book
    assert real.buy_share == 1.0
    assert abs(synth.buy_share - real.buy_share) <= TOLERANCES["buy_share"]
    # purchase months per customer: 64% once, 19% twice, 8% three times, 8% four or more
    assert real.purchases["1"] == pytest.approx(0.637, abs=0.005)
    for bucket in ("1", "2", "3", "4+"):
        gap = synth.purchases[bucket] - real.purchases[bucket]
        assert abs(gap) <= TOLERANCES["purchases"], bucket
    # spend per month since the first purchase: median 4.81, 90th percentile 20.8
    assert real.spend_median == pytest.approx(4.81, rel=0.01)
    assert abs(synth.spend_median / real.spend_median - 1) <= TOLERANCES["spend_median"]
    assert abs(synth.spend_p90 / real.spend_p90 - 1) <= TOLERANCES["spend_p90"]
    # the top 20% bring 63% of revenue
    assert abs(synth.top20_share - real.top20_share) <= TOLERANCES["top20_share"]
    # the nine months after: 30.1 per customer, falling 3.8 → 2.4 a month; so must the synthetic
    assert len(real.path) == len(synth.path) == 9
    assert sum(real.path) == pytest.approx(30.11, rel=0.01)
    assert abs(sum(synth.path) / sum(real.path) - 1) <= TOLERANCES["revenue_total"]
    assert real.decline < DECLINES and synth.decline < DECLINES
    assert abs(synth.decline - real.decline) <= TOLERANCES["decline"]
    table = compare(real, synth)
    assert table["ok"].all(), table.to_string()


def test_the_comparison_fails_for_the_base_case_population():
    """The check can fail: the base case's own customers (the issue's 34% who never buy, a
    flat revenue path) are not like CDNOW."""
    tx, _, _ = _cdnow()
    base = load_case("online_retailer")
    real = real_book(tx, CAL_END, tx.last_date)
    synth = synthetic_book(base, 3000, 1, 9)
    table = compare(real, synth).set_index("figure")
    assert not table.loc["buy_share", "ok"] and synth.buy_share < 0.97
    assert not table["ok"].all()


def test_the_fitted_heterogeneity_is_carried_into_the_population():
    _, found, case = _cdnow()
    bg, gg, spec = found.bgnbd, found.gamma_gamma, case.population
    assert spec.purchase_shape == pytest.approx(bg.r)
    assert spec.purchase_rate == pytest.approx(bg.r / bg.alpha * 365.25 / 12 / 7)
    assert spec.frailty_concentration == pytest.approx(bg.a + bg.b)
    assert spec.spend_per_purchase == pytest.approx((gg.p, gg.q, gg.v))
    assert 6.0 <= spec.first_purchase_months[0] < spec.first_purchase_months[1] <= 9.0
    assert case.kind == "noncontractual"


def test_a_cohort_s_first_purchase_is_in_its_history_and_lapsed_customers_stay_silent():
    _, _, case = _cdnow()
    pop = generate(case, 4000, seed=5)
    c = pop.customers
    assert (c["frequency"] >= 1).all() and (c["revenue_12m"] > 0).all()
    assert c["tenure_months"].between(6, 9).all()
    lapsed = pop.traits.purchase_rate == 0
    assert 0.05 < lapsed.mean() < 0.5  # some dropped out after a repeat purchase ...
    assert (c["frequency"][lapsed] >= 2).all()  # ... and only after one
    # the wallet follows Gamma-Gamma: W·SOW₀/λ = z = p/ν, ν ~ Gamma(q, v), median ≈ 28.2
    p, q, v = case.population.spend_per_purchase
    fresh = generate(case.model_copy(update={"kind": "contractual"}), 4000, seed=5).traits
    z = fresh.wallet * fresh.sow0 / fresh.purchase_rate
    expected = p * v / np.median(np.random.default_rng(0).gamma(q, 1.0, 200_000))
    assert np.median(z) == pytest.approx(expected, rel=0.05) and expected == pytest.approx(
        28.2, rel=0.02
    )


def test_the_case_is_the_data_s_own_not_the_base_case_s():
    _, _, case = _cdnow()
    base = load_case("online_retailer")
    assert case.currency == "USD" and base.currency == "CNY"
    texts = " ".join(o.zh + o.en for o in case.objectives)
    assert not any(o.zh in texts or o.en in texts for o in base.objectives)
    assert "双十一" in base.model_dump_json() and "双十一" not in case.model_dump_json()
    assert "20%" in texts and case.events == [] and case.debrief == []
    assert "r = 0.243" in case.narrative.en and case.title.en.startswith("Customers like")
    assert case.targets.top20_revenue_share[0] < 0.63 < case.targets.top20_revenue_share[1]


@pytest.mark.parametrize(
    ("amounts", "code"),
    [(["¥12.00", "30"], "CNY"), (["12元"], "CNY"), (["£3.50"], "GBP"), (["$4"], "USD")],
)
def test_the_currency_is_read_from_the_amounts_signs(amounts, code):
    assert guess_currency(pd.Series(amounts), default="EUR") == code
    assert guess_currency(pd.Series(["12.5", "3"]), default="EUR") == "EUR"


def test_built_in_cases_leave_the_new_fields_unset():
    spec = PopulationSpec()
    assert spec.first_purchase_months is None and spec.spend_per_purchase is None
    assert spec.first_spend_ratio == 1.0
    for cid in ("online_retailer", "telecom"):
        pop = load_case(cid).population
        assert pop.first_purchase_months is None and pop.spend_per_purchase is None


def test_a_cohort_band_out_of_order_is_refused():
    with pytest.raises(Exception) as info:
        PopulationSpec(first_purchase_months=(9.0, 6.0))
    assert "first_purchase" in str(info.value) or isinstance(info.value, InputError)
