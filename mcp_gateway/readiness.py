"""Liveness and readiness probes for operators and orchestrators.

* ``GET /healthz`` — the process answers (no dependencies checked): ``200 {"status": "ok"}``.
* ``GET /readyz`` — every part a request needs answers: the database, Redis (when configured),
  a usable signing key, and the search index. ``200`` with each part ``"ok"`` (Redis
  ``"not configured"`` when ``REDIS_URL`` is unset: the embedded default needs none;
  ``dense_engine`` names the engine serving dense search, ``"pgvector …"`` or ``"in-memory …"``
  with the reason pgvector is not used; it never fails the probe by itself), or ``503``
  naming the failing part(s), e.g. ``{"status": "unavailable", "failing": ["redis"], "checks": {...}}``.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from codeindex import services
from oauth_app.keys import active_key

__all__ = ["healthz", "readyz", "readiness_checks"]

logger = logging.getLogger(__name__)


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


NOT_CONFIGURED = "not configured"


def _redis() -> str | None:
    if not settings.REDIS_URL:
        return NOT_CONFIGURED
    import redis  # only deployments with REDIS_URL load the client

    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
    try:
        client.ping()
    finally:
        client.close()


def _signing_key() -> None:
    active_key()


def _search_index() -> None:
    services.status()


def _dense_engine() -> str:
    return services.dense_engine()


_CHECKS = {"database": _database, "redis": _redis, "signing_key": _signing_key, "search_index": _search_index,
           "dense_engine": _dense_engine}


def readiness_checks() -> dict[str, str]:
    """``{part: "ok" | "not configured" | "error: <ExceptionClass>"}`` for every part
    (``dense_engine``: the engine's one-line description)."""
    results = {}
    for name, check in _CHECKS.items():
        try:
            results[name] = check() or "ok"
        except Exception as exc:  # a probe reports every failure; it must never raise
            logger.warning("readiness check %s failed: %s", name, exc.__class__.__name__)
            results[name] = f"error: {exc.__class__.__name__}"
            if isinstance(exc, DatabaseError) and name != "database":
                connection.close()
    return results


@never_cache
@require_GET
def healthz(request):
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request):
    checks = readiness_checks()
    failing = [name for name, result in checks.items() if result.startswith("error")]
    if failing:
        return JsonResponse({"status": "unavailable", "failing": failing, "checks": checks}, status=503)
    return JsonResponse({"status": "ok", "checks": checks})
