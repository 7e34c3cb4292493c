"""Shared fixtures. Tests run on the database DATABASE_URL names (SQLite by default)."""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest

#: Fixtures shared across test packages live in tests/support/ as plugins, never in a test
#: package's conftest that other packages would have to import.
pytest_plugins = ["tests.support.oauth", "tests.support.e2e_server", "tests.support.mcp_tools", "tests.support.sso"]


@pytest.fixture(autouse=True)
def _no_periodic_tasks(settings):
    """A worker thread a test starts runs jobs only: the periodic tasks (syncs, token cleanup, audit
    retention) would otherwise act on the test's rows at times the test does not choose. Tests of
    the periodic runner turn it back on."""
    settings.MCPRAG_PERIODIC_TASKS = False


@pytest.fixture(autouse=True)
def _fresh_cache(monkeypatch):
    """Rate-limit windows and other cached state never leak from one test into the next.

    The rate-limit clock also stands still, one second into the current hour: limits count in fixed
    windows aligned to the epoch, so a test whose requests straddled a window's end would see its
    count start again mid-test (three token requests that should end in a 429 answered 200, 200, 200).
    """
    from django.core.cache import cache

    from oauth_app import ratelimit

    hour = int(time.time()) // 3600 * 3600
    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=lambda: hour + 1.0))
    ratelimit._fallback.clear()
    cache.clear()
    yield
    cache.clear()
    ratelimit._fallback.clear()


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, tmp_path_factory):
    """SQLite: the test database is a file in WAL mode, as in production, not Django's default
    in-memory shared-cache database. There, a read that meets another connection's write fails at
    once ("database table is locked") instead of waiting, which production never sees."""
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"].endswith("sqlite3"):
        database.setdefault("TEST", {})["NAME"] = str(tmp_path_factory.mktemp("db") / "test.sqlite3")
