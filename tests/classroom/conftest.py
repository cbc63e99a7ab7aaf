"""Fixtures of the classroom tests: every store test runs on SQLite and on the real
PostgreSQL server CI starts (``CRMLAB_TEST_POSTGRES_URL``; without it the PostgreSQL half is
skipped, and under ``CI=true`` it fails)."""

import os

import pytest
import sqlalchemy as sa

from crmsim.cases import load_case
from crmsim.classroom import Classroom, metadata

PG_URL = os.environ.get("CRMLAB_TEST_POSTGRES_URL", "")


def postgres_url() -> str:
    if not PG_URL:
        if os.environ.get("CI") == "true":
            pytest.fail("CI must test against PostgreSQL: set CRMLAB_TEST_POSTGRES_URL")
        pytest.skip("no PostgreSQL server (set CRMLAB_TEST_POSTGRES_URL to test against one)")
    return PG_URL


def empty_postgres() -> str:
    """The test PostgreSQL database with no classroom tables."""
    found = postgres_url()
    engine = sa.create_engine(found)
    with engine.begin() as c:
        metadata.drop_all(c)
    engine.dispose()
    return found


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'classroom.db'}"
    return empty_postgres()


@pytest.fixture
def store(url):
    cl = Classroom(url)
    yield cl
    cl.close()


@pytest.fixture(scope="session")
def case():
    return load_case("telecom")
