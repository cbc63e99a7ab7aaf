"""Shared fixtures: cases and small seeded populations, built once per test session."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from crmsim.cases import load_case  # noqa: E402
from crmsim.population import generate  # noqa: E402


@pytest.fixture(scope="session")
def telecom():
    return load_case("telecom")


@pytest.fixture(scope="session")
def pop_small(telecom):
    """2,000 telecom customers, seed 11."""
    return generate(telecom, 2000, seed=11)


@pytest.fixture(scope="session")
def pop_mid(telecom):
    """6,000 telecom customers, seed 5."""
    return generate(telecom, 6000, seed=5)
