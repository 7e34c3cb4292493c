"""Fixed-window rate limits by named action, kept in Django's cache (Redis when ``REDIS_URL`` is
set, process memory otherwise). Limits are set in ``settings.MCPRAG_RATE_LIMITS`` as
``{action: (max_requests, window_seconds)}``.

A refused request gets HTTP 429 with ``Retry-After`` (RFC 6585 §4).
"""

from __future__ import annotations

import hashlib
import logging
import time

from django.conf import settings
from django.core.cache import cache
from django.core.cache.backends.locmem import LocMemCache
from django.http import JsonResponse

__all__ = ["retry_after", "too_many_requests"]

logger = logging.getLogger(__name__)
_warned = False
#: Per-process counters used while the shared cache (Redis) is unreachable.
_fallback = LocMemCache("mcprag-ratelimit-fallback", {"OPTIONS": {"MAX_ENTRIES": 100_000}})


def retry_after(action: str, key: str) -> int | None:
    """Count one request of ``action`` by ``key``; return seconds to wait if over the limit, else None."""
    global _warned
    limit = getattr(settings, "MCPRAG_RATE_LIMITS", {}).get(action)
    if not limit:
        return None
    max_requests, window = limit
    now = int(time.time())
    window_start = now - now % window
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    cache_key = f"mcprag:rl:{action}:{digest}:{window_start}"
    try:
        cache.add(cache_key, 0, timeout=window + 1)
        count = cache.incr(cache_key)
    except Exception:  # Redis down must not take sign-in, tokens or tools down with it
        if not _warned:
            logger.warning("Rate-limit store unavailable; counting in this process until it is back.")
            _warned = True
        _fallback.add(cache_key, 0, timeout=window + 1)
        count = _fallback.incr(cache_key)
    if count > max_requests:
        return max(1, window_start + window - now)
    return None


def too_many_requests(wait: int, description: str = "Too many requests; try again later.") -> JsonResponse:
    response = JsonResponse({"error": "too_many_requests", "error_description": description}, status=429)
    response["Retry-After"] = str(wait)
    response["Cache-Control"] = "no-store"
    return response
