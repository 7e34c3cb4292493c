"""On /mcp a ``tools/call`` beyond the caller's scopes gets the step-up challenge: HTTP 403
``insufficient_scope`` naming the scopes to ask for (MCP authorization "Scope Challenge Handling";
RFC 6750 §3.1), whether the SDK would have answered with one JSON body or an SSE stream (a call
asking for progress). The decision is the permission middleware's, so the call is audited once,
as refused; an allowed call on a stream is answered as before.

Driven through the real ASGI app (HTTP guard, bearer check, SDK transport, permission middleware)
with real issued tokens.
"""

from __future__ import annotations

import json

import pytest

from mcp_gateway.models import ToolCall
from tests.support.asgi_mcp import answer

pytestmark = pytest.mark.django_db(transaction=True)

FEEDBACK = {"name": "submit_feedback", "arguments": {"query": "q", "repository": "r", "path": "p", "rating": 5}}


def _call(params: dict, progress: bool) -> dict:
    if progress:
        params = {**params, "_meta": {"progressToken": "p1"}}
    return {"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": params}


def _rows():
    return list(ToolCall.objects.values_list("tool", "transport", "outcome", "error_class"))


@pytest.mark.parametrize("progress", [False, True], ids=["json", "stream"])
def test_a_call_beyond_the_scopes_gets_403_insufficient_scope_and_one_refused_row(issue_token, progress):
    response = answer(issue_token("code:read"), _call(FEEDBACK, progress), timeout=30)
    assert response.status == 403
    challenge = response.headers["www-authenticate"]
    assert 'error="insufficient_scope"' in challenge and 'scope="code:read code:write"' in challenge
    assert "resource_metadata=" in challenge
    assert json.loads(response.body)["error"] == "insufficient_scope"
    assert _rows() == [("submit_feedback", "streamable_http", "refused", "insufficient_scope")]


@pytest.mark.parametrize("progress", [False, True], ids=["json", "stream"])
def test_an_allowed_call_is_answered_and_audited_as_before(issue_token, progress):
    response = answer(issue_token("code:read"), _call({"name": "index_status", "arguments": {}}, progress), timeout=30)
    assert response.status == 200
    assert response.result()["result"]["isError"] is False
    assert _rows() == [("index_status", "streamable_http", "ok", "")]


def test_a_scope_the_tier_never_allows_gets_no_futile_step_up_but_a_plain_reason(issue_token):
    """A developer calling an index:admin tool: signing in again cannot help, so no 403 challenge;
    the tool error says the tier does not allow it."""
    response = answer(issue_token("code:read code:write"), _call({"name": "cache_stats", "arguments": {}}, False), timeout=30)
    assert response.status == 200
    result = response.result()["result"]
    assert result["isError"] is True
    assert result["content"][0]["text"] == ("insufficient_scope: calling cache_stats needs the 'index:admin' scope. "
                                            "Your tier (developer) does not allow it; ask an operator for a tier that does.")
    assert _rows() == [("cache_stats", "streamable_http", "refused", "insufficient_scope")]


def test_an_admin_without_a_second_factor_is_told_so_in_the_challenge(issue_token, person):
    from oauth_app.services import set_tier

    set_tier(person, "admin")
    response = answer(issue_token("code:read code:write"), _call({"name": "cache_stats", "arguments": {}}, False), timeout=30)
    assert response.status == 403
    challenge = response.headers["www-authenticate"]
    assert 'error_description="Calling cache_stats needs the index:admin scope. Your tier (admin) allows it only in a sign-in verified with a second factor (TOTP)."' in challenge
