"""One registry, one permission check, one audit path on all three transports.

The same identity — a service client — connects over Streamable HTTP (``/mcp``, client
credentials token), legacy HTTP+SSE (``/sse`` + ``/messages/``, the same token) and stdio
(``manage.py mcp_stdio --client NAME`` as a real subprocess), each through the official SDK
client, and must see the same ``tools/list``, get the same ``search_code`` result and be refused
the same way for a tool beyond its permissions.
"""

from __future__ import annotations

import json
import sys
from contextlib import asynccontextmanager

import httpx2
import pytest
from mcp.client import Client
from mcp.client.sse import sse_client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

from tests.support.sdk_auth import client_credentials_token, create_service_client
from tests.support.live_server import ROOT

pytestmark = [pytest.mark.e2e, pytest.mark.anyio]

TRANSPORTS = ("streamable_http", "sse", "stdio")
QUERY = {"query": "compute the date of Easter Sunday for a given year", "max_results": 5}
#: The permission middleware's refusal (mcp_gateway.server.refused_result), the same on SSE and stdio.
REFUSAL_TEXT = ("insufficient_scope: calling search_code needs the 'code:read' scope. "
                "An operator sets which scopes this service client may use.")


@pytest.fixture
def anyio_backend():
    return "asyncio"


class Identity:
    """One service client, reachable over every transport."""

    def __init__(self, server, name: str, token: str):
        self.server, self.name, self.token = server, name, token
        self.http_responses: list[httpx2.Response] = []

    @asynccontextmanager
    async def client(self, transport: str):
        """A connected SDK ``Client`` for this identity over ``transport``."""
        headers = {"Authorization": f"Bearer {self.token}"}
        if transport == "streamable_http":
            async def remember(response):
                self.http_responses.append(response)

            async with httpx2.AsyncClient(headers=headers, timeout=60, event_hooks={"response": [remember]}) as http:
                async with Client(streamable_http_client(self.server.mcp_url, http_client=http), mode="legacy") as client:
                    yield client
            return
        if transport == "sse":
            server = sse_client(f"{self.server.base_url}/sse", headers=headers)
        else:
            server = StdioServerParameters(command=sys.executable, args=["manage.py", "mcp_stdio", "--client", self.name],
                                           cwd=str(ROOT), env=self.server.env)
        async with Client(server, mode="legacy") as client:
            yield client


@pytest.fixture(scope="module")
def reader(live_server_e2e):
    """A service client allowed ``code:read``."""
    import anyio

    client_id, secret = create_service_client(live_server_e2e, "parity-reader", "code:read")
    token = anyio.run(client_credentials_token, live_server_e2e, client_id, secret)
    return Identity(live_server_e2e, "parity-reader", token)


_MINT = """
import datetime, time, uuid, jwt
from django.conf import settings
from django.utils import timezone
from oauth2_provider.models import get_access_token_model
from oauth_app.keys import active_key
from oauth_app.models import Application
app = Application.objects.get(client_id="{client_id}")
key = active_key()
now = int(time.time())
claims = dict(iss=settings.MCPRAG_ISSUER, sub=app.client_id, aud=settings.MCPRAG_MCP_URL, client_id=app.client_id,
              scope=app.allowed_scopes, iat=now, exp=now + 600, jti=uuid.uuid4().hex)
token = jwt.encode(claims, key.private_pem, algorithm="RS256", headers=dict(kid=key.kid, typ="at+jwt"))
get_access_token_model().objects.create(user=None, application=app, token=token, scope=app.allowed_scopes,
    expires=timezone.now() + datetime.timedelta(minutes=10), resource=[settings.MCPRAG_MCP_URL])
print(token)
"""


@pytest.fixture(scope="module")
def writer(live_server_e2e):
    """A service client allowed ``code:write`` only: ``search_code`` (``code:read``) is beyond it.

    Its token carries exactly its allowed scopes, as the server's client-credentials grant would
    issue it. It is minted in the server's database because the SDK's client-credentials provider
    always asks for the scope of the server's 401 challenge (``code:read``), which the
    authorization server refuses (``invalid_scope``) to a client not allowed it.
    """
    client_id, _ = create_service_client(live_server_e2e, "parity-writer", "code:write")
    token = live_server_e2e.manage("shell", "-c", _MINT.format(client_id=client_id)).stdout.strip().splitlines()[-1]
    identity = Identity(live_server_e2e, "parity-writer", token)
    identity.client_id = client_id
    return identity


def _tool_view(tool) -> dict:
    return tool.model_dump(mode="json", by_alias=True, exclude_none=True)


async def test_tools_list_is_identical_on_every_transport(reader):
    listings = {}
    for transport in TRANSPORTS:
        async with reader.client(transport) as client:
            listings[transport] = [_tool_view(t) for t in (await client.list_tools()).tools]
    names = [t["name"] for t in listings["streamable_http"]]
    assert {"search_code", "index_status", "health_check"} <= set(names)
    assert all(t.get("description") and t.get("inputSchema") and t.get("outputSchema") for t in listings["stdio"])
    assert listings["sse"] == listings["streamable_http"]
    assert listings["stdio"] == listings["streamable_http"]


async def test_search_code_gives_the_same_result_on_every_transport(reader):
    results = {}
    for transport in TRANSPORTS:
        async with reader.client(transport) as client:
            result = await client.call_tool("search_code", QUERY)
        assert not result.is_error, (transport, result.content)
        results[transport] = (result.structured_content, [block.text for block in result.content])
    assert results["streamable_http"][0]["hits"][0]["path"] == "easter.py"
    assert results["sse"] == results["streamable_http"]
    assert results["stdio"] == results["streamable_http"]


_AUDIT = """
import json
from mcp_gateway.models import ToolCall
rows = ToolCall.objects.filter(client_id="{client_id}", tool="search_code").order_by("id")
print(json.dumps([[r.transport, r.outcome, r.error_class] for r in rows]))
"""


async def test_a_tool_beyond_the_permissions_is_refused_on_every_transport(writer):
    refusals = {}
    listings = {}
    for transport in TRANSPORTS:
        async with writer.client(transport) as client:
            listings[transport] = [t.name for t in (await client.list_tools()).tools]
            try:
                refusals[transport] = await client.call_tool("search_code", QUERY)
            except MCPError as exc:
                refusals[transport] = exc
    # tools/list hides what the caller may not call, identically everywhere.
    assert listings["streamable_http"] == listings["sse"] == listings["stdio"]
    assert "search_code" not in listings["stdio"]
    # A service client can never step up (an operator sets its scopes), so no transport sends it
    # into a futile HTTP 403 step-up: every one answers the permission middleware's isError
    # result, word for word the same, saying who can change it.
    assert not [r for r in writer.http_responses if r.status_code == 403]
    for transport in TRANSPORTS:
        result = refusals[transport]
        assert not isinstance(result, MCPError), transport
        assert result.is_error and result.structured_content is None, transport
        assert [block.text for block in result.content] == [REFUSAL_TEXT], transport
    # One audit path: every refusal wrote one row naming its transport.
    out = writer.server.manage("shell", "-c", _AUDIT.format(client_id=writer.client_id)).stdout
    rows = json.loads(out.strip().splitlines()[-1])
    assert sorted(rows) == sorted([[t, "refused", "insufficient_scope"] for t in TRANSPORTS])


async def test_stdio_writes_nothing_but_json_rpc_to_stdout(reader, tmp_path):
    """stdout is teed to a file while the SDK client searches (which logs an audit line)."""
    copy = tmp_path / "stdout.jsonl"
    command = f'"{sys.executable}" manage.py mcp_stdio --client {reader.name} | tee "{copy}"'
    params = StdioServerParameters(command="/bin/sh", args=["-c", command], cwd=str(ROOT), env=reader.server.env)
    async with Client(params, mode="legacy") as client:
        result = await client.call_tool("search_code", QUERY)
    assert not result.is_error
    lines = copy.read_text().splitlines()
    assert len(lines) >= 3  # initialize, tools/call (and any list) responses
    for line in lines:
        assert json.loads(line)["jsonrpc"] == "2.0", line


_DISABLE = """
from django.utils import timezone
from oauth_app.models import Application
Application.objects.filter(name="{name}").update(disabled_at=timezone.now())
"""


@pytest.mark.parametrize("case", ["unknown", "disabled"])
def test_stdio_refuses_an_unknown_or_disabled_client_with_one_line(live_server_e2e, case):
    name = "parity-no-such-client"
    if case == "disabled":
        name = "parity-disabled"
        create_service_client(live_server_e2e, name, "code:read")
        live_server_e2e.manage("shell", "-c", _DISABLE.format(name=name))
    completed = live_server_e2e.manage("mcp_stdio", "--client", name, check=False)
    assert completed.returncode != 0
    assert completed.stdout == ""
    lines = [line for line in completed.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, completed.stderr
    assert name in lines[0] and (("disabled" in lines[0]) if case == "disabled" else ("No service client" in lines[0]))
