"""``/metrics``: off without its token, 401 without the right bearer, and the series the apps
record (single-process mode here; tests/e2e/test_metrics.py runs two uvicorn workers)."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

TOKEN = "t" * 40

pytestmark = pytest.mark.django_db


def _scrape(client) -> dict:
    answer = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert answer.status_code == 200, answer.content[:300]
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(answer.content.decode()) for s in family.samples}


def test_off_without_a_token(client, settings):
    settings.MCPRAG_METRICS_TOKEN = ""
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 404


def test_needs_its_own_bearer(client, settings):
    settings.MCPRAG_METRICS_TOKEN = TOKEN
    for header in ({}, {"HTTP_AUTHORIZATION": "Bearer " + "x" * 40}, {"HTTP_AUTHORIZATION": f"Basic {TOKEN}"}):
        answer = client.get("/metrics", **header)
        assert answer.status_code == 401 and answer["WWW-Authenticate"] == 'Bearer realm="metrics"'
        assert b"mcprag_" not in answer.content


def test_rate_limit_refusals_are_counted_by_action(client, settings):
    from oauth_app.ratelimit import retry_after

    settings.MCPRAG_METRICS_TOKEN = TOKEN
    settings.MCPRAG_RATE_LIMITS = {**settings.MCPRAG_RATE_LIMITS, "register": (2, 60)}
    key = ("mcprag_rate_limit_refusals_total", (("action", "register"),))
    before = _scrape(client).get(key, 0)
    assert [retry_after("register", "203.0.113.9") for _ in range(4)][:2] == [None, None]
    assert _scrape(client)[key] == before + 2


def test_audit_rows_lost_and_tokens_issued_are_counted(client, settings):
    from mcp_gateway.db import audit_writer
    from mcprag_site import metrics

    settings.MCPRAG_METRICS_TOKEN = TOKEN
    before = _scrape(client)
    try:
        raise RuntimeError("database gone")
    except RuntimeError:
        audit_writer._log_lost({"tool": "search_code", "client_id": "c", "user_id": None, "at": None})
    metrics.token_issued("urn:ietf:params:oauth:grant-type:made-up")
    after = _scrape(client)
    assert after[("mcprag_audit_rows_lost_total", ())] == before.get(("mcprag_audit_rows_lost_total", ()), 0) + 1
    assert after[("mcprag_tokens_issued_total", (("grant_type", "other"),))] >= 1  # bounded labels


def test_index_series_come_from_the_database(client, settings):
    settings.MCPRAG_METRICS_TOKEN = TOKEN
    samples = _scrape(client)
    assert {samples[("mcprag_index_jobs", (("state", s),))] for s in ("queued", "running", "complete", "failed")} == {0}
    assert ("mcprag_embedding_backlog_chunks", ()) in samples
