import numpy as np
import pandas as pd
import pytest

from crmsim.errors import InputError
from crmsim.segmentation import CLV_TIERS, PYRAMID, RFM_SEGMENTS, rfm_scores, segment


@pytest.mark.parametrize("method", ["rfm", "abc", "pyramid", "clv", "kmeans"])
def test_every_method_labels_everyone_with_a_profile(pop_small, method):
    seg = segment(pop_small.customers, method, seed=1)
    assert len(seg.labels) == pop_small.n
    assert seg.labels.min() >= 0 and seg.labels.max() < len(seg.names)
    prof = seg.profile
    assert list(prof["segment"]) == seg.names
    assert prof["count"].sum() == pop_small.n
    assert prof["share"].sum() == pytest.approx(1.0)
    assert prof["revenue_share"].sum() == pytest.approx(1.0)
    for col in ("mean_recency", "mean_frequency", "mean_monetary", "mean_survey"):
        assert col in prof.columns


def test_pyramid_ranks_10_30_60(pop_small):
    seg = segment(pop_small.customers, "pyramid")
    assert seg.names == list(PYRAMID)
    assert list(seg.profile["count"]) == [200, 600, 1200]
    m = pop_small.customers["monetary"].to_numpy()
    assert m[seg.labels == 0].min() >= m[seg.labels == 1].max()


def test_pyramid_custom_shares(pop_small):
    seg = segment(pop_small.customers, "pyramid", {"shares": [0.2, 0.3, 0.5]})
    assert list(seg.profile["count"]) == [400, 600, 1000]


def test_abc_follows_cumulative_value():
    frame = pd.DataFrame(
        {
            "monetary": [50.0, 30, 10, 5, 3, 2],
            "recency": 0,
            "frequency": 1,
            "revenue_12m": [50.0, 30, 10, 5, 3, 2],
            "survey_score": np.nan,
        }
    )
    seg = segment(frame, "abc")
    assert list(seg.labels) == [0, 0, 1, 1, 2, 2]  # A up to 80% of value, B to 95%, C rest


def test_rfm_scores_and_names(pop_small):
    s = rfm_scores(pop_small.customers)
    assert s.min().min() >= 1 and s.max().max() <= 5
    seg = segment(pop_small.customers, "rfm")
    assert seg.names == list(RFM_SEGMENTS) and seg.new_segment == "new"
    champ = seg.labels == RFM_SEGMENTS.index("champions")
    lost = seg.labels == RFM_SEGMENTS.index("lost")
    f = pop_small.customers["frequency"].to_numpy()
    assert f[champ].mean() > f[lost].mean()


def test_rfm_scores_fill_every_fifth_when_many_tie():
    """Most of a telecom book bought this month: the tied recencies are ordered by frequency,
    then spend, so every score holds a fifth of the customers and still rises with value."""
    frame = pd.DataFrame(
        {
            "recency": [0] * 6 + [1, 1, 3, 9],
            "frequency": [2, 2, 2, 2, 3, 3, 4, 5, 6, 12],
            "monetary": np.arange(10.0),
        }
    )
    s = rfm_scores(frame)
    assert s["R"].tolist() == [3, 3, 4, 4, 5, 5, 2, 2, 1, 1]
    assert s["F"].tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert s["M"].tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]


@pytest.mark.parametrize("case_id", ["telecom", "retail", "rice_shop"])
def test_rfm_fills_every_score_and_segment_on_generated_books(case_id):
    from crmsim.cases import load_case
    from crmsim.population import generate

    customers = generate(load_case(case_id), 2000, seed=3).customers
    assert (customers["recency"] == customers["recency"].min()).mean() > 0.2  # many ties
    s = rfm_scores(customers)
    for col in "RFM":
        assert s[col].value_counts().sort_index().tolist() == [400] * 5
    shares = segment(customers, "rfm").profile["share"]
    assert (shares > 0).sum() >= 6  # no blank heatmap row, few empty segments


def test_rfm_fills_every_score_on_the_cdnow_sample():
    from crmsim.transactions import analyse, read_transactions, segment_frame
    from tests.conftest import ROOT

    raw = (ROOT / "sample_data" / "transactions" / "cdnow_sample.csv").read_bytes()
    tx = read_transactions(raw)
    found = analyse(tx, pd.Timestamp("1997-09-30"), tx.last_date, "W")
    frame = segment_frame(found.summary, found.values, "W")
    s = rfm_scores(frame)
    for col in "RFM":
        counts = s[col].value_counts()
        assert len(counts) == 5 and counts.max() - counts.min() <= 1
    assert (segment(frame, "rfm").profile["share"] > 0).sum() >= 6


def test_clv_tiers(pop_small):
    seg = segment(pop_small.customers, "clv")
    assert seg.names == list(CLV_TIERS)
    assert list(seg.profile["count"]) == [100, 300, 600, 1000]


def test_kmeans_is_seeded_and_ordered_by_value(pop_small):
    a = segment(pop_small.customers, "kmeans", {"k": 3}, seed=7)
    b = segment(pop_small.customers, "kmeans", {"k": 3}, seed=7)
    np.testing.assert_array_equal(a.labels, b.labels)
    means = a.profile["mean_monetary"].to_numpy()
    assert (np.diff(means) <= 0).all()


def test_rules_first_match_wins(pop_small):
    rules = [
        {"segment": "vip", "conditions": [{"field": "monetary", "op": ">=", "value": 300}]},
        {"segment": "quiet", "conditions": [{"field": "recency", "op": ">", "value": 2}]},
        {"segment": "vip", "conditions": [{"field": "channel", "op": "==", "value": "referral"}]},
    ]
    seg = segment(pop_small.customers, "rules", {"rules": rules, "default": "rest"})
    assert seg.names == ["vip", "quiet", "rest"]
    c = pop_small.customers
    vip = (c["monetary"] >= 300) | ((c["recency"] <= 2) & (c["channel"] == "referral"))
    np.testing.assert_array_equal(seg.labels == 0, vip.to_numpy())


@pytest.mark.parametrize(
    ("params", "field", "key"),
    [
        (
            {
                "rules": [
                    {"segment": "x", "conditions": [{"field": "wallet", "op": ">", "value": 1}]}
                ]
            },
            "conditions[1].field",
            "rule_field",
        ),
        (
            {
                "rules": [
                    {"segment": "x", "conditions": [{"field": "monetary", "op": "~", "value": 1}]}
                ]
            },
            "conditions[1].op",
            "rule_op",
        ),
        (
            {
                "rules": [
                    {
                        "segment": "x",
                        "conditions": [
                            {
                                "field": "monetary",
                                "op": ">",
                                "value": "__import__('os').system('x')",
                            }
                        ],
                    }
                ]
            },
            "conditions[1].value",
            "not_number",
        ),
        ({"rules": []}, "rules", "rules_missing"),
    ],
)
def test_bad_rules_are_reported_never_evaluated(pop_small, params, field, key):
    with pytest.raises(InputError) as info:
        segment(pop_small.customers, "rules", params)
    issue = info.value.issues[0]
    assert issue.key == key and issue.field.endswith(field)


@pytest.mark.parametrize(
    ("method", "params", "key"),
    [
        ("pyramid", {"shares": [0.5, 0.5, 0.5]}, "shares_sum"),
        ("pyramid", {"shares": [1.0]}, "shares_invalid"),
        ("kmeans", {"k": 50}, "k_range"),
        ("kmeans", {"features": ["name"]}, "features_invalid"),
        ("abc", {"colour": 1}, "unknown_key"),
        ("magic", {}, "not_allowed"),
    ],
)
def test_bad_parameters(pop_small, method, params, key):
    with pytest.raises(InputError) as info:
        segment(pop_small.customers, method, params)
    assert info.value.issues[0].key == key
