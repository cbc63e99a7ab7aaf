"""Hidden traits of customers and prospects, and the state a relationship starts from
(DESIGN §3.1, docs/model.md §1)."""

from __future__ import annotations

import numpy as np

from crmsim.model.case import Case, PopulationSpec
from crmsim.model.plan import LEVERS
from crmsim.model.state import (
    DECLINE,
    EXPLORE,
    F32,
    FORM,
    PROSPECT,
    STABLE,
    State,
    Traits,
)

KANO_TYPES = ("must_be", "one_dimensional", "attractive", "indifferent")
KANO_MIX = np.array([0.25, 0.35, 0.25, 0.15])
# Responsiveness β by Kano type (rows) and lever (columns, in LEVERS order): must-be customers
# notice care and complaint handling most, attractive ones personal offers and managers,
# indifferent ones mostly price.
KANO_BETA = np.array(
    [
        [1.0, 1.0, 0.3, 0.8, 0.3, 0.6],
        [0.8, 0.8, 0.6, 1.0, 0.6, 1.0],
        [0.6, 0.6, 1.0, 1.0, 1.0, 0.8],
        [0.3, 0.3, 0.2, 0.5, 0.3, 1.2],
    ],
    dtype=F32,
)
MAX_TENURE = 4095


def _beta_mean_conc(gen: np.random.Generator, mean: float, conc: float, extra_b) -> np.ndarray:
    a = max(mean * conc, 1e-3)
    b = max((1 - mean) * conc, 1e-3) + extra_b
    return gen.beta(a, b)


def draw_traits(
    gen: np.random.Generator, n: int, spec: PopulationSpec, tenure: np.ndarray | None = None
) -> Traits:
    """Hidden traits of ``n`` customers; ``tenure`` (months) conditions frailty on survival.

    W ~ LogNormal(ln w_med, s_w); SOW₀ ~ Beta(5, 5); θ ~ Beta(μ·κ, (1 − μ)·κ + τ) — a customer
    who has stayed τ months is a survivor, so long-tenure customers are the sturdy ones, as in
    real cohorts; π ~ Beta(2, 5); E₀ ~ N(μ_E, σ_E) clipped to [0.3, 0.9]; purchase rate
    λ ~ purchase_rate · Gamma(r, 1/r).
    """
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
    beta = KANO_BETA[kano].T * gen.lognormal(0.0, 0.2, (len(LEVERS), n)).astype(F32)
    shape = spec.purchase_shape
    rate = spec.purchase_rate * gen.gamma(shape, 1.0 / shape, n)
    if spec.spend_per_purchase is not None:
        wallet, rate = _wallet_per_purchase(gen, spec.spend_per_purchase, rate, sow)
    fit = gen.normal(0.0, spec.fit_sd, n)
    u_star = gen.random(n)
    value = wallet * sow
    # Rising stars hide inside the lower 60% of value: small today, growing wallets.
    rank = value.argsort().argsort() / max(n - 1, 1)
    star = (u_star < spec.rising_star_share / 0.6) & (rank < 0.6)
    growth = np.where(star, 1.0 + spec.rising_star_growth, 1.0)
    # Key-account responsiveness: 0 below the 80th value percentile, 1 at the 99th.
    key_resp = np.clip((rank - 0.80) / 0.19, 0.0, 1.0)
    beta[LEVERS.index("kam")] *= key_resp.astype(F32)
    return Traits(
        wallet=wallet.astype(F32),
        sow0=sow.astype(F32),
        logit_theta=np.log(theta / (1 - theta)).astype(F32),
        price_sens=price.astype(F32),
        expectation0=expect.astype(F32),
        voice=voice.astype(F32),
        kano=kano.astype(np.int8),
        beta=beta.astype(F32),
        purchase_rate=rate.astype(F32),
        fit=fit.astype(F32),
        growth=growth.astype(F32),
        rising_star=star,
        key_resp=key_resp.astype(F32),
    )


def _wallet_per_purchase(gen: np.random.Generator, pqv, rate: np.ndarray, sow: np.ndarray):
    """A purchase log's customers (PopulationSpec.spend_per_purchase, Gamma-Gamma): mean spend
    per purchase z = p/ν with ν ~ Gamma(q, rate v), and a wallet that makes a purchase month's
    spend z times the purchases in it: W·SOW₀·m/(1 − e^(−λm)) = z·λm/(1 − e^(−λm)), so
    W = z·λ/SOW₀. Rates are floored at 1e-4 a month (a purchase every 800 years) so that the
    spend of a first purchase stays finite in float32."""
    p, q, v = pqv
    z = p * v / gen.gamma(q, 1.0, len(rate))
    rate = np.maximum(rate, 1e-4)
    return z * rate / sow, rate


def stage_spend(case: Case) -> np.ndarray:
    """m_stage by stage code: spend multipliers of 考察/形成/稳定/退化期; 0 for the others."""
    return np.array([*case.model.stage_spend, 0.0, 0.0], F32)


def initial_state(
    traits: Traits,
    tenure: np.ndarray,
    case: Case,
    gen: np.random.Generator,
    joins_later: np.ndarray,
) -> State:
    """The state of an existing book at the start of its history (``joins_later``: not yet a
    customer). S ~ N(0.70, 0.08), L on the satisfaction–loyalty curve, stage from both."""
    mp = case.model
    n = len(tenure)
    sat = np.clip(gen.normal(0.70, 0.08, n), 0, 1).astype(F32)
    loy = (1 / (1 + np.exp(-mp.loyalty_slope * (sat - mp.loyalty_mid)))).astype(F32)
    stage = np.full(n, FORM, dtype=np.int8)
    stage[(loy > mp.stable_loyalty) & (sat > mp.stable_sat)] = STABLE
    stage[sat < mp.decline_sat] = DECLINE
    stage[tenure < mp.explore_months] = EXPLORE
    stage[joins_later] = PROSPECT
    spend = traits.wallet * traits.sow0 * stage_spend(case)[stage]
    return State(
        S=sat,
        L=loy,
        E=traits.expectation0.copy(),
        C=np.zeros(n, F32),
        G=np.zeros(n, F32),
        pref=np.ones(n, F32),
        sow=traits.sow0.copy(),
        spend_mean=spend.astype(F32),
        tenure=np.clip(tenure, 0, MAX_TENURE).astype(np.int16),
        stage=stage,
        dwell=np.full(n, 2, np.int16),
        complaints=np.zeros(n, np.int16),
        bought=np.zeros(n, bool),
    )


def start_relationship(
    state: State, traits: Traits, idx: np.ndarray | slice, price: np.ndarray
) -> None:
    """A customer won (or joining) now starts in 考察期 with a fresh state: neutral
    satisfaction, no loyalty, lock-in or grievance yet, her own expectation and share of
    wallet, and the price of her segment as reference price."""
    from crmsim.model.state import NEW_LOYALTY, NEW_SATISFACTION

    state.stage[idx] = EXPLORE
    state.dwell[idx] = 0
    state.tenure[idx] = 0
    state.S[idx] = NEW_SATISFACTION
    state.L[idx] = NEW_LOYALTY
    state.E[idx] = traits.expectation0[idx]
    state.C[idx] = 0
    state.G[idx] = 0
    state.sow[idx] = traits.sow0[idx]
    state.complaints[idx] = 0
    state.bought[idx] = False
    state.pref[idx] = price
