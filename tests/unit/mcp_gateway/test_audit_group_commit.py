"""The audit writer's group commit: concurrent tool calls share inserts, yet each call returns only
after its own row is committed, and a failing database never leaves a call waiting. Transient
database errors (a locked SQLite database, a PostgreSQL connection cut) are retried, within bounds."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
import time

import psycopg
import pytest
from django.db import OperationalError, connection

from mcp_gateway import audit
from mcp_gateway.auth.identity import Caller
from mcp_gateway.models import ToolCall

pytestmark = pytest.mark.django_db(transaction=True)

CALLER = Caller(user_id=None, username="reader", client_id="agent-1", scopes=frozenset({"code:read"}), tier="public")


def _record(n: int):
    return audit.record_tool_call(caller=CALLER, tool=f"tool-{n}", transport="test", arguments={"n": n}, outcome="ok",
                                  duration_ms=float(n), result_bytes=n)


def _count(tool: str) -> int:
    """Rows of ``tool``. The SQLite test database is in memory with a shared cache, where a read
    that meets the writer's insert fails at once ("table is locked") instead of waiting as it
    would on a file; such a read is tried again (the writer retries its side by itself)."""
    for _ in range(50):
        try:
            return ToolCall.objects.filter(tool=tool).count()
        except OperationalError as exc:
            if "locked" not in str(exc):
                raise
            time.sleep(0.01)
    return ToolCall.objects.filter(tool=tool).count()


def test_concurrent_calls_each_get_exactly_one_row_committed_before_they_return(monkeypatch):
    inserts: list[int] = []
    real = audit.insert_statement

    def counting(connection, rows):  # every insert, from the writer thread or from the loop (PostgreSQL)
        inserts.append(len(rows))
        return real(connection, rows)

    monkeypatch.setattr(audit, "insert_statement", counting)

    async def one(n):
        await _record(n)
        # Committed by the time the call returns (read from another thread's connection).
        from asgiref.sync import sync_to_async

        return await sync_to_async(_count, thread_sensitive=False)(f"tool-{n}")

    async def main():
        return await asyncio.gather(*(one(n) for n in range(60)))

    assert asyncio.run(main()) == [1] * 60
    assert sorted(ToolCall.objects.values_list("result_bytes", flat=True)) == list(range(60))
    assert sum(inserts) == 60
    assert len(inserts) < 60  # rows that queued behind an insert in flight went together


def test_a_cancelled_call_still_gets_its_row():
    async def main():
        task = asyncio.create_task(_record(7))
        await asyncio.sleep(0)  # queued
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await asyncio.sleep(0.5)  # the writer finishes on its own

    asyncio.run(main())
    assert ToolCall.objects.filter(tool="tool-7").count() == 1


def test_a_failing_database_logs_the_loss_and_releases_every_caller(caplog):
    table = ToolCall._meta.db_table
    with connection.cursor() as cursor:  # a real failure: the table is gone while the calls run
        cursor.execute(f'ALTER TABLE "{table}" RENAME TO "{table}_away"')
    try:
        async def main():
            await asyncio.wait_for(asyncio.gather(*(_record(n) for n in range(5))), timeout=10)

        asyncio.run(main())
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'ALTER TABLE "{table}_away" RENAME TO "{table}"')
    assert ToolCall.objects.count() == 0
    assert caplog.text.count("Could not write the audit row") == 5
    assert "trying again" not in caplog.text  # a missing table is not transient: no retry


@contextlib.contextmanager
def inserts_fail_transiently():
    """While inside, every insert into the audit table meets a real transient database error.

    SQLite (the shared-cache in-memory test database): a second connection holds a write
    transaction, so the writer's insert fails at once with ``SQLITE_LOCKED``. PostgreSQL: a second
    connection holds an exclusive lock on the table and a watcher terminates every backend that
    waits for it (``pg_terminate_backend``, as a restart or a cut connection would)."""
    table = ToolCall._meta.db_table
    if connection.vendor == "sqlite":
        holder = sqlite3.connect(connection.settings_dict["NAME"], uri=True, isolation_level=None,
                                 check_same_thread=False)
        holder.execute("BEGIN IMMEDIATE")
        holder.execute(f'DELETE FROM "{table}" WHERE id < 0')  # takes the table's write lock
        try:
            yield
        finally:
            holder.execute("COMMIT")
            holder.close()
        return
    params = {k: v for k, v in connection.get_connection_params().items() if k in ("dbname", "user", "password", "host", "port")}
    holder = psycopg.connect(**params)
    watcher = psycopg.connect(**params, autocommit=True)
    holder.execute(f'LOCK TABLE "{table}" IN ACCESS EXCLUSIVE MODE')
    stop = threading.Event()

    def terminate_waiters():
        while not stop.wait(0.02):
            watcher.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND query ILIKE %s", (f'INSERT INTO "{table}"%',))

    thread = threading.Thread(target=terminate_waiters, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        holder.rollback()
        holder.close()
        watcher.close()


def test_a_transient_error_is_retried_and_the_row_kept(caplog):
    async def main():
        with inserts_fail_transiently():
            task = asyncio.create_task(_record(11))
            await asyncio.sleep(0.4)  # the writer meets the error, perhaps several times
            assert not task.done()  # the call waits for its row
        await asyncio.wait_for(task, timeout=10)

    asyncio.run(main())
    assert ToolCall.objects.filter(tool="tool-11").count() == 1
    assert "trying again" in caplog.text
    assert "Could not write the audit row" not in caplog.text


def test_retries_are_bounded_then_the_loss_is_logged_and_the_call_released(monkeypatch, caplog):
    monkeypatch.setattr(audit, "RETRY_SECONDS", 0.5)

    async def main():
        with inserts_fail_transiently():
            started = time.monotonic()
            await asyncio.wait_for(asyncio.gather(*(_record(n) for n in (21, 22))), timeout=10)
            return time.monotonic() - started

    waited = asyncio.run(main())
    assert waited < 3
    assert ToolCall.objects.filter(tool__in=["tool-21", "tool-22"]).count() == 0
    assert "trying again" in caplog.text
    assert caplog.text.count("Could not write the audit row") == 2


def test_rows_keep_the_time_the_call_was_recorded_and_their_fields():
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    person = get_user_model().objects.create_user("auditee")
    earlier = timezone.now() - timedelta(minutes=5)
    rows = [dict(at=earlier + timedelta(seconds=n), user_id=person.pk if n else None, username="auditee", client_id=f"c{n}",
                 tool=f"tool-{n}", transport="test", arguments_sha256="ab" * 32, arguments_bytes=n, outcome="error",
                 error_class="ValueError", duration_ms=n / 4, result_bytes=10 * n) for n in range(3)]
    if connection.vendor == "postgresql":  # the writer the gateway uses there: from the event loop
        asyncio.run(audit._LoopWriter(connection)._write_many(rows))
    else:
        audit._write_many(rows)
    stored = list(ToolCall.objects.order_by("at").values(*rows[0]))
    assert stored == rows
