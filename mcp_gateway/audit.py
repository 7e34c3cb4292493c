"""One audit path for every tool call, whatever the transport (DESIGN §3).

:func:`record_tool_call` is awaited in a ``finally`` block, so a failed call is audited too, and
it returns only once the row is committed. The row holds a SHA-256 digest and the size of the
arguments, never the arguments themselves (they may contain code or secrets), and never token
material.

Rows are written with **group commit** by one writer thread per process: while one insert is in
flight, the rows of concurrent calls queue up and go to the database together in the next
``bulk_create``. A lone call costs one insert; 32 concurrent calls cost a handful of inserts
instead of 32 round trips and worker-thread hops (``bench/audit_overhead.py`` and the CPU column
of ``bench/gateway.py`` measure it). A client that disconnects mid-call does not cancel the
write of its row.

A write that meets a transient database error (a restarting PostgreSQL, a locked SQLite file) is
tried again for up to :data:`RETRY_SECONDS` before its rows are logged as lost. If a connection
drops after the database received an insert but before it answered, the retry can store that
batch twice: the audit trail prefers a duplicate row to a missing one.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import queue
import threading
import time

from django.db import DatabaseError, InterfaceError, OperationalError, close_old_connections
from django.utils import timezone

from .models import ToolCall

__all__ = ["record_tool_call", "arguments_fingerprint"]

logger = logging.getLogger("mcprag.audit")

#: Upper bound of rows per insert (keeps one statement well under every backend's parameter limit).
MAX_BATCH = 200

#: How long (seconds) a batch may keep retrying transient database errors, such as a PostgreSQL
#: restart or a locked SQLite file, before its rows are logged as lost. Calls wait for their row
#: meanwhile, so this also bounds how long a tool call can be held by the audit.
RETRY_SECONDS = 5.0

#: Pauses (seconds) between tries of one batch; the last repeats until :data:`RETRY_SECONDS`.
RETRY_PAUSES = (0.05, 0.1, 0.25, 0.5, 1.0)


def arguments_fingerprint(arguments) -> tuple[str, int]:
    """``(sha256 hex, size in bytes)`` of the canonical JSON of the arguments."""
    raw = json.dumps(arguments or {}, sort_keys=True, separators=(",", ":"), default=str).encode()
    return hashlib.sha256(raw).hexdigest(), len(raw)


def is_transient(exc: BaseException) -> bool:
    """Whether a database error may pass if the same write is tried again a moment later.

    True for a lost or refused connection (PostgreSQL SQLSTATE classes 08, 53, 57, a driver error
    with no SQLSTATE such as "server closed the connection"), a serialization failure or deadlock
    (class 40), and SQLite's ``SQLITE_BUSY``/``SQLITE_LOCKED`` (another connection holds the lock).
    False for everything else (a missing table, a value that does not fit), which no retry mends.
    """
    if isinstance(exc, InterfaceError):  # the connection was already closed
        return True
    if not isinstance(exc, OperationalError):
        return False
    cause = exc.__cause__
    errorname = getattr(cause, "sqlite_errorname", None)
    if errorname is not None:
        return errorname.startswith(("SQLITE_BUSY", "SQLITE_LOCKED"))
    sqlstate = getattr(cause, "sqlstate", None)
    if sqlstate is None:
        return True
    return sqlstate[:2] in _TRANSIENT_SQLSTATE_CLASSES


_TRANSIENT_SQLSTATE_CLASSES = {"08", "40", "53", "57"}


def _insert(rows: list[dict], deadline: float) -> None:
    """``bulk_create`` the rows, trying again after a transient error (see :func:`is_transient`)
    with growing pauses until ``deadline`` (a ``time.monotonic()`` value); raises the last error."""
    pauses = iter(RETRY_PAUSES)
    while True:
        close_old_connections()  # drops a connection that errored and cannot be used: the next try reconnects
        try:
            ToolCall.objects.bulk_create([ToolCall(**fields) for fields in rows])
            return
        except DatabaseError as exc:
            pause = next(pauses, RETRY_PAUSES[-1])
            if not is_transient(exc) or time.monotonic() + pause > deadline:
                raise
            logger.warning("Audit write of %d row(s) met %s (%s); trying again in %.2f s",
                           len(rows), type(exc).__name__, str(exc).strip().split("\n", 1)[0], pause)
            time.sleep(pause)


def _write_many(rows: list[dict]) -> None:
    """Insert ``rows`` (ToolCall field dicts) in one statement.

    A transient error (:func:`is_transient`) is retried for up to :data:`RETRY_SECONDS`. If the
    batch still fails for another reason, each row is tried alone so one bad row loses only itself;
    every row that could not be written is logged as lost (with its tool, client and time).
    """
    deadline = time.monotonic() + RETRY_SECONDS
    try:
        try:
            _insert(rows, deadline)
            return
        except DatabaseError as exc:
            if len(rows) == 1 or is_transient(exc):  # alone, or the database stayed unreachable
                for fields in rows:
                    _log_lost(fields)
                return
        for fields in rows:
            try:
                _insert([fields], deadline)
            except DatabaseError:
                _log_lost(fields)
    finally:
        close_old_connections()


def _log_lost(fields: dict) -> None:
    logger.exception("Could not write the audit row for tool %s (client_id=%s user_id=%s at=%s)",
                     fields.get("tool"), fields.get("client_id"), fields.get("user_id"), fields.get("at"))


class _Writer:
    """The process's audit writer: one thread that takes every row queued since its last insert
    and writes them in one ``bulk_create``, then wakes the waiting calls on their own loops."""

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid = 0

    def submit(self, fields: dict, loop: asyncio.AbstractEventLoop, done: asyncio.Future) -> None:
        self._ensure_running()
        self._queue.put((fields, loop, done))

    def _ensure_running(self) -> None:
        # After a fork (uvicorn or Celery workers) the parent's thread does not exist in the child.
        if self._thread is not None and self._pid == os.getpid() and self._thread.is_alive():
            return
        with self._lock:
            if self._pid != os.getpid():  # a forked child: start afresh, with its own queue
                self._queue, self._pid, self._thread = queue.SimpleQueue(), os.getpid(), None
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="mcprag-audit-writer", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            while len(batch) < MAX_BATCH:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            try:
                _write_many([fields for fields, _, _ in batch])
            except BaseException:  # never leave a caller waiting; _write_many already logged DB errors
                logger.exception("Audit writer failed")
            for _, loop, done in batch:
                try:
                    loop.call_soon_threadsafe(_release, done)
                except RuntimeError:  # that loop has closed: nobody is waiting any more
                    pass


def _release(done: asyncio.Future) -> None:
    if not done.done():
        done.set_result(None)


_writer = _Writer()


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
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    _writer.submit(dict(
        at=timezone.now(), user_id=getattr(caller, "user_id", None), username=getattr(caller, "username", ""),
        client_id=getattr(caller, "client_id", ""), tool=tool[:128], transport=transport,
        arguments_sha256=digest, arguments_bytes=size, outcome=outcome, error_class=error_class[:128],
        duration_ms=duration_ms, result_bytes=result_bytes,
    ), loop, done)
    await asyncio.shield(done)
