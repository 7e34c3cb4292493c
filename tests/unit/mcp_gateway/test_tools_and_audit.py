"""Tools through the real SDK client (in-process), with the permission middleware and the audit row."""

from __future__ import annotations

import asyncio
import textwrap

import pytest
from mcp.client import Client

from codeindex import services
from mcp_gateway.auth.identity import Caller
from mcp_gateway.models import ToolCall
from mcp_gateway.server import build_server

pytestmark = pytest.mark.django_db(transaction=True)

READER = Caller(user_id=None, username="reader", client_id="agent-1", scopes=frozenset({"code:read"}), tier="public")
NOBODY = Caller(user_id=None, username="nobody", client_id="agent-2", scopes=frozenset(), tier="public")


def run(caller, method, *args, transport="test"):
    """Connect the real SDK client to a freshly built server in-process and call one method."""

    async def go():
        async with Client(build_server(default_caller=caller, transport=transport)) as client:
            return await getattr(client, method)(*args)

    return asyncio.run(go())


@pytest.fixture
def indexed(tmp_path):
    (tmp_path / "billing.py").write_text(textwrap.dedent('''
        def compute_invoice_total(lines, tax_rate):
            """Sum the invoice lines and add tax."""
            subtotal = sum(line.amount for line in lines)
            return subtotal * (1 + tax_rate)


        def send_reminder_email(customer):
            return f"Dear {customer.name}, please pay."
    '''))
    services.index_repository(tmp_path, "shop")
    return tmp_path


def test_tools_list_shows_only_what_the_caller_may_call(indexed):
    names = {t.name for t in run(READER, "list_tools").tools}
    assert {"search_code", "index_status", "health_check"} <= names
    assert run(NOBODY, "list_tools").tools == []


def test_search_code_returns_structured_hits_and_writes_one_audit_row(indexed):
    result = run(READER, "call_tool", "search_code", {"query": "invoice total with tax"})
    assert not result.is_error
    assert result.structured_content["hits"][0]["symbol"] == "compute_invoice_total"
    assert "billing.py" in result.content[0].text
    row = ToolCall.objects.get()
    assert (row.tool, row.outcome, row.client_id, row.transport) == ("search_code", "ok", "agent-1", "test")
    assert len(row.arguments_sha256) == 64 and row.arguments_bytes > 0 and row.result_bytes > 0
    assert "invoice" not in row.arguments_sha256


@pytest.mark.parametrize(
    ("arguments", "reason"),
    [({"query": "x", "repository": "nope"}, "nope"), ({"query": "   "}, "query")],
)
def test_bad_input_is_a_one_line_tool_error_and_is_audited(indexed, arguments, reason):
    result = run(READER, "call_tool", "search_code", arguments)
    assert result.is_error
    text = result.content[0].text
    assert reason in text and "\n" not in text.strip() and "Traceback" not in text
    assert ToolCall.objects.get().outcome == "error"


def test_call_beyond_permissions_is_refused_and_audited(indexed):
    result = run(NOBODY, "call_tool", "search_code", {"query": "invoice"})
    assert result.is_error and "insufficient_scope" in result.content[0].text
    row = ToolCall.objects.get()
    assert row.outcome == "refused" and row.error_class == "insufficient_scope"


@pytest.mark.parametrize("name", ["delete_all_repositories_17", '=HYPERLINK("http://evil")', "x" * 300])
def test_an_unknown_tool_is_audited_under_one_placeholder_name(indexed, name):
    result = run(READER, "call_tool", name, {})
    assert result.is_error
    row = ToolCall.objects.get()
    assert (row.tool, row.outcome, row.client_id) == ("(unknown)", "error", "agent-1")


def test_unknown_tools_add_one_series_to_the_overview_and_one_tool_filter_option(indexed):
    from console import metrics, rollups
    from console.filters import ToolCallFilterForm
    from django.utils import timezone

    for n in range(5):
        run(READER, "call_tool", f"made_up_tool_{n}", {})
    run(READER, "call_tool", "index_status", {})
    rollups.refresh()
    today = timezone.localdate()
    assert sorted(metrics.overview(today, today).tools) == ["(unknown)", "index_status"]
    assert sorted(ToolCallFilterForm.tool_choices()) == ["(unknown)", "index_status"]
