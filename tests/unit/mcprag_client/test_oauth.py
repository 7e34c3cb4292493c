"""Resuming a stored login in a new process, and turning challenges into one-line errors."""

from __future__ import annotations

import time

import anyio
import httpx2
import pytest
from mcp.shared.auth import OAuthMetadata, OAuthToken, ProtectedResourceMetadata
from mcp.shared.exceptions import MCPError

from mcprag_client.config import ServerRecord, ServerRegistry
from mcprag_client.credentials import FileTokenStore, StoredTokens
from mcprag_client.errors import (
    AccountDisabled, ClientError, ExitCode, InsufficientScope, LoginNoLongerValid, NoEndpoint, ServerError, ServerUnreachable,
    find_client_error,
)
from mcprag_client.oauth import ChallengeWatcher, LoginStorage, ResumingOAuthProvider
from mcprag_client.session import _client_metadata

URL = "https://mcp.example.com/mcp"
METADATA = {
    "issuer": "https://mcp.example.com", "authorization_endpoint": "https://mcp.example.com/authorize/",
    "token_endpoint": "https://mcp.example.com/token/", "response_types_supported": ["code"],
}
PRM = {"resource": URL, "authorization_servers": ["https://mcp.example.com"]}


def _login(tmp_path, *, expires_at: float) -> tuple[LoginStorage, FileTokenStore]:
    registry = ServerRegistry(tmp_path)
    record = ServerRecord(url=URL, client_info={"client_id": "cli", "redirect_uris": ["http://127.0.0.1:9/callback"]},
                          oauth_metadata=METADATA, protected_resource_metadata=PRM, token_store="file")
    registry.save(record)
    store = FileTokenStore(tmp_path)
    store.save(URL, StoredTokens(OAuthToken(access_token="old", refresh_token="r1", expires_in=3600), expires_at))
    return LoginStorage(registry.get(URL), registry, store), store


def _provider(storage: LoginStorage) -> ResumingOAuthProvider:
    return ResumingOAuthProvider(server_url=URL, client_metadata=_client_metadata("http://127.0.0.1:9/callback"),
                                 login_storage=storage)


def test_a_new_process_sees_that_the_stored_access_token_expired_and_can_refresh_it(tmp_path):
    storage, _ = _login(tmp_path, expires_at=time.time() - 10)
    provider = _provider(storage)
    anyio.run(provider._initialize)
    assert not provider.context.is_token_valid()  # the SDK alone would think it valid forever
    assert provider.context.can_refresh_token()
    # ... and refreshes at the token endpoint the server published, with the RFC 8707 resource.
    assert str(provider.context.oauth_metadata.token_endpoint) == "https://mcp.example.com/token/"
    request = anyio.run(provider._refresh_token)
    assert str(request.url) == "https://mcp.example.com/token/"
    assert b"resource=https%3A%2F%2Fmcp.example.com%2Fmcp" in request.content


def test_a_fresh_stored_token_is_used_as_is(tmp_path):
    storage, _ = _login(tmp_path, expires_at=time.time() + 600)
    provider = _provider(storage)
    anyio.run(provider._initialize)
    assert provider.context.is_token_valid()


def test_tokens_refreshed_by_another_process_are_adopted_instead_of_replaying_the_old_refresh_token(tmp_path):
    storage, store = _login(tmp_path, expires_at=time.time() - 10)
    provider = _provider(storage)
    anyio.run(provider._initialize)
    # Meanwhile the bridge refreshed: new access token, rotated refresh token.
    store.save(URL, StoredTokens(OAuthToken(access_token="new", refresh_token="r2", expires_in=3600), time.time() + 3600))
    anyio.run(provider._adopt_tokens_refreshed_elsewhere)
    assert provider.context.current_tokens.access_token == "new"
    assert provider.context.current_tokens.refresh_token == "r2"
    assert provider.context.is_token_valid()


def test_a_fresh_login_hides_the_old_tokens_until_new_ones_arrive(tmp_path):
    storage, store = _login(tmp_path, expires_at=time.time() + 600)
    fresh = LoginStorage(storage.record, storage.registry, store, fresh=True)
    assert anyio.run(fresh.get_tokens) is None
    anyio.run(fresh.set_tokens, OAuthToken(access_token="next", expires_in=60))
    assert anyio.run(fresh.get_tokens).access_token == "next"


def _response(status: int, challenge: str | None = None, *, url=URL, content: bytes = b"") -> httpx2.Response:
    headers = {"www-authenticate": challenge} if challenge else {}
    return httpx2.Response(status, headers=headers, request=httpx2.Request("POST", url, content=content))


def test_an_insufficient_scope_challenge_names_the_missing_scope():
    watcher = ChallengeWatcher(URL, "code:read")
    anyio.run(watcher.on_response, _response(
        403, 'Bearer error="insufficient_scope", error_description="Calling x needs the code:write scope.", '
             'scope="code:read code:write", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"'))
    error = watcher.explain()
    assert isinstance(error, InsufficientScope) and error.needed == ["code:write"]
    assert "'code:write'" in str(error) and "Calling x needs" in str(error)
    with pytest.raises(InsufficientScope):
        anyio.run(watcher.refuse_sign_in, "https://mcp.example.com/authorize/?…")


def test_a_revoked_token_or_a_refused_refresh_says_the_login_is_no_longer_valid():
    watcher = ChallengeWatcher(URL, "code:read")
    anyio.run(watcher.on_response, _response(401, 'Bearer error="invalid_token", error_description="The access token has been revoked."'))
    error = watcher.explain()
    assert isinstance(error, LoginNoLongerValid) and "has been revoked" in str(error) and f"mcprag login {URL}" in str(error)
    anyio.run(watcher.on_response, _response(400, url="https://mcp.example.com/token/",
                                             content=b"grant_type=refresh_token&refresh_token=x"))
    assert watcher.refresh_attempted and watcher.refresh_refused
    assert "refused to refresh" in str(watcher.explain())


def test_a_disabled_client_shows_the_servers_reason_and_that_login_registers_anew():
    """The resource's challenge says why; the refused refresh (``invalid_client``, from the token
    endpoint) and the bare challenge of the request sent without a token afterwards must not hide it."""
    watcher = ChallengeWatcher(URL, "code:read")
    anyio.run(watcher.on_response, _response(
        401, 'Bearer error="invalid_token", error_description="This client has been disabled by an operator."'))
    refused = httpx2.Response(401, headers={"www-authenticate": 'Basic realm="mcprag"'}, json={"error": "invalid_client"},
                              request=httpx2.Request("POST", "https://mcp.example.com/token/",
                                                     content=b"grant_type=refresh_token&refresh_token=x"))
    anyio.run(watcher.on_response, refused)
    anyio.run(watcher.on_response, _response(401, 'Bearer scope="code:read"'))
    error = watcher.explain()
    assert isinstance(error, LoginNoLongerValid)
    assert "this client has been disabled by an operator" in str(error)
    assert "registers a new client" in str(error) and f"run: mcprag login {URL}" in str(error)


def test_a_redirect_or_a_web_page_at_the_url_is_not_an_mcp_endpoint():
    api = "http://127.0.0.1:8000/api"
    watcher = ChallengeWatcher(api, None)
    redirect = httpx2.Response(301, headers={"location": "/api/"}, request=httpx2.Request("POST", api))
    anyio.run(watcher.on_response, redirect)
    assert str(NoEndpoint(api, watcher.not_an_endpoint)) == (
        "http://127.0.0.1:8000/api answered 301 Moved Permanently (a redirect to /api/): it is not an MCP endpoint "
        "(an mcprag server's MCP endpoint is <server>/mcp; try http://127.0.0.1:8000/mcp)")
    page = ChallengeWatcher(api, None)
    anyio.run(page.on_response, httpx2.Response(200, headers={"content-type": "text/html"}, request=httpx2.Request("POST", api)))
    assert page.not_an_endpoint == "200 OK with text/html"
    mcp = ChallengeWatcher(URL, None)
    anyio.run(mcp.on_response, httpx2.Response(200, headers={"content-type": "text/event-stream"}, request=httpx2.Request("POST", URL)))
    anyio.run(mcp.on_response, _response(401, 'Bearer error="invalid_token"'))
    assert mcp.not_an_endpoint is None


def test_errors_are_found_inside_the_sdk_exception_groups():
    wrapped = ExceptionGroup("task group", [ExceptionGroup("inner", [LoginNoLongerValid(URL, "revoked")])])
    assert isinstance(find_client_error(wrapped, URL), LoginNoLongerValid)
    try:
        try:
            raise httpx2.ConnectError("refused")
        except httpx2.ConnectError as exc:
            raise ExceptionGroup("task group", [RuntimeError("transport died")]) from exc
    except ExceptionGroup as group:
        assert isinstance(find_client_error(group, URL), ServerUnreachable)
    assert isinstance(find_client_error(ExceptionGroup("g", [MCPError(-32602, "Unknown tool")]), URL), ServerError)
    assert find_client_error(RuntimeError("something else"), URL) is None
    assert isinstance(LoginNoLongerValid(URL, "x"), ClientError)


def test_a_disabled_account_shows_the_servers_reason_without_login_advice():
    """An operator suspended the person: the refresh still succeeds, the new token is refused the
    same way, and signing in again cannot help, so the message is the server's reason alone."""
    watcher = ChallengeWatcher(URL, "code:read")
    disabled = 'Bearer error="invalid_token", error_description="The account behind this token is disabled."'
    anyio.run(watcher.on_response, _response(401, disabled))
    anyio.run(watcher.on_response, httpx2.Response(200, json={"access_token": "new", "token_type": "Bearer"},
                                                   request=httpx2.Request("POST", "https://mcp.example.com/token/",
                                                                          content=b"grant_type=refresh_token&refresh_token=x")))
    anyio.run(watcher.on_response, _response(401, disabled))
    error = watcher.explain()
    assert isinstance(error, AccountDisabled) and error.exit_code == ExitCode.LOGIN_NO_LONGER_VALID
    assert str(error) == f"{URL} refuses your login: the account behind this token is disabled; ask an operator of that server"
    assert "mcprag login" not in str(error)
