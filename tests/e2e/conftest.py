"""Fixtures for the end-to-end tests: browser (tests/e2e/browser.py), processes, and the
scratch PostgreSQL database and Redis db that the Celery variants share."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from bench.scratch import scratch_postgres
from tests.e2e.browser import browser, web, web_server
from tests.e2e.procs import Spawned

__all__ = ["browser", "celery_env", "postgres_db", "procs", "web", "web_server"]

POSTGRES_URL = os.environ.get("PROMPTCANVAS_TEST_POSTGRES_URL")
REDIS_URL = os.environ.get("PROMPTCANVAS_TEST_REDIS_URL")


@pytest.fixture
def procs() -> Iterator[list[Spawned]]:
    """Processes a test started; every one is stopped (or killed) at the end.

    Ask for it after the fixtures the processes use (a database), so it is torn down first.
    """
    started: list[Spawned] = []
    try:
        yield started
    finally:
        for proc in reversed(started):
            proc.stop()


@pytest.fixture
def postgres_db() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test (the server migrates it)."""
    if not POSTGRES_URL:
        pytest.skip("needs PROMPTCANVAS_TEST_POSTGRES_URL (a PostgreSQL server)")
    with scratch_postgres(POSTGRES_URL, "pc_e2e") as url:
        yield url


@pytest.fixture
def celery_env(postgres_db: str) -> Iterator[dict[str, str]]:
    """Settings for an API server and Celery workers sharing PostgreSQL and a Redis db.

    The Redis db is the test's own: flushed before (no tasks or limits of an earlier run)
    and after.
    """
    if not REDIS_URL:
        pytest.skip("needs PROMPTCANVAS_TEST_REDIS_URL (a Redis db index the test may flush)")
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    try:
        yield {
            "PROMPTCANVAS_QUEUE": "celery",
            "PROMPTCANVAS_BROKER_URL": REDIS_URL,
            "PROMPTCANVAS_REDIS_URL": REDIS_URL,
            "PROMPTCANVAS_DATABASE_URL": postgres_db,
            "PROMPTCANVAS_JOB_LEASE_SECONDS": "5",
        }
    finally:
        client.flushdb()
        client.close()
