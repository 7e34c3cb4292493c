"""Tokens for tests against a live server, obtained the way real clients obtain them.

``MemoryStorage`` is the MCP SDK's token storage kept in memory; ``create_service_client`` and
``client_credentials_token`` give a service client and its bearer token (client credentials);
``authorization_code_token`` signs the server's person in through the real pages (PKCE).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import secrets
from urllib.parse import urlencode

import httpx2
from mcp.client import Client
from mcp.client.auth.extensions.client_credentials import ClientCredentialsOAuthProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import OAuthClientInformationFull, OAuthToken

from tests.support.headless import HeadlessPerson

__all__ = ["MemoryStorage", "create_service_client", "client_credentials_token", "register_public_client",
           "authorization_code_token", "service_token", "call_tool"]


class MemoryStorage:
    def __init__(self):
        self.tokens: OAuthToken | None = None
        self.client_info: OAuthClientInformationFull | None = None

    async def get_tokens(self):
        return self.tokens

    async def set_tokens(self, tokens):
        self.tokens = tokens

    async def get_client_info(self):
        return self.client_info

    async def set_client_info(self, client_info):
        self.client_info = client_info


_created: dict[tuple[str, str, str], tuple[str, str]] = {}


def create_service_client(server, name: str, scopes: str) -> tuple[str, str]:
    """``manage.py create_service_client``; returns (client_id, client_secret). The server refuses a
    second client of one name, so a fixture run for each test of a shared server gets the first's."""
    key = (server.base_url, name, scopes)
    if key not in _created:
        out = server.manage("create_service_client", name, "--scopes", scopes).stdout
        values = dict(line.split(":", 1) for line in out.splitlines() if line.startswith(("client_id", "client_secret")))
        _created[key] = values["client_id"].strip(), values["client_secret"].strip()
    return _created[key]


async def client_credentials_token(server, client_id: str, secret: str) -> str:
    """A bearer token for the service client, obtained by the SDK's client-credentials provider."""
    storage = MemoryStorage()
    provider = ClientCredentialsOAuthProvider(server_url=server.mcp_url, storage=storage, client_id=client_id,
                                              client_secret=secret, issuer=server.base_url)
    async with httpx2.AsyncClient(auth=provider, timeout=60) as http:
        async with Client(streamable_http_client(server.mcp_url, http_client=http), mode="legacy") as client:
            await client.list_tools()
    return storage.tokens.access_token


def register_public_client(base_url: str, redirect_uri: str, client_name: str = "MCP conformance suite") -> str:
    """RFC 7591 registration of a public client (no secret); returns its ``client_id``."""
    response = httpx2.post(f"{base_url}/register/", json={
        "client_name": client_name, "redirect_uris": [redirect_uri], "token_endpoint_auth_method": "none"})
    assert response.status_code == 201, response.text
    return response.json()["client_id"]


def authorization_code_token(server) -> str:
    """A ``code:read`` access token for the live server's person (``server.username``), through
    the real authorization-code flow with PKCE: registration, sign-in and consent pages, token."""
    redirect = "http://127.0.0.1:9/conformance"
    client_id = register_public_client(server.base_url, redirect)
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    url = f"{server.base_url}/authorize/?" + urlencode({
        "response_type": "code", "client_id": client_id, "redirect_uri": redirect, "state": "c",
        "code_challenge": challenge, "code_challenge_method": "S256", "scope": "code:read"})
    person = HeadlessPerson(server.base_url, server.username, server.password)
    asyncio.run(person.redirect_handler(url))
    response = httpx2.post(f"{server.base_url}/token/", data={
        "grant_type": "authorization_code", "code": person.result.code, "redirect_uri": redirect,
        "client_id": client_id, "code_verifier": verifier})
    return response.json()["access_token"]


def service_token(server, client_id: str, secret: str, scope: str) -> str:
    """A client-credentials token for ``scope``, requested at ``/token/`` directly as a CI job
    would (the SDK's provider asks only for the scope of the 401 challenge, code:read)."""
    response = httpx2.post(f"{server.base_url}/token/", auth=(client_id, secret), timeout=30,
                           data={"grant_type": "client_credentials", "scope": scope, "resource": server.mcp_url})
    response.raise_for_status()
    assert set(response.json()["scope"].split()) == set(scope.split())
    return response.json()["access_token"]


async def call_tool(server, token: str, tool: str, arguments: dict, **kwargs):
    """One ``tools/call`` through the official SDK client (handshake era) with ``token``."""
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx2.AsyncClient(headers=headers, timeout=300) as http:
        async with Client(streamable_http_client(server.mcp_url, http_client=http), mode="legacy") as client:
            return await client.call_tool(tool, arguments, **kwargs)
