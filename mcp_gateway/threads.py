"""Blocking work (database, index) from the gateway's event loop, on the loop's worker threads.

:func:`in_thread` is what ``asgiref.sync.sync_to_async(fn, thread_sensitive=False)`` does for
the gateway — the call runs on the loop's default executor with a copy of the caller's context
variables (request id, log context) — without copying context variables *back* afterwards, which
the gateway never needs and which made each hop cost about twice the CPU (~140 µs against ~75 µs
per call, measured on this project's CI machine). A ``tools/call`` makes one hop, for its tool body;
the bearer check of a known token stays on the loop (:func:`mcp_gateway.auth.bearer.averify_access_token`).
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
from typing import Any, Callable, TypeVar

__all__ = ["in_thread"]

T = TypeVar("T")


async def in_thread(fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """Run ``fn(*args, **kwargs)`` on a worker thread and return (or raise) what it does."""
    call = functools.partial(contextvars.copy_context().run, fn, *args, **kwargs)
    return await asyncio.get_running_loop().run_in_executor(None, call)
