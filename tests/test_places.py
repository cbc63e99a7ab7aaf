"""Customers live in real places: every city sits in the province (or state) shown beside it,
and big cities come up more often than small ones."""

import pytest

from crmsim.cases import load_case
from crmsim.places import EN_CITIES, ZH_CITIES, places_pool
from crmsim.population import generate


@pytest.mark.parametrize(("locale", "table"), [("zh", ZH_CITIES), ("en", EN_CITIES)])
def test_every_customers_city_is_in_its_own_region(locale, table):
    pairs = {(city, region) for city, region, _ in table}
    customers = generate(load_case("telecom"), 3000, seed=4, locale=locale).customers
    seen = set(zip(customers["city"].astype(str), customers["region"].astype(str), strict=True))
    assert seen <= pairs
    assert len(seen) > 30  # many places, not a handful
    if locale == "zh":
        assert not any(city.endswith("县") for city, _ in seen)  # no invented counties


def test_cities_are_drawn_by_population():
    pool = places_pool("zh")
    assert pool.count(("重庆市", "重庆市")) > 10 * pool.count(("拉萨市", "西藏自治区")) > 0
    customers = generate(load_case("bank"), 6000, seed=9).customers
    share = (customers["city"] == "上海市").mean()
    assert 0.02 < share < 0.06  # 2,487 万 of ~73,000 万 in the table: about 3.4%


def test_the_same_seed_gives_the_same_customers_in_both_languages():
    zh = generate(load_case("telecom"), 500, seed=2, locale="zh").customers
    en = generate(load_case("telecom"), 500, seed=2, locale="en").customers
    assert (zh["monetary"] == en["monetary"]).all() and (zh["stage"] == en["stage"]).all()
