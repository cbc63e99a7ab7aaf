"""Seeded random streams (DESIGN §4): one seed makes the whole run.

Each purpose (population traits, names, prospects, monthly draws) gets its own stream derived
with ``SeedSequence(seed, spawn_key=...)``. Monthly draws are made per fixed-size block of
customer slots: slot ``i`` gets the ``i``-th number of each (month, purpose) stream, alive or
not, so it sees the same numbers whatever the population size, plan or processing order —
common random numbers across plans.
"""

from __future__ import annotations

import sys

import numpy as np

BLOCK = 32_768  # customer slots per random block; part of the model's definition
POPULATION, NAMES, PROSPECTS, MONTHLY, SAMPLE = 1, 2, 3, 4, 5
# Uniforms per slot-month: failure, quality noise, churn and (non-contractual cases) purchase.
# Rare follow-ups reuse the residue of a uniform, which is again uniform given the outcome:
# given a failure (u < p_fail), u / p_fail decides major vs minor, what is left decides whether
# the customer voices a complaint, and what is left after that decides the resolution. In
# contractual cases the purchase draw (needed only for 考察期 customers) is the churn uniform's
# residue (u − h) / (1 − h) among those who stay.
N_MONTHLY = 4
U_FAIL, U_NOISE, U_CHURN, U_BUY = range(N_MONTHLY)


def stream(seed: int, *key: int) -> np.random.Generator:
    """An independent generator for one purpose, identified by ``key``."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=key)))


_MASK = (1 << 64) - 1
_MANTISSAS = np.uint64(0x007FFFFF007FFFFF)  # 23 mantissa bits of each 32-bit half
_ONES = np.uint64(0x3F8000003F800000)  # exponent of 1.0f in each half
_BIG_ENDIAN = sys.byteorder == "big"


def _splitmix64(x: int) -> int:
    x = (x + 0x9E3779B97F4A7C15) & _MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


def _mix(key: tuple[int, int], parts: tuple[int, ...]) -> tuple[int, int]:
    a, b = key
    for p in parts:
        a = _splitmix64(a ^ (p & _MASK))
        b = _splitmix64(b + a)
    return a, b


class MonthlyStreams:
    """Uniforms per (phase, month, purpose), each from its own PCG64 stream over all slots.

    A ``SeedSequence`` per stream costs ~50 µs, which adds up over thousands of block-months,
    so the 128-bit PCG64 state and increment of each stream are derived from one seeded key
    with SplitMix64 and assigned to a reused generator.
    """

    def __init__(self, seed: int):
        key = np.random.SeedSequence(seed, spawn_key=(MONTHLY,)).generate_state(2, np.uint64)
        self.key = (int(key[0]), int(key[1]))
        self.bitgen = np.random.PCG64(0)

    def _state(self, start: tuple[int, int], row: int) -> dict:
        """PCG64 state of one row's stream, mixed from a month's key."""
        a, b = _mix(start, (row,))
        hi, lo = _splitmix64(a + 1), _splitmix64(b + 2)
        inc = ((_splitmix64(a ^ b) << 64) | _splitmix64(b ^ 0xA5A5)) | 1
        return {
            "bit_generator": "PCG64",
            "state": {"state": (hi << 64) | lo, "inc": inc},
            "has_uint32": 0,
            "uinteger": 0,
        }

    def uniforms(self, phase: int, month: int, n: int, rows: int = N_MONTHLY) -> np.ndarray:
        """(rows, n) float32 uniforms of slots 0..n−1 in one month: slot ``i`` gets the
        ``i``-th number of each purpose's stream, whatever ``n`` or ``rows`` are.

        Each 64-bit word of a stream gives two uniforms on the grid k·2⁻²³ (slots 2j and
        2j + 1 take the top 23 bits of the low and high 32-bit halves of word j), written
        straight into the bit pattern of a float in [1, 2): half the generator calls of one
        float32 per word, and no integer-to-float conversion."""
        out = np.empty((rows, n), np.float32)
        words = (n + 1) // 2
        month_key = _mix(self.key, (phase, month))  # shared by the month's streams
        for k in range(rows):
            self.bitgen.state = self._state(month_key, k)
            w = self.bitgen.random_raw(words)
            np.right_shift(w, 9, out=w)
            np.bitwise_and(w, _MANTISSAS, out=w)
            np.bitwise_or(w, _ONES, out=w)
            halves = w.view(np.float32)
            if _BIG_ENDIAN:  # slot 2j takes the word's low half on every machine
                halves = halves.reshape(-1, 2)[:, ::-1].ravel()
            np.subtract(halves[:n], np.float32(1), out=out[k])
        return out
