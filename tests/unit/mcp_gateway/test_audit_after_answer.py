"""On /mcp a ``tools/call`` is answered without waiting for its audit row's commit, and the request
ends only once the row is committed; ``MCPRAG_AUDIT_BEFORE_ANSWER=true`` answers after the commit.

Driven through the real ASGI app (HTTP guard, bearer check, SDK transport, permission middleware)
with a real issued token, while the audit table cannot be written (``inserts_fail_transiently``:
a held write lock on SQLite, terminated inserts on PostgreSQL), so the order of "answer sent" and
"row committed" is observable.
"""

from __future__ import annotations

import asyncio

import pytest

from mcp_gateway.models import ToolCall
from mcp_gateway.transports.streamable_http import StreamableHTTPGateway
from tests.support.asgi_mcp import Response, post_mcp

pytestmark = pytest.mark.django_db(transaction=True)


def _rows():
    return ToolCall.objects.filter(tool="health_check").count()


async def _rows_async():
    from asgiref.sync import sync_to_async

    return await sync_to_async(_rows, thread_sensitive=False)()


def _start(token: str) -> tuple[asyncio.Task, Response]:
    """One tools/call through a fresh gateway app, running: (the ASGI call, its response)."""
    response = Response()
    scope, receive = post_mcp(token)
    return asyncio.create_task(StreamableHTTPGateway()(scope, receive, response.send)), response


def test_the_answer_does_not_wait_for_the_audit_commit_but_the_request_does(token, inserts_fail_transiently):
    async def main():
        with inserts_fail_transiently():
            request, response = _start(token)
            await asyncio.wait_for(response.complete.wait(), timeout=20)  # answered while the row cannot be written
            assert response.status == 200 and response.result()["result"]["isError"] is False
            await asyncio.sleep(0.3)
            assert not request.done()  # no insert can commit in here: the request waits for its row
        await asyncio.wait_for(request, timeout=10)
        assert await _rows_async() == 1  # committed by the time the request ended

    asyncio.run(main())


def test_with_audit_before_answer_the_answer_waits_for_the_commit(token, inserts_fail_transiently, settings):
    settings.MCPRAG_AUDIT_BEFORE_ANSWER = True

    async def main():
        with inserts_fail_transiently():
            request, response = _start(token)
            await asyncio.sleep(1.0)
            assert not response.complete.is_set()  # no answer while the row cannot be written
        await asyncio.wait_for(request, timeout=10)
        assert response.complete.is_set() and response.result()["result"]["isError"] is False
        assert await _rows_async() == 1

    asyncio.run(main())
