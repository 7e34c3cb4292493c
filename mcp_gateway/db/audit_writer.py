"""The audit trail's writer: every ``tools/call`` row, inserted with **group commit**.

:mod:`mcp_gateway.audit` decides what a row holds and when a call waits for it; this module only
gets rows into the database. While one insert is in flight, the rows of concurrent calls queue up
and go to the database together in the next single ``INSERT`` (autocommit: one round trip). A lone
call costs one insert; 32 concurrent calls cost a handful of inserts instead of 32 round trips
(``bench/audit_overhead.py`` and the CPU column of ``bench/gateway.py`` measure it). On
PostgreSQL the inserts run on the calling event loop, on a connection of its own
(:class:`.connection.LoopConnection`); on other backends (SQLite) one writer thread per process
runs them on Django's connection. A client that disconnects mid-call does not cancel the write of
its row.

A write that meets a transient database error (:func:`.retry.is_transient`: a restarting
PostgreSQL, a locked SQLite file) is tried again for up to :data:`RETRY_SECONDS` before its rows
are logged as lost. If a connection drops after the database received an insert but before it
answered, the retry can store that batch twice: the audit trail prefers a duplicate row to a
missing one.
"""

from __future__ import annotations

import asyncio
import logging
import os
import queue
import threading
import time
import weakref

from django.db import DatabaseError, close_old_connections, connections, router

from mcprag_site import metrics

from ..models import ToolCall
from .connection import LoopConnection, psycopg_params
from .retry import Tries, is_transient

__all__ = ["submit", "insert_statement", "MAX_BATCH", "RETRY_SECONDS", "RETRY_PAUSES"]

logger = logging.getLogger("mcprag.audit")

#: Upper bound of rows per insert (keeps one statement well under every backend's parameter limit).
MAX_BATCH = 200

#: How long (seconds) a batch may keep retrying transient database errors, such as a PostgreSQL
#: restart or a locked SQLite file, before its rows are logged as lost. Calls wait for their row
#: meanwhile, so this also bounds how long a tool call can be held by the audit.
RETRY_SECONDS = 5.0

#: Pauses (seconds) between tries of one batch; the last repeats until :data:`RETRY_SECONDS`.
RETRY_PAUSES = (0.05, 0.1, 0.25, 0.5, 1.0)

#: How often (seconds) the writer lets Django tidy its connection (``close_old_connections``).
TIDY_SECONDS = 10.0


def _tries() -> Tries:
    """The tries of one batch: growing pauses after transient errors, for :data:`RETRY_SECONDS`."""
    return Tries(pauses=RETRY_PAUSES, seconds=RETRY_SECONDS)


def _retrying(exc: BaseException, rows: int, pause: float) -> None:
    logger.warning("Audit write of %d row(s) met %s (%s); trying again in %.2f s",
                   rows, type(exc).__name__, str(exc).strip().split("\n", 1)[0], pause)


_COLUMNS = [f for f in ToolCall._meta.concrete_fields if not f.primary_key]
_statements: dict[tuple[str, int], str] = {}


def insert_statement(connection, rows: list[dict]) -> tuple[str, list]:
    """``(sql, params)``: one ``INSERT INTO <ToolCall table> (<columns>) VALUES (%s, …), …`` of
    ``rows`` (ToolCall field dicts) for ``connection`` (a Django connection, used for quoting and
    value conversion only).

    One statement in autocommit is one round trip and atomic by itself; ``bulk_create`` would add a
    transaction (``BEGIN`` and ``COMMIT``: two more round trips on PostgreSQL). Each value is still
    converted by its model field (``get_db_prep_save``), as the ORM does. ``at`` keeps the time the
    call was recorded, not the time of the insert.
    """
    key = (connection.alias, len(rows))
    sql = _statements.get(key)
    if sql is None:
        q = connection.ops.quote_name
        values = "(" + ", ".join(["%s"] * len(_COLUMNS)) + ")"
        sql = (f"INSERT INTO {q(ToolCall._meta.db_table)} ({', '.join(q(f.column) for f in _COLUMNS)}) "
               f"VALUES {', '.join([values] * len(rows))}")
        if len(rows) <= 16:  # the sizes group commit produces most; larger ones are rare and cheap to build
            _statements[key] = sql
    params = []
    for fields in rows:  # as the ORM converts a model's values, without building a model instance per row
        params.extend(f.get_db_prep_save(fields[f.attname] if f.attname in fields else f.get_default(), connection)
                      for f in _COLUMNS)
    return sql, params


def _log_lost(fields: dict) -> None:
    metrics.audit_row_lost()
    logger.exception("Could not write the audit row for tool %s (client_id=%s user_id=%s at=%s)",
                     fields.get("tool"), fields.get("client_id"), fields.get("user_id"), fields.get("at"))


def _all_lost(rows: list[dict], exc: BaseException) -> bool:
    """After a batch's insert failed for good with ``exc``: when trying its rows one by one cannot
    help (a single row, or a database still unreachable), log every row as lost and return True."""
    if len(rows) > 1 and not is_transient(exc):
        return False
    for fields in rows:
        _log_lost(fields)
    return True


# --- From a worker thread, on Django's connection (every backend) ------------------------------

def _insert(rows: list[dict], tries: Tries) -> None:
    """Insert the rows, trying again after transient errors as ``tries`` allows; raises the last error."""
    while True:
        try:
            connection = connections[router.db_for_write(ToolCall)]
            with connection.cursor() as cursor:
                cursor.execute(*insert_statement(connection, rows))
            return
        except DatabaseError as exc:
            close_old_connections()  # drops a connection that errored and cannot be used: the next try reconnects
            pause = tries.pause_after(exc)  # re-raises exc when there is no next try
            _retrying(exc, len(rows), pause)
            time.sleep(pause)


_tidied = 0.0


def _tidy_connection() -> None:
    """Django's ``close_old_connections`` (``CONN_MAX_AGE``, and with ``CONN_HEALTH_CHECKS`` a
    ``SELECT 1`` on next use) at most every :data:`TIDY_SECONDS`, not before every batch: a
    connection that died meanwhile shows as a transient error on the insert, which is retried."""
    global _tidied
    now = time.monotonic()
    if now - _tidied >= TIDY_SECONDS:
        _tidied = now
        close_old_connections()


def _write_many(rows: list[dict]) -> None:
    """Insert ``rows`` (ToolCall field dicts) in one statement.

    A transient error (:func:`is_transient`) is retried for up to :data:`RETRY_SECONDS`. If the
    batch still fails for another reason, each row is tried alone so one bad row loses only itself;
    every row that could not be written is logged as lost (with its tool, client and time).
    """
    _tidy_connection()
    tries = _tries()
    try:
        _insert(rows, tries)
        return
    except DatabaseError as exc:
        if _all_lost(rows, exc):
            return
    for fields in rows:
        try:
            _insert([fields], tries)
        except DatabaseError:
            _log_lost(fields)


class _Writer:
    """The process's audit writer thread: it takes every row queued since its last insert and
    writes them in one statement, then wakes the waiting calls on their own loops."""

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


# --- From the event loop, on a connection of its own (PostgreSQL) ------------------------------

class _LoopWriter:
    """PostgreSQL: the audit rows of one event loop, inserted from that loop on a psycopg
    ``AsyncConnection`` of its own (:class:`.connection.LoopConnection`), with the same group commit,
    retries and loss logging as the writer thread, without its two thread hand-offs per call."""

    def __init__(self, django_connection) -> None:
        self._connection = django_connection  # for quoting and value conversion; never queried from here
        self.connection = LoopConnection(psycopg_params(django_connection))
        self._pending: list[tuple[dict, asyncio.Future]] = []
        self._flushing: asyncio.Task | None = None

    def submit(self, fields: dict) -> asyncio.Future:
        """Queue one row; the future resolves once it is committed or its loss logged."""
        done = asyncio.get_running_loop().create_future()
        self._pending.append((fields, done))
        if self._flushing is None:
            self._flushing = asyncio.ensure_future(self._flush())
        return done

    async def _flush(self) -> None:
        try:
            while self._pending:  # rows that queued while an insert was on the wire go together in the next
                batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
                try:
                    await self._write_many([fields for fields, _ in batch])
                except Exception:  # never leave a caller waiting; _write_many already logged DB errors
                    logger.exception("Audit writer failed")
                for _, done in batch:
                    _release(done)
        finally:
            self._flushing = None

    async def _write_many(self, rows: list[dict]) -> None:
        """:func:`_write_many`, from the loop."""
        import psycopg

        tries = _tries()
        try:
            await self._insert(rows, tries)
            return
        except psycopg.Error as exc:
            if _all_lost(rows, exc):
                return
        for fields in rows:
            try:
                await self._insert([fields], tries)
            except psycopg.Error:
                _log_lost(fields)

    async def _insert(self, rows: list[dict], tries: Tries) -> None:
        async def insert(cursor) -> None:
            await cursor.execute(*insert_statement(self._connection, rows))

        await self.connection.run(insert, tries, on_retry=lambda exc, pause: _retrying(exc, len(rows), pause))


_loop_writers: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _loop_writer(loop: asyncio.AbstractEventLoop) -> _LoopWriter | None:
    """This loop's writer on PostgreSQL; None on other backends (the writer thread serves them)."""
    try:
        return _loop_writers[loop]
    except KeyError:
        connection = connections[router.db_for_write(ToolCall)]
        writer = _loop_writers[loop] = _LoopWriter(connection) if connection.vendor == "postgresql" else None
        return writer


def submit(fields: dict) -> asyncio.Future:
    """Queue one audit row (``ToolCall`` field values by attribute name) from the running event
    loop; the future resolves (to None) once the row is committed or its loss logged. The write
    goes on even if nobody awaits the future."""
    loop = asyncio.get_running_loop()
    writer = _loop_writer(loop)
    if writer is not None:
        return writer.submit(fields)
    done = loop.create_future()
    _writer.submit(fields, loop, done)
    return done
