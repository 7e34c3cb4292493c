"""Fixed-window rate limits by named action, kept in Django's cache (Redis when ``REDIS_URL`` is
set, process memory otherwise). Limits are set in ``MCPRAG_RATE_LIMITS`` (read through :mod:`oauth_app.app_settings`) as
``{action: (max_requests, window_seconds)}``.

:func:`retry_after` blocks (views, worker threads); :func:`aretry_after` counts in the same keys
from an event loop without a worker thread (the MCP gateway): on Redis with ``redis.asyncio``, in
process memory inline. While Redis is unreachable both count in process memory (logged once).

A refused request gets HTTP 429 with ``Retry-After`` (RFC 6585 §4).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
import weakref

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from django.http import JsonResponse

from mcprag_site import metrics

from .app_settings import app_settings

__all__ = ["retry_after", "aretry_after", "over_limit", "too_many_requests"]

logger = logging.getLogger(__name__)
_warned = False
#: Per-process counters used while the shared cache (Redis) is unreachable.
_fallback = LocMemCache("mcprag-ratelimit-fallback", {"OPTIONS": {"MAX_ENTRIES": 100_000}})


def _window(action: str, key: str) -> tuple[str, int, int, int] | None:
    """``(cache key, max requests, window seconds, seconds left in the window)``, or None when
    ``action`` has no limit."""
    limit = app_settings.RATE_LIMITS.get(action)
    if not limit:
        return None
    max_requests, window = limit
    now = int(time.time())
    window_start = now - now % window
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    return f"mcprag:rl:{action}:{digest}:{window_start}", max_requests, window, max(1, window_start + window - now)


def _count_in_process(cache_key: str, window: int) -> int:
    global _warned
    if not _warned:
        logger.warning("Rate-limit store unavailable; counting in this process until it is back.")
        _warned = True
    _fallback.add(cache_key, 0, timeout=window + 1)
    return _fallback.incr(cache_key)


def _refused(action: str, wait: int) -> int:
    """Over ``action``'s budget: counted in ``mcprag_rate_limit_refusals_total``; returns ``wait``."""
    metrics.rate_limited(action)
    return wait


def retry_after(action: str, key: str) -> int | None:
    """Count one request of ``action`` by ``key``; return seconds to wait if over the limit, else None."""
    limit = _window(action, key)
    if limit is None:
        return None
    cache_key, max_requests, window, left = limit
    try:
        cache.add(cache_key, 0, timeout=window + 1)
        count = cache.incr(cache_key)
    except Exception:  # Redis down must not take sign-in, tokens or tools down with it
        count = _count_in_process(cache_key, window)
    return _refused(action, left) if count > max_requests else None


def over_limit(action: str, key: str) -> int | None:
    """Seconds to wait if ``key`` has already used up ``action``'s budget in this window, else None;
    counts nothing. With :func:`retry_after` called only for the requests that should count (e.g.
    failed sign-ins), a budget limits failures instead of every request."""
    limit = _window(action, key)
    if limit is None:
        return None
    cache_key, max_requests, _, left = limit
    try:
        count = cache.get(cache_key) or 0
    except Exception:  # as retry_after: Redis down must not take sign-in down with it
        count = _fallback.get(cache_key) or 0
    return _refused(action, left) if count >= max_requests else None


_async_clients: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

#: Count one request in a fixed window, in one round trip and atomically: the counter is created with
#: its expiry (what Django's ``add`` + ``incr`` do in three). Same key and value format as the
#: cache API, so :func:`retry_after` and :func:`aretry_after` share counters.
_COUNT_SCRIPT = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return n
"""


def _async_counter():
    """The counting script on a ``redis.asyncio`` client for the running loop, on the server
    Django's cache writes to (the first ``LOCATION``)."""
    loop = asyncio.get_running_loop()
    counter = _async_clients.get(loop)
    if counter is None:
        import redis.asyncio  # only a Redis-backed cache gets here

        location = settings.CACHES["default"]["LOCATION"]
        first = (location.split(",") if isinstance(location, str) else list(location))[0].strip()
        client = redis.asyncio.Redis.from_url(first, socket_connect_timeout=2, socket_timeout=2)
        counter = _async_clients[loop] = client.register_script(_COUNT_SCRIPT)
    return counter


async def aretry_after(action: str, key: str) -> int | None:
    """:func:`retry_after` for an event loop: the same counters, without a worker thread when the
    cache is Redis (one ``EVALSHA`` round trip, about half the CPU of a ``MULTI`` pipeline
    with redis-py, measured) or process memory."""
    limit = _window(action, key)
    if limit is None:  # before touching the cache handler: its per-context lookup costs more than this
        return None
    backend = caches["default"]
    if isinstance(backend, LocMemCache):
        return retry_after(action, key)  # an in-process dictionary under a lock: never waits on I/O
    if not isinstance(backend, RedisCache):
        return await sync_to_async(retry_after, thread_sensitive=False)(action, key)
    cache_key, max_requests, window, left = limit
    try:
        count = int(await _async_counter()(keys=[backend.make_and_validate_key(cache_key)], args=[window + 1]))
    except Exception:  # as retry_after: Redis down must not take the tools down with it
        count = _count_in_process(cache_key, window)
    return _refused(action, left) if count > max_requests else None


def too_many_requests(wait: int, description: str = "Too many requests; try again later.") -> JsonResponse:
    response = JsonResponse({"error": "too_many_requests", "error_description": description}, status=429)
    response["Retry-After"] = str(wait)
    response["Cache-Control"] = "no-store"
    return response
