"""``GET /metrics``: Prometheus text exposition, behind a bearer token of its own.

The counters and histograms recorded by the apps live in :mod:`mcprag_site.metrics` (summed
over processes in multiprocess mode); the series read from the database at scrape time are
collected here (:class:`IndexCollector`), so they are right whichever process or host ran the job.

* ``MCPRAG_METRICS_TOKEN`` unset: ``/metrics`` answers 404 (metrics are off).
* Otherwise ``Authorization: Bearer <MCPRAG_METRICS_TOKEN>`` is required: 401 with a
  ``WWW-Authenticate: Bearer realm="metrics"`` challenge without it or with another value
  (compared in constant time). MCP access tokens are not accepted here.
"""

from __future__ import annotations

import hashlib
import hmac

from django.http import Http404, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily

from codeindex import services
from codeindex.choices import JobStatus
from mcprag_site import metrics

from .app_settings import app_settings

__all__ = ["metrics_view", "IndexCollector"]


class IndexCollector:
    """Index jobs by state, their durations, and the embedding backlog, from the database."""

    def collect(self):
        snapshot = services.index_metrics()
        jobs = GaugeMetricFamily("mcprag_index_jobs", "Index jobs by state (queued, running, complete, failed).",
                                 labels=["state"])
        for state in JobStatus.values:
            jobs.add_metric([state], snapshot.jobs.get(state, 0))
        yield jobs
        durations = HistogramMetricFamily("mcprag_index_job_duration_seconds",
                                          "Start-to-finish time of finished index jobs, by final state.", labels=["state"])
        for state, (count, total, within) in sorted(snapshot.durations.items()):
            buckets = [(str(float(b)), n) for b, n in zip(services.monitoring.JOB_DURATION_BUCKETS, within)]
            durations.add_metric([state], [*buckets, ("+Inf", count)], total)
        yield durations
        yield GaugeMetricFamily("mcprag_embedding_backlog_chunks",
                                "Chunks without a vector of the configured embedding model.", value=snapshot.embedding_backlog)


def _authorized(request) -> bool:
    scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
    expected = app_settings.METRICS_TOKEN
    return scheme.lower() == "bearer" and hmac.compare_digest(
        hashlib.sha256(presented.strip().encode()).digest(), hashlib.sha256(expected.encode()).digest())


@never_cache
@require_GET
def metrics_view(request):
    if not app_settings.METRICS_TOKEN:
        raise Http404("metrics are off (MCPRAG_METRICS_TOKEN is not set)")
    if not _authorized(request):
        response = JsonResponse({"error": "unauthorized", "error_description": "A bearer token for /metrics is required."},
                                status=401)
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    body, content_type = metrics.exposition(IndexCollector())
    return HttpResponse(body, content_type=content_type)
