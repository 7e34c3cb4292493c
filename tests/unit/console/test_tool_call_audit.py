"""Each tool call writes exactly one ToolCall row with the right fields — succeeded, failed, refused,
or crashed — and the row never holds the arguments themselves."""

from __future__ import annotations

import asyncio
import hashlib
import json

import pytest
from mcp.client import Client

from codeindex import services
from mcp_gateway.auth.identity import Caller
from mcp_gateway.models import ToolCall
from mcp_gateway.server import build_server

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def reader(person):
    return Caller(user_id=person.pk, username="grace", client_id="agent-7", scopes=frozenset({"code:read"}), tier="developer")


def _call(caller, name, arguments):
    async def go():
        async with Client(build_server(default_caller=caller, transport="test")) as client:
            return await client.call_tool(name, arguments)

    return asyncio.run(go())


def _digest(arguments) -> str:
    return hashlib.sha256(json.dumps(arguments, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def test_a_successful_call_writes_one_complete_row(reader, person):
    arguments = {}
    result = _call(reader, "index_status", arguments)
    assert not result.is_error
    row = ToolCall.objects.get()
    assert (row.user, row.username, row.client_id, row.tool, row.transport, row.outcome, row.error_class) == (
        person, "grace", "agent-7", "index_status", "test", "ok", "")
    assert row.arguments_sha256 == _digest(arguments) and row.arguments_bytes == 2
    assert row.duration_ms > 0 and row.result_bytes > 0


def test_a_failed_call_still_writes_one_row(reader):
    arguments = {"query": "anything", "repository": "no-such-repo"}
    assert _call(reader, "search_code", arguments).is_error
    row = ToolCall.objects.get()
    assert (row.tool, row.outcome, row.error_class) == ("search_code", "error", "ToolError")
    assert row.arguments_sha256 == _digest(arguments)
    assert "no-such-repo" not in json.dumps(list(ToolCall.objects.values()), default=str)


def test_a_crashing_tool_still_writes_one_row(reader, monkeypatch):
    def explode():
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(services, "status", explode)
    try:
        result = _call(reader, "index_status", {})
    except Exception:  # however the SDK reports it, the row must exist
        result = None
    assert result is None or result.is_error
    row = ToolCall.objects.get()
    assert (row.tool, row.outcome) == ("index_status", "error")


def test_a_refused_call_writes_one_row(person):
    nobody = Caller(user_id=person.pk, username="grace", client_id="agent-8", scopes=frozenset(), tier="public")
    assert _call(nobody, "search_code", {"query": "x"}).is_error
    row = ToolCall.objects.get()
    assert (row.client_id, row.outcome, row.error_class) == ("agent-8", "refused", "insufficient_scope")


def test_listing_tools_writes_no_row(reader):
    async def go():
        async with Client(build_server(default_caller=reader, transport="test")) as client:
            return await client.list_tools()

    assert asyncio.run(go()).tools
    assert not ToolCall.objects.exists()
