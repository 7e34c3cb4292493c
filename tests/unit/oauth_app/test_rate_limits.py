"""Rate limits: 429 with Retry-After at the token endpoint, and a fallback when Redis is down."""

from __future__ import annotations

import base64

import pytest

from oauth_app.ratelimit import retry_after
from oauth_app.services import create_service_client

pytestmark = pytest.mark.django_db


def test_token_endpoint_limits_each_client_with_retry_after(client, settings):
    settings.MCPRAG_RATE_LIMITS = {**settings.MCPRAG_RATE_LIMITS, "token_client": (2, 60)}
    app, secret = create_service_client("ci", ["code:read"])
    auth = "Basic " + base64.b64encode(f"{app.client_id}:{secret}".encode()).decode()
    statuses = [client.post("/token/", {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=auth).status_code
                for _ in range(3)]
    assert statuses == [200, 200, 429]
    refused = client.post("/token/", {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=auth)
    assert refused.json()["error"] == "too_many_requests" and 0 < int(refused["Retry-After"]) <= 60


def test_limits_keep_counting_in_process_when_redis_is_down(settings, caplog, monkeypatch):
    from oauth_app import ratelimit

    monkeypatch.setattr(ratelimit, "_warned", False)  # "logged once" per process: make this test the first
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": "redis://127.0.0.1:1/0",
                                   "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2}}}
    settings.MCPRAG_RATE_LIMITS = {"probe": (2, 60)}
    results = [retry_after("probe", "10.0.0.1") for _ in range(3)]
    assert results[:2] == [None, None] and results[2] is not None
    assert "Rate-limit store unavailable" in caplog.text


def test_a_flood_of_other_cache_entries_does_not_reset_a_limit(settings):
    """Counters share the cache with other entries; a full in-process cache culled them, and every
    limit started again (a webhook per made-up repository name added one entry each)."""
    from django.core.cache import cache

    settings.MCPRAG_RATE_LIMITS = {**settings.MCPRAG_RATE_LIMITS, "probe": (3, 300)}
    assert [retry_after("probe", "10.0.0.9") for _ in range(4)][3] is not None
    for i in range(2_000):
        cache.set(f"unrelated:{i}", i, 300)
    assert retry_after("probe", "10.0.0.9") is not None
