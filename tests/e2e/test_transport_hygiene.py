"""Transport hygiene on ``/mcp``, ``GET /sse`` and ``POST /messages/``, against the real server
(MCP 2025-11-25 "Transports": Origin and Host validation, ``MCP-Protocol-Version``, one message
per POST; plus the body cap and the bearer check). Every probe carries a valid token, so the
status code is the rule under test, not a missing credential.

The probes are raw HTTP on purpose: they send what a well-behaved SDK client never would. The
``/messages/`` probes target a real SSE session held open by the SDK's ``sse_client``.
"""

from __future__ import annotations

import json
from contextlib import asynccontextmanager

import anyio
import httpx2
import pytest
from mcp.client.sse import sse_client

from mcp_gateway.transports.http_guard import SUPPORTED_PROTOCOL_VERSIONS
from tests.support.sdk_auth import client_credentials_token, create_service_client

pytestmark = [pytest.mark.e2e, pytest.mark.anyio]

INIT = {
    "jsonrpc": "2.0", "id": 1, "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "probe", "version": "0"}},
}
PING = {"jsonrpc": "2.0", "id": 2, "method": "ping"}
JSON_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture(scope="module")
def token(live_server_e2e):
    client_id, secret = create_service_client(live_server_e2e, "hygiene-probe", "code:read")
    return anyio.run(client_credentials_token, live_server_e2e, client_id, secret)


@asynccontextmanager
async def sse_session(server, token):
    """A live SSE session opened by the SDK client; yields its ``/messages/`` URL."""
    created: list[str] = []
    async with sse_client(f"{server.base_url}/sse", headers={"Authorization": f"Bearer {token}"},
                          on_session_created=created.append):
        with anyio.fail_after(10):
            while not created:
                await anyio.sleep(0.05)
        yield f"{server.base_url}/messages/?session_id={created[0]}"


async def _post(url: str, token: str | None, body: bytes | None = None, **headers) -> httpx2.Response:
    auth = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx2.AsyncClient(timeout=30) as http:
        return await http.post(url, content=body if body is not None else json.dumps(INIT).encode(),
                               headers={**JSON_HEADERS, **auth, **headers})


async def _get_sse(server, token: str | None, **headers) -> httpx2.Response:
    """``GET /sse``: a refusal is read whole; an accepted stream is closed as soon as it opens."""
    auth = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx2.AsyncClient(timeout=30) as http:
        async with http.stream("GET", f"{server.base_url}/sse", headers={"Accept": "text/event-stream", **auth, **headers}) as response:
            if response.status_code != 200:
                await response.aread()
            return response


async def _probe(server, token, endpoint: str, **kwargs) -> httpx2.Response:
    if endpoint == "/mcp":
        return await _post(server.mcp_url, token, **kwargs)
    if endpoint == "/sse":
        kwargs.pop("body", None)
        return await _get_sse(server, token, **kwargs)
    async with sse_session(server, token) as messages_url:
        return await _post(messages_url, token, **kwargs)


ENDPOINTS = ["/mcp", "/sse", "/messages/"]
POST_ENDPOINTS = ["/mcp", "/messages/"]


@pytest.mark.parametrize("endpoint", ENDPOINTS)
async def test_a_well_formed_request_is_accepted(live_server_e2e, token, endpoint):
    """Control case for the refusals below."""
    response = await _probe(live_server_e2e, token, endpoint, body=json.dumps(PING if endpoint == "/messages/" else INIT).encode())
    assert response.status_code == {"/mcp": 200, "/sse": 200, "/messages/": 202}[endpoint]


@pytest.mark.parametrize("endpoint", ENDPOINTS)
async def test_no_token_gets_401_with_the_resource_metadata_challenge(live_server_e2e, endpoint):
    if endpoint == "/messages/":
        response = await _post(f"{live_server_e2e.base_url}/messages/?session_id=0123456789abcdef0123456789abcdef", None)
    else:
        response = await _probe(live_server_e2e, None, endpoint)
    assert response.status_code == 401
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith("Bearer ") and "resource_metadata=" in challenge and "error=" not in challenge


@pytest.mark.parametrize("endpoint", ENDPOINTS)
async def test_foreign_origin_gets_403(live_server_e2e, token, endpoint):
    response = await _probe(live_server_e2e, token, endpoint, Origin="https://evil.example")
    assert response.status_code == 403 and response.headers["content-type"].startswith("application/json")
    assert response.json()["error"]["code"] == -32600 and "'https://evil.example'" in response.json()["error"]["message"]


@pytest.mark.parametrize("endpoint", ENDPOINTS)
async def test_foreign_host_gets_421(live_server_e2e, token, endpoint):
    response = await _probe(live_server_e2e, token, endpoint, Host="evil.example")
    assert response.status_code == 421 and response.headers["content-type"].startswith("application/json")
    assert response.json()["error"]["code"] == -32600 and "'evil.example'" in response.json()["error"]["message"]


@pytest.mark.parametrize("content_type", ["text/plain", None])
async def test_a_post_not_declared_json_gets_400_with_a_jsonrpc_error(live_server_e2e, token, content_type):
    headers = {"Content-Type": content_type} if content_type else {}
    async with httpx2.AsyncClient() as client:
        response = await client.post(f"{live_server_e2e.base_url}/mcp", content=json.dumps(TOOLS_LIST).encode(), headers={
            "Authorization": f"Bearer {token}", "Accept": "application/json, text/event-stream", **headers})
    assert response.status_code == 400 and response.headers["content-type"].startswith("application/json")
    assert response.json()["error"]["code"] == -32600 and "Content-Type: application/json" in response.json()["error"]["message"]


TOOLS_LIST = {"jsonrpc": "2.0", "id": "list-7", "method": "tools/list", "params": {}}
DISCOVER = {"jsonrpc": "2.0", "id": 5, "method": "server/discover", "params": {"_meta": {
    "io.modelcontextprotocol/protocolVersion": "1999-01-01", "io.modelcontextprotocol/clientCapabilities": {}}}}


@pytest.mark.parametrize(("endpoint", "message"), [
    ("/mcp", INIT), ("/mcp", TOOLS_LIST), ("/mcp", DISCOVER), ("/sse", None), ("/messages/", PING), ("/messages/", TOOLS_LIST),
])
async def test_unsupported_protocol_version_gets_400_with_every_supported_version(live_server_e2e, token, endpoint, message):
    """Whatever the request looks like, on every transport: -32022 naming the request's id, the
    version asked for and the versions served. (Left to the SDK, /mcp routed an unknown version
    to the 2026-07-28 era, and a request without that era's envelope got an error about it.)"""
    headers = {"MCP-Protocol-Version": "1999-01-01"}
    if message is DISCOVER:
        headers["Mcp-Method"] = "server/discover"
    body = json.dumps(message).encode() if message is not None else None
    response = await _probe(live_server_e2e, token, endpoint, body=body, **headers)
    assert response.status_code == 400
    answer = response.json()
    assert answer["error"]["code"] == -32022 and answer["error"]["data"]["requested"] == "1999-01-01"
    supported = answer["error"]["data"]["supported"]
    if message is DISCOVER:  # the SDK's answer: the versions of the 2026-07-28 era, which server/discover names
        assert supported and set(supported) < set(SUPPORTED_PROTOCOL_VERSIONS)
    else:
        assert supported == list(SUPPORTED_PROTOCOL_VERSIONS)
    assert answer.get("id") == (message["id"] if message is not None else None)


@pytest.mark.parametrize("endpoint", POST_ENDPOINTS)
async def test_oversized_body_gets_413(live_server_e2e, token, endpoint):
    big = {"jsonrpc": "2.0", "id": 3, "method": "tools/call",
           "params": {"name": "search_code", "arguments": {"query": "x" * 2_000_000}}}
    response = await _probe(live_server_e2e, token, endpoint, body=json.dumps(big).encode())
    assert response.status_code == 413
    assert response.json()["error"] == "request_too_large"


@pytest.mark.parametrize("endpoint", POST_ENDPOINTS)
async def test_a_json_rpc_batch_gets_400(live_server_e2e, token, endpoint):
    response = await _probe(live_server_e2e, token, endpoint, body=json.dumps([PING, {**PING, "id": 4}]).encode())
    assert response.status_code == 400
    assert response.json()["error"]["code"] == -32600


async def test_an_sse_session_answers_only_the_principal_that_opened_it(live_server_e2e, token):
    client_id, secret = create_service_client(live_server_e2e, "hygiene-intruder", "code:read")
    intruder = await client_credentials_token(live_server_e2e, client_id, secret)
    async with sse_session(live_server_e2e, token) as messages_url:
        assert (await _post(messages_url, intruder, json.dumps(PING).encode())).status_code == 404
        assert (await _post(messages_url, token, json.dumps(PING).encode())).status_code == 202


def _call(tool: str, arguments: dict, meta: dict | None = None) -> bytes:
    params = {"name": tool, "arguments": arguments, **({"_meta": meta} if meta else {})}
    return json.dumps({"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": params}).encode()


async def test_a_plain_call_is_answered_with_one_json_body(live_server_e2e, token):
    response = await _post(live_server_e2e.mcp_url, token, _call("index_status", {}), **{"MCP-Protocol-Version": "2025-11-25"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    message = response.json()
    assert message["id"] == 7 and "repositories" in message["result"]["structuredContent"]


async def test_a_call_asking_for_progress_is_answered_on_an_sse_stream(live_server_e2e, token):
    response = await _post(live_server_e2e.mcp_url, token, _call("index_status", {}, {"progressToken": "p-1"}),
                           **{"MCP-Protocol-Version": "2025-11-25"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    data = [json.loads(line[5:]) for line in response.text.splitlines() if line.startswith("data:") and line[5:].strip()]
    assert [m["id"] for m in data if "result" in m] == [7]


@pytest.mark.parametrize("headers", [{}, {"Last-Event-ID": "1"}, {"MCP-Protocol-Version": "2025-11-25", "Last-Event-ID": "abc_0"},
                                     {"MCP-Protocol-Version": "2026-07-28"}])
async def test_get_mcp_is_answered_at_once_with_405(live_server_e2e, token, headers):
    """A stateless server has no server-to-client stream to offer or resume: ``GET /mcp`` gets
    405 with ``Allow: POST`` at once (MCP 2025-11-25 "Listening for Messages from the Server"),
    with or without ``Last-Event-ID``, in both protocol eras."""
    assert (await _post(live_server_e2e.mcp_url, token)).status_code == 200  # the transport is up
    auth = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
    async with httpx2.AsyncClient(timeout=30) as http:
        with anyio.fail_after(1.0):
            async with http.stream("GET", live_server_e2e.mcp_url, headers={**auth, **headers}) as response:
                await response.aread()
    assert response.status_code == 405 and response.headers["allow"] == "POST"
