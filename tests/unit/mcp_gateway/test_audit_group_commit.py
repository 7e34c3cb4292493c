"""The audit writer's group commit: concurrent tool calls share inserts, yet each call returns only
after its own row is committed, and a failing database never leaves a call waiting."""

from __future__ import annotations

import asyncio

import pytest
from django.db import connection

from mcp_gateway import audit
from mcp_gateway.auth.identity import Caller
from mcp_gateway.models import ToolCall

pytestmark = pytest.mark.django_db(transaction=True)

CALLER = Caller(user_id=None, username="reader", client_id="agent-1", scopes=frozenset({"code:read"}), tier="public")


def _record(n: int):
    return audit.record_tool_call(caller=CALLER, tool=f"tool-{n}", transport="test", arguments={"n": n}, outcome="ok",
                                  duration_ms=float(n), result_bytes=n)


@pytest.mark.skipif(connection.vendor == "sqlite", reason=(
    "the SQLite test database is in memory with a shared cache: a read that meets the writer's insert "
    "fails at once with 'table is locked' instead of waiting as on a file, so concurrent read-backs race "
    "the writer; CI runs this on PostgreSQL"))
def test_concurrent_calls_each_get_exactly_one_row_committed_before_they_return(monkeypatch):
    inserts: list[int] = []
    real = audit._write_many

    def counting(rows):
        inserts.append(len(rows))
        return real(rows)

    monkeypatch.setattr(audit, "_write_many", counting)

    async def one(n):
        await _record(n)
        # Committed by the time the call returns (read from another thread's connection).
        from asgiref.sync import sync_to_async

        return await sync_to_async(ToolCall.objects.filter(tool=f"tool-{n}").count, thread_sensitive=False)()

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
    assert "Could not write the audit row" in caplog.text
