"""One audit path for every tool call, whatever the transport (DESIGN §3).

:func:`record_tool_call` is awaited in a ``finally`` block, so a failed call is audited too, and
it returns only once the row is committed. The row holds a SHA-256 digest and the size of the
arguments, never the arguments themselves (they may contain code or secrets), and never token
material.

Rows are written with **group commit**: while one insert is in flight, the rows of concurrent
calls queue up and go to the database together in the next ``bulk_create``. A lone call costs one
insert, as before; 32 concurrent calls cost a handful of inserts instead of 32 round trips and
thread hops (``bench/audit_overhead.py`` measures it). The insert runs in its own task, so a
client that disconnects mid-call does not cancel the write of its row.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import weakref

from asgiref.sync import sync_to_async
from django.db import DatabaseError, close_old_connections

from .models import ToolCall

__all__ = ["record_tool_call", "arguments_fingerprint"]

logger = logging.getLogger("mcprag.audit")

#: Upper bound of rows per insert (keeps one statement well under every backend's parameter limit).
MAX_BATCH = 200


def arguments_fingerprint(arguments) -> tuple[str, int]:
    """``(sha256 hex, size in bytes)`` of the canonical JSON of the arguments."""
    raw = json.dumps(arguments or {}, sort_keys=True, separators=(",", ":"), default=str).encode()
    return hashlib.sha256(raw).hexdigest(), len(raw)


def _write_many(rows: list[dict]) -> None:
    """Insert ``rows`` (ToolCall field dicts) in one statement; on failure, row by row, logging losses."""
    close_old_connections()
    try:
        try:
            ToolCall.objects.bulk_create([ToolCall(**fields) for fields in rows])
            return
        except DatabaseError:
            if len(rows) == 1:
                logger.exception("Could not write the audit row for tool %s", rows[0].get("tool"))
                return
        close_old_connections()
        for fields in rows:
            try:
                ToolCall.objects.create(**fields)
            except DatabaseError:
                logger.exception("Could not write the audit row for tool %s", fields.get("tool"))
    finally:
        close_old_connections()


class _GroupCommit:
    """The audit queue of one event loop: rows waiting, and whether a writer task is draining it."""

    def __init__(self) -> None:
        self.pending: list[tuple[dict, asyncio.Future]] = []
        self.writer: asyncio.Task | None = None

    async def write(self, fields: dict) -> None:
        done = asyncio.get_running_loop().create_future()
        self.pending.append((fields, done))
        if self.writer is None or self.writer.done():
            self.writer = asyncio.get_running_loop().create_task(self._drain())
        await asyncio.shield(done)

    async def _drain(self) -> None:
        while self.pending:
            batch, self.pending = self.pending[:MAX_BATCH], self.pending[MAX_BATCH:]
            try:
                await sync_to_async(_write_many, thread_sensitive=False)([fields for fields, _ in batch])
            except BaseException:  # never leave a caller waiting; _write_many already logged DB errors
                logger.exception("Audit writer failed")
            for _, done in batch:
                if not done.done():
                    done.set_result(None)


_queues: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _GroupCommit] = weakref.WeakKeyDictionary()


def _queue() -> _GroupCommit:
    loop = asyncio.get_running_loop()
    queue = _queues.get(loop)
    if queue is None:
        queue = _queues[loop] = _GroupCommit()
    return queue


async def record_tool_call(*, caller, tool: str, transport: str, arguments, outcome: str,
                           error_class: str = "", duration_ms: float = 0.0, result_bytes: int = 0) -> None:
    """Write the audit row of one ``tools/call``; returns once it is committed (or its loss logged).

    :param caller: the :class:`~mcp_gateway.auth.identity.Caller` (or None when unknown).
    :param arguments: the call's arguments; only their SHA-256 and JSON size (bytes) are stored.
    :param outcome: a :class:`~mcp_gateway.models.ToolCall.Outcome` value.
    :param duration_ms: wall time of the call in milliseconds.
    :param result_bytes: size of the result's JSON in bytes.
    """
    digest, size = arguments_fingerprint(arguments)
    logger.info("tool_call tool=%s outcome=%s client_id=%s user_id=%s transport=%s ms=%.1f",
                tool, outcome, getattr(caller, "client_id", ""), getattr(caller, "user_id", None), transport, duration_ms)
    await _queue().write(dict(
        user_id=getattr(caller, "user_id", None), username=getattr(caller, "username", ""),
        client_id=getattr(caller, "client_id", ""), tool=tool[:128], transport=transport,
        arguments_sha256=digest, arguments_bytes=size, outcome=outcome, error_class=error_class[:128],
        duration_ms=duration_ms, result_bytes=result_bytes,
    ))
