"""Seeded random streams (DESIGN §4): one seed makes the whole run.

Each purpose (population traits, names, prospects, monthly draws) gets its own stream derived
with ``SeedSequence(seed, spawn_key=...)``. Monthly draws are made per fixed-size block of
customer slots, for every slot, alive or not, so slot ``i`` sees the same numbers whatever the
population size, plan or processing order — common random numbers across plans.
"""

from __future__ import annotations

import numpy as np

BLOCK = 32_768  # customer slots per random block; part of the model's definition
POPULATION, NAMES, PROSPECTS, MONTHLY, SAMPLE = 1, 2, 3, 4, 5
# Uniforms per slot-month: failure (and, below p_fail·major_share, a major one), quality noise,
# voice (a complainer's u_voice / p_voice is again uniform and decides the resolution), churn,
# purchase.
N_MONTHLY = 5
U_FAIL, U_NOISE, U_VOICE, U_CHURN, U_BUY = range(N_MONTHLY)


def stream(seed: int, *key: int) -> np.random.Generator:
    """An independent generator for one purpose, identified by ``key``."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=key)))


def monthly_uniforms(seed: int, phase: int, month: int, block: int) -> np.ndarray:
    """The (N_MONTHLY, BLOCK) float32 uniforms of one block of slots in one month."""
    return stream(seed, MONTHLY, phase, month, block).random((N_MONTHLY, BLOCK), dtype=np.float32)
