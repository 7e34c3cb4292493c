"""A person revokes an agent on /account/agents/ in a real browser; the agent — the official MCP
SDK client with its OAuth provider, as in test_mcp_client_flow.py — gets 401 on its next
``tools/call`` and cannot get back in without the person consenting again."""

from __future__ import annotations

import asyncio
import json

import httpx2
import pytest
from mcp.client import Client
from mcp.client.auth import OAuthClientProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import OAuthClientMetadata
from pydantic import AnyUrl

from tests.support.browser import browser_page, screenshot
from tests.support.headless import HeadlessPerson
from tests.support.people import create_person, sign_in
from tests.support.sdk_auth import MemoryStorage

pytestmark = pytest.mark.e2e
AGENT_NAME = "Remy's coding agent"


class Person(HeadlessPerson):
    """Consents while ``willing``; afterwards any new authorization request fails loudly."""

    willing = True

    async def redirect_handler(self, authorize_url: str) -> None:
        if not self.willing:
            raise PermissionError("the person did not authorize the agent again")
        await super().redirect_handler(authorize_url)


def _provider(server, person, storage):
    return OAuthClientProvider(
        server_url=server.mcp_url,
        client_metadata=OAuthClientMetadata(
            client_name=AGENT_NAME, redirect_uris=[AnyUrl("http://127.0.0.1:9/callback")],
            grant_types=["authorization_code", "refresh_token"], response_types=["code"], token_endpoint_auth_method="none",
        ),
        storage=storage, redirect_handler=person.redirect_handler, callback_handler=person.callback_handler,
    )


def _revoke_in_browser(server, username: str, password: str) -> None:
    with browser_page() as page:
        sign_in(page, server, username, password, "/account/agents/")
        card = page.locator("#connected-agents li", has_text=AGENT_NAME)
        assert card.count() == 1
        text = card.inner_text()
        assert "Search and read the code of repositories you can see" in text and "last used" in text
        screenshot(page, "connected_agents_list")
        card.locator("text=Revoke").click()
        page.wait_for_selector("#revoke-form")
        assert f"Revoke {AGENT_NAME}?" in page.inner_text("h1")
        screenshot(page, "connected_agents_confirm")
        page.click("#revoke-form button[type=submit]")
        page.wait_for_url(f"{server.base_url}/account/agents/")
        assert "can no longer use mcprag on your behalf" in page.inner_text(".messages")
        assert page.locator("#connected-agents li", has_text=AGENT_NAME).count() == 0
        screenshot(page, "connected_agents_revoked")


def _rpc_method(request) -> str:
    try:
        return json.loads(request.content or b"{}").get("method", "")
    except (ValueError, AttributeError):
        return ""


def test_revoking_on_the_connected_agents_page_makes_the_agents_next_call_get_401(live_server_e2e):
    server = live_server_e2e
    password = create_person(server, "remy", "public")
    person, storage = Person(server.base_url, "remy", password), MemoryStorage()
    seen: list[tuple[str, str, int, str]] = []

    async def record(response):
        seen.append((response.request.method, response.request.url.path, response.status_code, _rpc_method(response.request)))

    async def scenario():
        """Returns how the agent's call after the revocation ended (an exception, or None)."""
        async with httpx2.AsyncClient(auth=_provider(server, person, storage), timeout=30,
                                      event_hooks={"response": [record]}) as http:
            try:
                async with Client(streamable_http_client(server.mcp_url, http_client=http)) as client:
                    first = await client.call_tool("search_code", {"query": "easter", "max_results": 1})
                    assert not first.is_error and first.structured_content["hits"]
                    await asyncio.to_thread(_revoke_in_browser, server, "remy", password)
                    person.willing = False
                    seen.clear()
                    # The same session's next request is this tools/call.
                    await asyncio.wait_for(client.call_tool("search_code", {"query": "easter", "max_results": 1}), 20)
            except BaseException as exc:  # the SDK reports the failed re-authorization from its task group
                return exc
        return None

    outcome = asyncio.run(scenario())
    assert outcome is not None, "the agent's call after the revocation succeeded"
    # The agent's next tools/call got 401; getting back in needs the person, who did not consent again.
    assert seen[0] == ("POST", "/mcp", 401, "tools/call"), seen
    assert isinstance(outcome, PermissionError) or "did not authorize" in repr(outcome)
    # Its refresh token was revoked with it.
    refresh = httpx2.post(f"{server.base_url}/token/", data={
        "grant_type": "refresh_token", "refresh_token": storage.tokens.refresh_token, "client_id": storage.client_info.client_id})
    assert refresh.status_code == 400 and refresh.json()["error"] == "invalid_grant"
    # The stored access token is dead for any caller, with the RFC 6750 error.
    raw = httpx2.post(server.mcp_url, headers={"Authorization": f"Bearer {storage.tokens.access_token}",
                                                "Accept": "application/json, text/event-stream"},
                      json={"jsonrpc": "2.0", "id": 9, "method": "tools/call",
                            "params": {"name": "search_code", "arguments": {"query": "easter"}}})
    assert raw.status_code == 401 and json.loads(raw.text)["error"] == "invalid_token"
