"""Acquisition 客户获取 (docs/model.md §4): finite prospect pools, rising cost per customer, MAN.

Each channel reaches a pool of prospects P (a share of the reference book, scaled to the
population). A month's money M in a channel wins

    n = P · (1 − e^(−M / (c · P)))

new customers, where c is the cost per customer at low volume: the first customers cost c, each
further one more (the marginal cost is c · e^(M / (c · P))), and no money buys more than the
pool. Worked prospects leave the pool, which refills slowly toward its full size:
P ← P − n + refill · (P₀ − P). Referrals (转介绍) have no stock: each month's pool is
``referral_rate`` × the customers in the affection zone last month, so they cannot be bought
beyond the customers who would recommend you. Each new customer meets her channel's MAN bar
(Money, Authority, Need) with the channel's probability; one who fails it has a smaller wallet
and a frailer relationship. New customers start in 考察期 (docs/model.md §2).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from crmsim import rng as rngs
from crmsim.model.case import Case, PopulationSpec
from crmsim.model.plan import CHANNELS
from crmsim.model.state import F32, PROSPECT, State, Traits
from crmsim.model.traits import draw_traits, initial_state

REFERRAL = CHANNELS.index("referral")
MAN_WALLET, MAN_LOGIT = 0.35, 1.0  # a prospect failing MAN: 35% of the wallet, +1.0 hazard logit
PROSPECT_BLOCK = 4096
PROSPECT_CACHE = 128  # blocks (≈ 0.3 MB each): a 1M-customer run's prospects fit


def wins(money: float, pool: float, cost: float) -> float:
    """Expected new customers n = P·(1 − e^(−M/(c·P))) from money M in a pool of P prospects."""
    if money <= 0 or pool <= 0:
        return 0.0
    return pool * (1.0 - math.exp(-money / (cost * pool)))


@dataclass
class Pools:
    """Each channel's prospect pool through a run, and the fractions of customers carried over
    (customers come whole; the expected count's remainder waits for the next month)."""

    full: list[float]  # P₀ per channel (0 for referral and channels the case lacks)
    left: list[float]  # P now
    refill: list[float]
    cost: list[float]
    man: list[float]
    carry: list[float] = field(default_factory=lambda: [0.0] * len(CHANNELS))

    @classmethod
    def for_case(cls, case: Case, book_size: float) -> Pools:
        """Full pools for a book of ``book_size`` customers."""
        acq = case.acquisition
        full = [
            acq[ch].pool * book_size if ch in acq and ch != "referral" else 0.0 for ch in CHANNELS
        ]
        return cls(
            full=full,
            left=list(full),
            refill=[acq[ch].refill if ch in acq else 0.0 for ch in CHANNELS],
            cost=[acq[ch].cost if ch in acq else math.inf for ch in CHANNELS],
            man=[acq[ch].man if ch in acq else 1.0 for ch in CHANNELS],
        )

    def month(self, money: np.ndarray, referral_pool: float) -> list[int]:
        """Customers won this month per channel from ``money`` per channel; pools deplete and
        refill. ``referral_pool`` is this month's referrals available (affection zone)."""
        got = []
        for ch, m in enumerate(money.tolist()):
            pool = referral_pool if ch == REFERRAL else self.left[ch]
            n = wins(m, pool, self.cost[ch]) if math.isfinite(self.cost[ch]) else 0.0
            if ch != REFERRAL:
                self.left[ch] += -n + self.refill[ch] * (self.full[ch] - (self.left[ch] - n))
            carry = self.carry[ch] + n
            k = math.floor(carry + 1e-9)
            self.carry[ch] = carry - k
            got.append(k)
        return got


def capacity(case: Case, money: np.ndarray, months: int, book_size: float) -> int:
    """Upper bound on customers ``money`` per channel can win in ``months``: never more than
    M/c a month, nor more than a pool and its refills."""
    total = 0.0
    for ch, m in zip(CHANNELS, money.tolist(), strict=True):
        if m <= 0 or ch not in case.acquisition:
            continue
        spec = case.acquisition[ch]
        by_money = m / spec.cost * months
        if ch == "referral":
            total += by_money
        else:
            pool = spec.pool * book_size
            total += min(by_money, pool * (1 + spec.refill * months))
    return math.ceil(total) + (len(CHANNELS) if total else 0)


def apply_man(traits: Traits, slots: slice, man_share: np.ndarray, u_man: np.ndarray) -> None:
    """New customers in ``slots`` who fail their channel's MAN bar (u ≥ man share) get a
    smaller wallet and a frailer relationship."""
    bad = u_man >= man_share
    if bad.any():
        traits.wallet[slots] *= np.where(bad, F32(MAN_WALLET), F32(1))
        traits.logit_theta[slots] += np.where(bad, F32(MAN_LOGIT), F32(0))


def prospect_slots(case: Case, seed: int, count: int) -> tuple[Traits, State, np.ndarray]:
    """Traits, not-yet-customer state and MAN uniforms of ``count`` prospect slots, drawn per
    fixed block so a slot's luck does not depend on the plan."""
    blocks = [
        _prospect_block(case.population.model_dump_json(), seed, b)
        for b in range(math.ceil(count / PROSPECT_BLOCK))
    ]
    traits = blocks[0][0]
    for b in blocks[1:]:
        traits = traits.concat(b[0])
    traits = traits.take(slice(0, count)).copy()
    man_u = np.concatenate([b[1] for b in blocks])[:count]
    state = initial_state(
        traits,
        np.zeros(count),
        case,
        rngs.stream(seed, rngs.PROSPECTS, 2**31),
        np.ones(count, bool),
    )
    assert (state.stage == PROSPECT).all()
    return traits, state, man_u


@lru_cache(maxsize=PROSPECT_CACHE)
def _prospect_block(spec_json: str, seed: int, block: int) -> tuple[Traits, np.ndarray]:
    """One block of prospect traits and MAN uniforms (read-only; callers copy)."""
    gen = rngs.stream(seed, rngs.PROSPECTS, block)
    traits = draw_traits(gen, PROSPECT_BLOCK, PopulationSpec.model_validate_json(spec_json))
    man = gen.random(PROSPECT_BLOCK).astype(F32)
    for arr in (*traits.arrays().values(), man):
        arr.flags.writeable = False
    return traits, man
