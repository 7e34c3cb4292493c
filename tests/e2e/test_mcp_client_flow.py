"""The walking skeleton end to end: the official MCP SDK client discovers mcprag's authorization
server, registers itself (RFC 7591), sends a person through the real sign-in and consent pages,
gets a token and calls ``search_code`` on a real indexed codebase — once per protocol era."""

from __future__ import annotations

import pytest
from mcp.client import Client
from mcp.client.auth import OAuthClientProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import OAuthClientMetadata
from pydantic import AnyUrl

import httpx2

from tests.support.headless import HeadlessPerson
from tests.support.sdk_auth import MemoryStorage

pytestmark = [pytest.mark.e2e, pytest.mark.anyio]


@pytest.fixture
def anyio_backend():
    return "asyncio"


def _provider(server, person, storage):
    return OAuthClientProvider(
        server_url=server.mcp_url,
        client_metadata=OAuthClientMetadata(
            client_name="e2e agent",
            redirect_uris=[AnyUrl("http://127.0.0.1:9/callback")],
            grant_types=["authorization_code", "refresh_token"],
            response_types=["code"],
            token_endpoint_auth_method="none",
        ),
        storage=storage,
        redirect_handler=person.redirect_handler,
        callback_handler=person.callback_handler,
    )


@pytest.mark.parametrize("mode", ["legacy", "2026-07-28"])
async def test_sdk_client_signs_in_and_finds_code_in_plain_words(live_server_e2e, mode):
    server = live_server_e2e
    person = HeadlessPerson(server.base_url, server.username, server.password)
    storage = MemoryStorage()
    async with httpx2.AsyncClient(auth=_provider(server, person, storage), timeout=60) as http:
        async with Client(streamable_http_client(server.mcp_url, http_client=http), mode=mode) as client:
            tools = {t.name: t for t in (await client.list_tools()).tools}
            assert {"search_code", "index_status", "health_check"} <= set(tools)
            result = await client.call_tool(
                "search_code", {"query": "compute the date of Easter Sunday for a given year", "max_results": 5}
            )
    # The person really went through the sign-in page and the consent page.
    assert any("/login/" in page for page in person.pages)
    assert any("/authorize/" in page for page in person.pages)
    assert "e2e agent" in person.consent_html
    # The token the SDK stored is audience-bound and scoped.
    assert storage.tokens is not None and "code:read" in (storage.tokens.scope or "")
    assert not result.is_error, result.content
    hits = result.structured_content["hits"]
    assert hits, "no hits"
    assert hits[0]["repository"] == "dateutil"
    assert hits[0]["path"] == "easter.py"
    assert "easter" in result.content[0].text
