"""OAuth 2.1 for the command-line client, on top of the SDK's ``OAuthClientProvider``.

The SDK does discovery (RFC 9728, RFC 8414), registration (client ID metadata document or
RFC 7591), PKCE S256, ``state`` and ``iss`` checks, RFC 8707 ``resource``, the token exchange,
refresh with rotation, and the 403 ``insufficient_scope`` step-up. What a command-line tool adds:

* :class:`LoginStorage` — the SDK's ``TokenStorage`` backed by the keyring or the 0600 file, plus
  the absolute expiry of the access token.
* :class:`ResumingOAuthProvider` — a new process resumes a stored login: it restores the token
  expiry and the discovered metadata, so an expired access token is refreshed **before** use
  (at the token endpoint the server published), and it adopts tokens another mcprag process
  (a running bridge) refreshed meanwhile instead of replaying a rotated refresh token, which
  the server would treat as reuse and answer by revoking the whole family.
* :class:`ChallengeWatcher` — watches the ``WWW-Authenticate`` challenges; when the SDK would
  send the person to the browser during a non-interactive command, it raises the matching
  one-line error instead (revoked login, insufficient scope naming the scope).
* :func:`client_is_refused` — whether the server still accepts the stored client registration,
  so ``mcprag login`` registers anew instead of sending the person to an error page.
* :func:`revoke_tokens` — RFC 7009 token revocation for ``mcprag logout`` (the SDK client has
  no revocation call; this is one form POST to the endpoint the server's metadata names).
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import AsyncGenerator
from dataclasses import dataclass

import httpx2
from mcp.client.auth import OAuthClientProvider
from mcp.client.auth.utils import (
    build_oauth_authorization_server_metadata_discovery_urls,
    create_oauth_metadata_request,
    extract_field_from_www_auth,
    handle_auth_metadata_response,
    union_scopes,
)
from mcp.shared.auth import OAuthClientInformationFull, OAuthMetadata, OAuthToken, ProtectedResourceMetadata

from .config import ServerRecord, ServerRegistry
from .credentials import StoredTokens, TokenStore
from .errors import AccountDisabled, InsufficientScope, LoginNoLongerValid

__all__ = ["LoginStorage", "ResumingOAuthProvider", "ChallengeWatcher", "client_is_refused", "revoke_tokens"]


class LoginStorage:
    """The SDK ``TokenStorage`` for one server: tokens in ``store``, the registration in ``servers.json``.

    ``fresh=True`` (``mcprag login``) hides the tokens stored so far, so the SDK signs in anew.
    """

    def __init__(self, record: ServerRecord, registry: ServerRegistry, store: TokenStore, *, fresh: bool = False):
        self.record = record
        self.registry = registry
        self.store = store
        self._fresh = fresh

    def stored(self) -> StoredTokens | None:
        return None if self._fresh else self.store.load(self.record.url)

    async def get_tokens(self) -> OAuthToken | None:
        stored = self.stored()
        return stored.tokens if stored else None

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.store.save(self.record.url, StoredTokens.issued_now(tokens))
        self._fresh = False
        if self.record.token_store != self.store.kind:
            self.record.token_store = self.store.kind
            self.registry.save(self.record)

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        info = self.record.client_info
        return OAuthClientInformationFull.model_validate(info) if info else None

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.record.client_info = client_info.model_dump(mode="json", exclude_none=True)
        self.registry.save(self.record)

    def expire_access_token(self) -> StoredTokens | None:
        """Mark the stored access token expired, so the next request refreshes it first; returns
        the tokens as they were, for :meth:`restore`."""
        stored = self.stored()
        if stored is not None:  # a past time, not 0: the SDK reads a falsy expiry as "never expires"
            self.store.save(self.record.url, StoredTokens(tokens=stored.tokens, expires_at=time.time() - 1))
        return stored

    def restore(self, before: StoredTokens) -> None:
        """Undo :meth:`expire_access_token` when no refresh replaced the tokens meanwhile: the next
        command then presents the access token again and hears the server's reason for refusing it."""
        stored = self.stored()
        if stored is not None and stored.tokens == before.tokens:
            self.store.save(self.record.url, before)

    def remember_metadata(self, oauth_metadata: OAuthMetadata | None, prm: ProtectedResourceMetadata | None) -> None:
        if oauth_metadata is not None:
            self.record.oauth_metadata = oauth_metadata.model_dump(mode="json", exclude_none=True)
        if prm is not None:
            self.record.protected_resource_metadata = prm.model_dump(mode="json", exclude_none=True)
        self.registry.save(self.record)


class ResumingOAuthProvider(OAuthClientProvider):
    """``OAuthClientProvider`` that resumes a login stored by an earlier process (see module doc).

    It overrides the SDK's ``_initialize`` (pinned to mcp 2.3.0), which loads tokens but not their
    expiry, and wraps ``async_auth_flow`` to adopt tokens refreshed by another process.
    """

    def __init__(self, *args, login_storage: LoginStorage, requested_scope: str | None = None, **kwargs):
        super().__init__(*args, storage=login_storage, **kwargs)
        self.login_storage = login_storage
        self.requested_scope = requested_scope

    async def _perform_authorization_code_grant(self) -> tuple[str, str]:
        """``mcprag login --scope``: ask for those scopes besides the ones the server's challenge names."""
        if self.requested_scope:
            self.context.client_metadata.scope = union_scopes(self.context.client_metadata.scope, self.requested_scope)
        return await super()._perform_authorization_code_grant()

    async def _initialize(self) -> None:
        await super()._initialize()
        stored = self.login_storage.stored()
        self.context.token_expiry_time = stored.expires_at if stored else None
        record = self.login_storage.record
        if self.context.oauth_metadata is None and record.oauth_metadata:
            self.context.oauth_metadata = OAuthMetadata.model_validate(record.oauth_metadata)
        if self.context.protected_resource_metadata is None and record.protected_resource_metadata:
            prm = ProtectedResourceMetadata.model_validate(record.protected_resource_metadata)
            self.context.protected_resource_metadata = prm
            self.context.auth_server_url = str(prm.authorization_servers[0])

    async def _adopt_tokens_refreshed_elsewhere(self) -> None:
        async with self.context.lock:
            if not self._initialized or self.context.is_token_valid():
                return
            stored = self.login_storage.stored()
            current = self.context.current_tokens
            if stored is None or (current is not None and stored.tokens.access_token == current.access_token):
                return
            if stored.expires_at is None or stored.expires_at > time.time():
                self.context.current_tokens = stored.tokens
                self.context.token_expiry_time = stored.expires_at

    async def async_auth_flow(self, request: httpx2.Request) -> AsyncGenerator[httpx2.Request, httpx2.Response]:
        await self._adopt_tokens_refreshed_elsewhere()
        flow = super().async_auth_flow(request)
        try:
            outgoing = await flow.__anext__()
            while True:
                response = yield outgoing
                outgoing = await flow.asend(response)
        except StopAsyncIteration:
            return
        finally:
            await flow.aclose()


@dataclass(frozen=True)
class Challenge:
    status: int
    error: str | None
    description: str | None
    scope: str | None


class ChallengeWatcher:
    """An ``httpx2`` response hook that remembers the last bearer challenge and refresh outcome.

    :meth:`refuse_sign_in` is the SDK ``redirect_handler`` of non-interactive commands: reaching
    it means the stored login cannot be used as is, and the challenge says why.
    """

    def __init__(self, url: str, granted_scope: str | None):
        self.url = url
        self.reset(granted_scope)

    def reset(self, granted_scope: str | None) -> None:
        """Forget what earlier requests showed (a long-running bridge watches many calls)."""
        self.granted = set((granted_scope or "").split())
        self.challenge: Challenge | None = None
        self.refresh_attempted = False
        self.refresh_refused = False
        self.refresh_error: str | None = None  # the token endpoint's ``error`` code when it refused
        self.not_an_endpoint: str | None = None  # how the URL answered, when not as an MCP endpoint

    async def on_response(self, response: httpx2.Response) -> None:
        at_resource = str(response.request.url).rstrip("/") == self.url.rstrip("/")
        if at_resource and response.status_code in (401, 403) and response.headers.get("www-authenticate"):
            challenge = Challenge(
                status=response.status_code,
                error=extract_field_from_www_auth(response, "error"),
                description=extract_field_from_www_auth(response, "error_description"),
                scope=extract_field_from_www_auth(response, "scope"),
            )
            # A bare challenge (a request sent without a token, after the refresh was refused)
            # must not hide the reason an earlier one gave for refusing the token.
            if challenge.error or self.challenge is None or not self.challenge.error:
                self.challenge = challenge
        if at_resource:
            self.not_an_endpoint = self.not_an_endpoint or _not_mcp(response)
        if _is_refresh(response.request):
            self.refresh_attempted = True
            self.refresh_refused = response.status_code != 200
            self.refresh_error = await _oauth_error_code(response) if self.refresh_refused else None

    def explain(self) -> InsufficientScope | LoginNoLongerValid:
        challenge = self.challenge
        if challenge is not None and challenge.status == 403 and challenge.error == "insufficient_scope":
            asked = (challenge.scope or "").split()
            needed = [s for s in asked if s not in self.granted] or asked
            return InsufficientScope(self.url, needed, challenge.description, self.granted)
        # The server's own words first (e.g. "This client has been disabled by an operator."):
        # the refused refresh that usually follows says less.
        reason = challenge.description.rstrip(".").lower() if challenge is not None and challenge.description else None
        if reason and _ACCOUNT_DISABLED.search(reason):  # no sign-in can help: say only what the server said
            return AccountDisabled(self.url, reason)
        if self.refresh_refused:
            if self.refresh_error == "invalid_client":  # the client itself, not just this login
                why = reason or "the server no longer accepts this client (invalid_client)"
                return LoginNoLongerValid(self.url, f"{why}; mcprag login registers a new client")
            refused = "the server refused to refresh it: it was revoked or has expired"
            return LoginNoLongerValid(self.url, f"{reason}; {refused}" if reason else refused)
        if reason:
            return LoginNoLongerValid(self.url, reason)
        return LoginNoLongerValid(self.url, "the server asks to sign in again")

    async def refuse_sign_in(self, authorization_url: str) -> None:
        raise self.explain()

    async def no_callback(self):
        """The SDK ``callback_handler`` of non-interactive commands; :meth:`refuse_sign_in` runs first."""
        raise self.explain()


#: How the server's challenge says the person's account is disabled (an operator suspended it):
#: "The account behind this token is disabled." (mcp_gateway.auth.bearer).
_ACCOUNT_DISABLED = re.compile(r"\baccount\b.*\b(disabled|suspended|deactivated)\b")


def _not_mcp(response: httpx2.Response) -> str | None:
    """How a response of the MCP URL shows it is no MCP endpoint, else None: a 404 (the SDK would
    call it "Method not found"), a redirect (``/api`` to ``/api/``; the SDK does not follow it and
    suggests the target, which is no endpoint either), a 403/405 without a bearer challenge (a web
    page's CSRF check; the SDK says only "code -32603"), or a success that is neither JSON nor an
    event stream (a web page)."""
    status = f"{response.status_code} {response.reason_phrase}".strip()
    if response.status_code == 404:
        return status
    if response.is_redirect:
        return f"{status} (a redirect to {response.headers.get('location')})"
    bearer = response.headers.get("www-authenticate", "").lower().startswith("bearer")
    if response.status_code in (403, 405) and not bearer:
        return status
    kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if response.is_success and response.status_code != 202 and kind not in ("application/json", "text/event-stream"):
        return f"{status} with {kind or 'no content type'}"
    return None


async def _oauth_error_code(response: httpx2.Response) -> str | None:
    """The ``error`` of an RFC 6749 §5.2 error response, if it is one."""
    try:
        await response.aread()
        error = response.json().get("error")
    except (ValueError, AttributeError, httpx2.HTTPError):
        return None
    return error if isinstance(error, str) else None


def _is_refresh(request: httpx2.Request) -> bool:
    if request.method != "POST":
        return False
    try:
        return b"grant_type=refresh_token" in request.content
    except httpx2.RequestNotRead:
        return False


async def _authorization_server_metadata(http: httpx2.AsyncClient, record: ServerRecord) -> OAuthMetadata | None:
    """The stored RFC 8414 metadata, or discover it again (the SDK's discovery URL order)."""
    if record.oauth_metadata:
        return OAuthMetadata.model_validate(record.oauth_metadata)
    issuer = None
    if record.protected_resource_metadata:
        issuer = str(ProtectedResourceMetadata.model_validate(record.protected_resource_metadata).authorization_servers[0])
    for url in build_oauth_authorization_server_metadata_discovery_urls(issuer, record.url):
        ok, metadata = await handle_auth_metadata_response(await http.send(create_oauth_metadata_request(url)))
        if metadata is not None:
            return metadata
        if not ok:
            break
    return None


async def client_is_refused(record: ServerRecord) -> bool:
    """Whether the authorization server refuses the stored client registration outright (deleted,
    or disabled by an operator): such a client cannot sign in, and the browser would show an error
    page ("Invalid client_id") and never come back to the loopback listener.

    Asked at the token endpoint, where a client identifies itself (RFC 6749 §3.2.1): a refresh
    with a made-up refresh token is answered ``invalid_grant`` for a usable client and
    ``invalid_client`` (§5.2) for one the server no longer accepts. Nothing is issued or consumed.
    Any other answer, or none, counts as usable: the sign-in then goes ahead as before.
    """
    client_id = (record.client_info or {}).get("client_id")
    if not client_id:
        return False
    try:
        async with httpx2.AsyncClient(timeout=30) as http:
            metadata = await _authorization_server_metadata(http, record)
            if metadata is None:
                return False
            response = await http.post(str(metadata.token_endpoint), data={
                "grant_type": "refresh_token", "refresh_token": secrets.token_urlsafe(32), "client_id": client_id})
    except httpx2.HTTPError:
        return False
    return response.status_code in (400, 401) and await _oauth_error_code(response) == "invalid_client"


async def revoke_tokens(record: ServerRecord, tokens: OAuthToken) -> list[str]:
    """RFC 7009 §2.1 revocation of the refresh token, then the access token, as the public
    client the tokens were issued to. Returns problems (empty when both were revoked).

    RFC 7009 §2.2: the server answers 200 also for tokens it no longer knows, so revoking the
    refresh token first (which ends its access token too on mcprag) is harmless.
    """
    client_id = (record.client_info or {}).get("client_id")
    problems: list[str] = []
    async with httpx2.AsyncClient(timeout=30) as http:
        metadata = await _authorization_server_metadata(http, record)
        endpoint = str(metadata.revocation_endpoint) if metadata and metadata.revocation_endpoint else None
        if endpoint is None or client_id is None:
            return ["the server publishes no revocation endpoint"]
        for token, hint in ((tokens.refresh_token, "refresh_token"), (tokens.access_token, "access_token")):
            if not token:
                continue
            response = await http.post(endpoint, data={"token": token, "token_type_hint": hint, "client_id": client_id})
            if response.status_code != 200:
                problems.append(f"revoking the {hint.replace('_', ' ')} returned HTTP {response.status_code}")
    return problems
