"""Shared fixtures. Tests run on the database DATABASE_URL names (SQLite by default)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate-limit windows and other cached state never leak from one test into the next."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
