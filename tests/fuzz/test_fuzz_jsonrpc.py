"""Fuzzing /mcp on the real server with hypothesis: malformed JSON-RPC, huge and deeply nested
payloads, batches and invalid UTF-8 never produce a response ≥ 500."""

from __future__ import annotations

import json

import httpx2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.sdk_auth import authorization_code_token

pytestmark = pytest.mark.e2e
FUZZ = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@pytest.fixture(scope="module")
def mcp(live_server_e2e):
    token = authorization_code_token(live_server_e2e)
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json, text/event-stream",
               "Content-Type": "application/json"}
    with httpx2.Client(base_url=live_server_e2e.base_url, headers=headers, timeout=30) as client:
        yield client


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=40)),
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(st.text(max_size=12), children, max_size=4)),
    max_leaves=25,
)
methods = st.one_of(st.sampled_from(["initialize", "tools/list", "tools/call", "ping", "resources/read", "server/discover",
                                     "notifications/initialized", "prompts/get"]), st.text(max_size=30))
messages = st.fixed_dictionaries(
    {}, optional={"jsonrpc": st.one_of(st.just("2.0"), json_values), "id": json_values, "method": methods, "params": json_values},
)
versions = st.one_of(st.none(), st.sampled_from(["2025-11-25", "2026-07-28", "2025-06-18", "garbage", ""]))


@FUZZ
@given(message=st.one_of(messages, json_values, st.lists(messages, max_size=3)), version=versions)
def test_arbitrary_json_rpc_never_fails_with_a_server_error(mcp, message, version):
    headers = {"MCP-Protocol-Version": version} if version is not None else {}
    response = mcp.post("/mcp", content=json.dumps(message), headers=headers)
    assert response.status_code < 500, response.text[:500]


@FUZZ
@given(body=st.binary(max_size=3000))
def test_arbitrary_bytes_never_fail(mcp, body):
    assert mcp.post("/mcp", content=body).status_code < 500


@pytest.mark.parametrize("body", [
    b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":' + b'{"a":[' * 20000 + b"1" + b"]}" * 20000 + b"}",
    b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"search_code","arguments":{"query":"' + b"\xff\xfe" * 1000 + b'"}}}',
    b"[" * 200_000,
])
def test_nested_invalid_utf8_and_unbalanced_payloads(mcp, body):
    assert mcp.post("/mcp", content=body).status_code < 500
