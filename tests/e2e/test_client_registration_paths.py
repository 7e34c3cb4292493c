"""The SDK client completes the flow through a client ID metadata document (no DCR), in both
protocol eras, and a service client completes client credentials."""

from __future__ import annotations

import pytest
from mcp.client import Client
from mcp.client.auth import OAuthClientProvider
from mcp.client.auth.extensions.client_credentials import ClientCredentialsOAuthProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import OAuthClientMetadata
from pydantic import AnyUrl

import httpx2

from tests.support.headless import HeadlessPerson
from tests.support.sdk_auth import MemoryStorage

pytestmark = [pytest.mark.e2e, pytest.mark.anyio]

CLIENT_METADATA_URL = "https://agent.example/mcp/client-metadata.json"
REDIRECT = "http://127.0.0.1:9/cimd-callback"


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.mark.parametrize("mode", ["legacy", "2026-07-28"])
async def test_sdk_client_uses_a_client_id_metadata_document(live_server_e2e, mode):
    server = live_server_e2e
    server.publish_client_metadata(CLIENT_METADATA_URL, {
        "client_id": CLIENT_METADATA_URL, "client_name": "Metadata Document Agent", "redirect_uris": [REDIRECT],
        "grant_types": ["authorization_code", "refresh_token"], "response_types": ["code"],
        "token_endpoint_auth_method": "none",
    })
    person = HeadlessPerson(server.base_url, server.username, server.password)
    storage = MemoryStorage()
    provider = OAuthClientProvider(
        server_url=server.mcp_url,
        client_metadata=OAuthClientMetadata(client_name="Metadata Document Agent", redirect_uris=[AnyUrl(REDIRECT)],
                                            token_endpoint_auth_method="none"),
        storage=storage,
        redirect_handler=person.redirect_handler,
        callback_handler=person.callback_handler,
        client_metadata_url=CLIENT_METADATA_URL,
    )
    async with httpx2.AsyncClient(auth=provider, timeout=60) as http:
        async with Client(streamable_http_client(server.mcp_url, http_client=http), mode=mode) as client:
            result = await client.call_tool("index_status", {})
    assert storage.client_info.client_id == CLIENT_METADATA_URL  # no dynamic registration happened
    assert "Metadata Document Agent" in person.consent_html
    assert not result.is_error
    assert any(r["name"] == "dateutil" for r in result.structured_content["repositories"])


async def test_service_client_completes_client_credentials(live_server_e2e):
    server = live_server_e2e
    out = server.manage("create_service_client", "e2e-ci", "--scopes", "code:read").stdout
    values = dict(line.split(":", 1) for line in out.splitlines() if line.startswith(("client_id", "client_secret")))
    provider = ClientCredentialsOAuthProvider(
        server_url=server.mcp_url, storage=MemoryStorage(),
        client_id=values["client_id"].strip(), client_secret=values["client_secret"].strip(), issuer=server.base_url,
    )
    async with httpx2.AsyncClient(auth=provider, timeout=60) as http:
        async with Client(streamable_http_client(server.mcp_url, http_client=http), mode="legacy") as client:
            result = await client.call_tool("search_code", {"query": "relative delta between two dates", "max_results": 3})
    assert not result.is_error, result.content
    assert result.structured_content["hits"][0]["repository"] == "dateutil"
