"""Synthetic customer populations (DESIGN §3.1).

Traits are drawn with numpy from the case preset; names, cities and companies come from Faker
pools built once per process and sampled with numpy (per-row Faker calls are 100× slower).
Observables (what a student may segment on) live in ``Population.customers``; hidden traits
(wallet, frailty, true satisfaction, ...) live in ``Population.hidden`` and ``state``. Twelve
months of purchase history are simulated under the status-quo plan so RFM comes from data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

import numpy as np
import pandas as pd

from crmsim import rng as rngs
from crmsim.cases import Case, PopulationSpec
from crmsim.plans import CHANNELS, LEVERS

HISTORY_MONTHS = 12
KANO_TYPES = ("must_be", "one_dimensional", "attractive", "indifferent")
KANO_MIX = np.array([0.25, 0.35, 0.25, 0.15])
# Responsiveness β by Kano type (rows) and lever (columns, in LEVERS order).
KANO_BETA = np.array(
    [
        [1.0, 1.0, 0.3, 0.8, 0.3, 0.6],
        [0.8, 0.8, 0.6, 1.0, 0.6, 1.0],
        [0.6, 0.6, 1.0, 1.0, 1.0, 0.8],
        [0.3, 0.3, 0.2, 0.5, 0.3, 1.2],
    ],
    dtype=np.float32,
)
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


@dataclass
class Population:
    """A customer book: observables for students, hidden traits and state for the engine."""

    case_id: str
    seed: int
    customers: pd.DataFrame
    hidden: dict[str, np.ndarray]
    state: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def n(self) -> int:
        """Number of customers."""
        return len(self.customers)


@cache
def name_pools(locale: str, kind: str) -> dict[str, list[str]]:
    """Faker pools of names (or companies) and (city, region) pairs, built once per process."""
    from faker import Faker

    fake = Faker("zh_CN" if locale == "zh" else "en_US")
    fake.seed_instance(20240601 + (1 if kind == "company" else 0))
    if kind == "company":
        names = [fake.company() for _ in range(POOL_SIZE)]
    else:
        names = [fake.name() for _ in range(POOL_SIZE)]
    if locale == "zh":
        places = [(fake.city(), fake.province()) for _ in range(300)]
    else:
        places = [(fake.city(), fake.state()) for _ in range(300)]
    return {"names": names, "cities": [c for c, _ in places], "regions": [r for _, r in places]}


def _beta_mean_conc(
    gen: np.random.Generator,
    mean: float,
    conc: float,
    extra_b: np.ndarray,
) -> np.ndarray:
    a = max(mean * conc, 1e-3)
    b = max((1 - mean) * conc, 1e-3) + extra_b
    return gen.beta(a, b)


def draw_traits(
    gen: np.random.Generator, n: int, spec: PopulationSpec, tenure: np.ndarray | None = None
) -> dict[str, np.ndarray]:
    """Hidden traits of ``n`` customers; ``tenure`` (months) conditions frailty on survival.

    A customer who has stayed τ months is a survivor, so frailty is drawn from the posterior
    Beta(a, b + τ): long-tenure customers are the sturdy ones, as in real cohorts.
    """
    f32 = np.float32
    if tenure is None:
        tenure = np.zeros(n)
    wallet = gen.lognormal(np.log(spec.wallet_median), spec.wallet_sigma, n)
    sow = gen.beta(5, 5, n)
    theta = np.clip(
        _beta_mean_conc(gen, spec.base_churn, spec.frailty_concentration, tenure), 1e-5, 0.6
    )
    price = gen.beta(2, 5, n)
    expect = np.clip(gen.normal(spec.expectation_mean, spec.expectation_sd, n), 0.3, 0.9)
    voice = _beta_mean_conc(gen, spec.voice_mean, 10.0, np.zeros(n))
    kano = gen.choice(len(KANO_TYPES), size=n, p=KANO_MIX)
    beta = KANO_BETA[kano].T * gen.lognormal(0.0, 0.2, (len(LEVERS), n)).astype(f32)
    rate = spec.purchase_rate * gen.gamma(4.0, 0.25, n)
    fit = gen.normal(0.0, spec.fit_sd, n)
    u_star = gen.random(n)
    value = wallet * sow
    # Rising stars hide inside the lower 60% of value: small today, growing wallets.
    rank = value.argsort().argsort() / max(n - 1, 1)
    star = (u_star < spec.rising_star_share / 0.6) & (rank < 0.6)
    growth = np.where(star, 1.0 + spec.rising_star_growth, 1.0)
    # Key-account responsiveness: 0 below the 80th value percentile, 1 at the 99th.
    key_resp = np.clip((rank - 0.80) / 0.19, 0.0, 1.0)
    beta[LEVERS.index("kam")] *= key_resp.astype(f32)
    return {
        "wallet": wallet.astype(f32),
        "sow0": sow.astype(f32),
        "logit_theta": np.log(theta / (1 - theta)).astype(f32),
        "price_sens": price.astype(f32),
        "expectation0": expect.astype(f32),
        "voice": voice.astype(f32),
        "kano": kano.astype(np.int8),
        "beta": beta.astype(f32),
        "purchase_rate": rate.astype(f32),
        "fit": fit.astype(f32),
        "growth": growth.astype(f32),
        "rising_star": star,
        "key_resp": key_resp.astype(f32),
    }


def generate(case: Case, n: int | None = None, seed: int = 42, locale: str = "zh") -> Population:
    """Draw a population of ``n`` customers for ``case`` and simulate its 12-month history.

    Traits do not depend on ``locale``: the same seed gives the same customers with names in
    Chinese or English.
    """
    from crmsim.engine import run_history

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
    hidden = draw_traits(gen, n, spec, tenure)
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

    pop = Population(case_id=case.id, seed=seed, customers=customers, hidden=hidden)
    hist = run_history(pop, case, HISTORY_MONTHS, seed)
    pop.state = hist["state"]
    obs = hist["observed"]
    customers["tenure_months"] = pop.state["tenure"].astype(np.int32)
    customers["stage"] = pd.Categorical.from_codes(
        pop.state["stage"].astype(np.int8), categories=list(STAGE_KEYS[:4])
    )
    customers["recency"] = obs["recency"]
    customers["frequency"] = obs["frequency"]
    customers["monetary"] = obs["monetary"]
    customers["revenue_12m"] = obs["revenue"]
    customers["complaints_12m"] = obs["complaints"]
    customers["survey_score"] = _survey(ngen, pop.state["S"], spec.survey_rate)
    return pop


STAGE_KEYS = ("exploration", "formation", "stability", "decline", "churned")


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
