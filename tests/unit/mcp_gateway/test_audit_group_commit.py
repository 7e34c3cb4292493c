"""The audit writer's group commit: concurrent tool calls share inserts, yet each call returns only
after its own row is committed, and a failing database never leaves a call waiting. Transient
database errors (a locked SQLite database, a PostgreSQL connection cut) are retried, within bounds."""

from __future__ import annotations

import asyncio
import time

import pytest
from django.db import connection

from mcp_gateway import audit
from mcp_gateway.db import audit_writer
from mcp_gateway.auth.identity import Caller
from mcp_gateway.models import ToolCall

pytestmark = pytest.mark.django_db(transaction=True)

CALLER = Caller(user_id=None, username="reader", client_id="agent-1", scopes=frozenset({"code:read"}), tier="public")


def _record(n: int):
    """The audit row of call ``n``, told from the others by its ``result_bytes``."""
    return audit.record_tool_call(caller=CALLER, tool="health_check", transport="test", arguments={"n": n}, outcome="ok",
                                  duration_ms=float(n), result_bytes=n)


def test_concurrent_calls_each_get_exactly_one_row_committed_before_they_return(monkeypatch):
    inserts: list[int] = []  # rows per insert that succeeded (an insert retried after "table is locked" counts once)
    thread_insert, loop_insert = audit_writer._insert, audit_writer._LoopWriter._insert

    def counting(rows, tries):  # the writer thread's (SQLite)
        thread_insert(rows, tries)
        inserts.append(len(rows))

    async def loop_counting(self, rows, tries):  # from the event loop (PostgreSQL)
        await loop_insert(self, rows, tries)
        inserts.append(len(rows))

    monkeypatch.setattr(audit_writer, "_insert", counting)
    monkeypatch.setattr(audit_writer._LoopWriter, "_insert", loop_counting)

    async def one(n):
        await _record(n)
        # Committed by the time the call returns (read from another thread's connection).
        from asgiref.sync import sync_to_async

        return await sync_to_async(ToolCall.objects.filter(result_bytes=n).count, thread_sensitive=False)()

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
    assert ToolCall.objects.filter(result_bytes=7).count() == 1


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


def test_a_transient_error_is_retried_and_the_row_kept(caplog, inserts_fail_transiently):
    async def main():
        with inserts_fail_transiently():
            task = asyncio.create_task(_record(11))
            await asyncio.sleep(0.4)  # the writer meets the error, perhaps several times
            assert not task.done()  # the call waits for its row
        await asyncio.wait_for(task, timeout=10)

    asyncio.run(main())
    assert ToolCall.objects.filter(result_bytes=11).count() == 1
    assert "trying again" in caplog.text
    assert "Could not write the audit row" not in caplog.text


def test_retries_are_bounded_then_the_loss_is_logged_and_the_call_released(monkeypatch, caplog, inserts_fail_transiently):
    monkeypatch.setattr(audit_writer, "RETRY_SECONDS", 0.5)

    async def main():
        with inserts_fail_transiently():
            started = time.monotonic()
            await asyncio.wait_for(asyncio.gather(*(_record(n) for n in (21, 22))), timeout=10)
            return time.monotonic() - started

    waited = asyncio.run(main())
    assert waited < 3
    assert ToolCall.objects.filter(result_bytes__in=[21, 22]).count() == 0
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
        asyncio.run(audit_writer._LoopWriter(connection)._write_many(rows))
    else:
        audit_writer._write_many(rows)
    stored = list(ToolCall.objects.order_by("at").values(*rows[0]))
    assert stored == rows
