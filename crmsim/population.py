"""Synthetic customer populations (DESIGN §3.1).

Traits are drawn with numpy from the case preset; names, cities and companies come from Faker
pools built once per process and sampled with numpy (per-row Faker calls are 100× slower).
Observables (what a student may segment on) live in ``Population.customers``; hidden traits
(wallet, frailty, ...) in ``Population.traits``, true satisfaction and the rest of the dynamic
state in ``Population.state`` (both ``crmsim.model.state``). Twelve
months of purchase history are simulated under the status-quo plan so RFM comes from data.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd

from crmsim import rng as rngs
from crmsim.model.case import Case
from crmsim.model.history import run_history
from crmsim.model.plan import CHANNELS
from crmsim.model.state import STAGE_NAMES, Population
from crmsim.model.traits import KANO_TYPES, draw_traits  # noqa: F401  (re-exported)
from crmsim.places import places_pool

HISTORY_MONTHS = 12
INDUSTRIES = (
    "manufacturing",
    "retail_trade",
    "finance",
    "government",
    "education",
    "healthcare",
    "logistics",
    "it_services",
)
AGE_BANDS = ("18-24", "25-34", "35-44", "45-54", "55-64", "65+")
CHANNEL_MIX = np.array([0.25, 0.2, 0.1, 0.15, 0.3])
POOL_SIZE = 4000


@cache
def name_pools(locale: str, kind: str) -> dict[str, list[str]]:
    """Faker pools of names (or companies), and (city, region) pairs from ``crmsim.places``;
    built once per process."""
    from faker import Faker

    fake = Faker("zh_CN" if locale == "zh" else "en_US")
    fake.seed_instance(20240601 + (1 if kind == "company" else 0))
    if kind == "company":
        names = [fake.company() for _ in range(POOL_SIZE)]
    else:
        names = [fake.name() for _ in range(POOL_SIZE)]
    places = places_pool(locale)  # real cities with their own province or state
    return {"names": names, "cities": [c for c, _ in places], "regions": [r for _, r in places]}


def generate(case: Case, n: int | None = None, seed: int = 42, locale: str = "zh") -> Population:
    """Draw a population of ``n`` customers for ``case`` and simulate its 12-month history.

    Traits do not depend on ``locale``: the same seed gives the same customers with names in
    Chinese or English.
    """
    spec = case.population
    n = spec.customers if n is None else int(n)
    if not 1 <= n <= 1_000_000:
        raise ValueError(f"population size {n} is outside 1..1,000,000")
    gen = rngs.stream(seed, rngs.POPULATION)
    new = gen.random(n) < spec.new_share
    tenure = np.where(
        new, gen.integers(0, 3, n), 3 + gen.exponential(max(spec.tenure_mean - 3, 1), n)
    )
    tenure = np.floor(tenure).astype(np.float32)
    survivors = tenure
    if spec.first_purchase_months is not None:  # a purchase log's cohort, not survivors
        low, high = spec.first_purchase_months
        tenure = np.round(np.minimum(gen.uniform(low, high, n), HISTORY_MONTHS - 1))
        tenure = tenure.astype(np.float32)
        survivors = np.zeros(n, np.float32)  # the log holds those who left too
    traits = draw_traits(gen, n, spec, survivors)
    channel = gen.choice(len(CHANNELS), size=n, p=CHANNEL_MIX)
    second = gen.integers(0, len(INDUSTRIES) if spec.names == "company" else len(AGE_BANDS), n)

    pools = name_pools(locale, spec.names)
    ngen = rngs.stream(seed, rngs.NAMES)
    name_idx = ngen.integers(0, len(pools["names"]), n)
    place_idx = ngen.integers(0, len(pools["cities"]), n)
    customers = pd.DataFrame(
        {
            "customer_id": pd.array([f"C{i:07d}" for i in range(1, n + 1)], dtype="str"),
            "name": _categorical(pools["names"], name_idx),
            "city": _categorical(pools["cities"], place_idx),
            "region": _categorical(pools["regions"], place_idx),
        }
    )
    if spec.names == "company":
        customers["industry"] = pd.Categorical.from_codes(second, categories=list(INDUSTRIES))
    else:
        customers["age_band"] = pd.Categorical.from_codes(second, categories=list(AGE_BANDS))
    customers["channel"] = pd.Categorical.from_codes(channel, categories=list(CHANNELS))
    customers["tenure_months"] = tenure.astype(np.int32)

    pop = Population(case_id=case.id, seed=seed, customers=customers, traits=traits)
    hist = run_history(pop, case, HISTORY_MONTHS, seed)
    pop.state = hist["state"]
    pop.list_spend = hist["list_spend"]
    obs = hist["observed"]
    customers["tenure_months"] = pop.state.tenure.astype(np.int32)
    customers["stage"] = pd.Categorical.from_codes(
        pop.state.stage.astype(np.int8), categories=list(STAGE_KEYS[:4])
    )
    customers["recency"] = obs["recency"]
    customers["frequency"] = obs["frequency"]
    customers["monetary"] = obs["monetary"]
    customers["revenue_12m"] = obs["revenue"]
    customers["complaints_12m"] = obs["complaints"]
    customers["survey_score"] = _survey(ngen, pop.state.S, spec.survey_rate)
    return pop


STAGE_KEYS = STAGE_NAMES


def _cats(pool: list[str]) -> tuple[list[str], np.ndarray]:
    uniq, inverse = np.unique(np.asarray(pool, dtype=object), return_inverse=True)
    return list(uniq), inverse


def _categorical(pool: list[str], idx: np.ndarray) -> pd.Categorical:
    cats, inverse = _cats(pool)
    return pd.Categorical.from_codes(inverse[idx], categories=cats)


def _survey(gen: np.random.Generator, sat: np.ndarray, rate: float) -> np.ndarray:
    """A noisy 0–10 survey score for ~``rate`` of customers; unhappy ones answer less often."""
    n = len(sat)
    respond = gen.random(n) < rate * np.clip(0.4 + sat, 0.0, 1.4) / 1.1
    score = np.clip(np.round(10 * sat + gen.normal(0, 1.0, n)), 0, 10)
    return np.where(respond, score, np.nan).astype(np.float64)
