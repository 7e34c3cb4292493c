"""Shared fixtures. Tests run on the database DATABASE_URL names (SQLite by default)."""

from __future__ import annotations

import pytest

#: Fixtures shared across test packages live in tests/support/ as plugins, never in a test
#: package's conftest that other packages would have to import.
pytest_plugins = ["tests.support.oauth", "tests.support.e2e_server", "tests.support.mcp_tools", "tests.support.sso"]


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate-limit windows and other cached state never leak from one test into the next."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, tmp_path_factory):
    """SQLite: the test database is a file in WAL mode, as in production, not Django's default
    in-memory shared-cache database. There, a read that meets another connection's write fails at
    once ("database table is locked") instead of waiting, which production never sees."""
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"].endswith("sqlite3"):
        database.setdefault("TEST", {})["NAME"] = str(tmp_path_factory.mktemp("db") / "test.sqlite3")
