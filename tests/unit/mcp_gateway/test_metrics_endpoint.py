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


def test_index_job_durations_are_a_histogram_by_final_state(client, settings):
    """Durations come from the jobs' start and finish times in the database (SQLite and PostgreSQL)."""
    from datetime import timedelta

    from django.utils import timezone

    from codeindex.models import IndexJob, Repository

    settings.MCPRAG_METRICS_TOKEN = TOKEN
    repo = Repository.objects.create(name="shop", root_path="/srv/shop")
    now = timezone.now()
    for seconds, state in ((3, "complete"), (40, "complete"), (4000, "failed")):
        IndexJob.objects.create(repository=repo, status=state, source="/srv/shop", started_at=now - timedelta(seconds=seconds),
                                finished_at=now)
    IndexJob.objects.create(repository=repo, status="queued", source="/srv/shop")
    samples = _scrape(client)
    complete = lambda name, le=None: samples[(name, (("le", le), ("state", "complete")) if le else (("state", "complete"),))]  # noqa: E731
    assert complete("mcprag_index_job_duration_seconds_count") == 2
    assert complete("mcprag_index_job_duration_seconds_sum") == pytest.approx(43, abs=0.5)
    assert complete("mcprag_index_job_duration_seconds_bucket", "1.0") == 0
    assert complete("mcprag_index_job_duration_seconds_bucket", "5.0") == 1
    assert complete("mcprag_index_job_duration_seconds_bucket", "60.0") == 2
    assert samples[("mcprag_index_job_duration_seconds_bucket", (("le", "3600.0"), ("state", "failed")))] == 0
    assert samples[("mcprag_index_job_duration_seconds_bucket", (("le", "7200.0"), ("state", "failed")))] == 1
    assert samples[("mcprag_index_jobs", (("state", "queued"),))] == 1
    assert samples[("mcprag_index_jobs", (("state", "complete"),))] == 2
