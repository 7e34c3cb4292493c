"""Connecting to a remote mcprag with the stored login, signing in, signing out.

Every connection is the SDK's ``Client`` over ``streamable_http_client``, authenticated by
:class:`~mcprag_client.oauth.ResumingOAuthProvider` as the ``httpx2`` client's ``auth``.
"""

from __future__ import annotations

import asyncio
import ssl
import sys
import webbrowser
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urlsplit

import httpx2
from mcp.client import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import OAuthClientMetadata
from mcp_types import Implementation
from pydantic import AnyUrl

from . import __version__
from .config import ServerRecord, ServerRegistry
from .credentials import choose_token_store, token_store_for
from .errors import (
    ClientError, LoginFailed, LoginNoLongerValid, NoEndpoint, NotLoggedIn, ServerUnreachable, find_client_error,
    find_oauth_error,
)
from .loopback import LoopbackCallback
from .oauth import ChallengeWatcher, LoginStorage, ResumingOAuthProvider, client_is_refused, revoke_tokens

__all__ = ["LoginResult", "Remote", "login", "logout", "check_tls"]

T = TypeVar("T")

CLIENT_NAME = "mcprag command-line client"
CLIENT_INFO = Implementation(name="mcprag-client", version=__version__)
#: connect/write/pool 30 s; reads may wait on a long search or a response stream.
TIMEOUT = httpx2.Timeout(30.0, read=300.0)


def _client_metadata(redirect_uri: str) -> OAuthClientMetadata:
    """RFC 7591 metadata of this client: a public native app with a loopback redirect (RFC 8252)."""
    return OAuthClientMetadata(
        client_name=CLIENT_NAME,
        redirect_uris=[AnyUrl(redirect_uri)],
        grant_types=["authorization_code", "refresh_token"],
        response_types=["code"],
        token_endpoint_auth_method="none",
        software_id="mcprag-client",
        software_version=__version__,
    )


#: How long a TLS handshake may take before ``check_tls`` looks for plain http on that port.
TLS_HANDSHAKE_SECONDS = 5.0


async def _answers_plain_http(host: str, port: int, netloc: str) -> bool:
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), TLS_HANDSHAKE_SECONDS)
    except (OSError, asyncio.TimeoutError):
        return False
    try:
        writer.write(f"HEAD / HTTP/1.0\r\nHost: {netloc}\r\n\r\n".encode("latin-1"))
        await writer.drain()
        return await asyncio.wait_for(reader.read(5), TLS_HANDSHAKE_SECONDS) == b"HTTP/"
    except (OSError, asyncio.TimeoutError):
        return False
    finally:
        writer.close()


async def check_tls(url: str) -> None:
    """For an ``https://`` URL: when the TLS handshake fails or stalls and the port answers plain
    HTTP instead, fail at once with a message saying so (a plain-http server would otherwise leave
    the SDK waiting for its discovery to time out).

    :raises ServerUnreachable: the server speaks plain http on that port.
    """
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        return
    port = parts.port or 443
    try:
        _, writer = await asyncio.wait_for(
            asyncio.open_connection(parts.hostname, port, ssl=ssl.create_default_context(), server_hostname=parts.hostname),
            TLS_HANDSHAKE_SECONDS)
        writer.close()
        return
    except (ssl.SSLError, asyncio.TimeoutError, ConnectionResetError):
        if await _answers_plain_http(parts.hostname, port, parts.netloc):
            plain = "http://" + url.split("://", 1)[1]
            raise ServerUnreachable(url, f"it speaks plain http, not https, on port {port}; use {plain}") from None
    except OSError:
        return  # refused, no route: the request itself reports it


@asynccontextmanager
async def _open(url: str, provider: ResumingOAuthProvider, watcher: ChallengeWatcher) -> AsyncIterator[Client]:
    hooks = {"response": [watcher.on_response]}
    async with httpx2.AsyncClient(auth=provider, timeout=TIMEOUT, event_hooks=hooks) as http:
        async with Client(streamable_http_client(url, http_client=http), mode="auto", client_info=CLIENT_INFO) as client:
            yield client


class Remote:
    """A remote mcprag reached with its stored login, for commands that must not open a browser.

    ``await remote.run(fn)`` connects, awaits ``fn(client)`` and turns every failure into a
    :class:`~mcprag_client.errors.ClientError`. When the server unexpectedly refuses an access
    token the client still believed fresh (revoked, expired early, clocks apart) and a refresh
    token is stored, it refreshes once and tries again before giving up.
    """

    def __init__(self, url: str, registry: ServerRegistry):
        self.url = url
        self.registry = registry
        self.record: ServerRecord = registry.get(url)
        try:
            store = token_store_for(self.record.token_store, registry.directory)
        except ValueError as exc:
            raise ClientError(str(exc)) from None
        self.storage = LoginStorage(self.record, registry, store)
        stored = self.storage.stored()
        if stored is None or self.record.client_info is None:
            raise NotLoggedIn(url)
        self.watcher = ChallengeWatcher(url, stored.tokens.scope)
        self.provider = self._provider()

    def _provider(self) -> ResumingOAuthProvider:
        """Non-interactive: where the SDK would open a browser, the watcher raises the reason."""
        redirect_uri = (self.record.client_info.get("redirect_uris") or ["http://127.0.0.1/callback"])[0]
        return ResumingOAuthProvider(server_url=self.url, client_metadata=_client_metadata(redirect_uri),
                                     login_storage=self.storage, redirect_handler=self.watcher.refuse_sign_in,
                                     callback_handler=self.watcher.no_callback)

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[Client]:
        """A connected SDK ``Client`` (errors come out as the SDK raises them)."""
        async with _open(self.url, self.provider, self.watcher) as client:
            yield client

    async def run(self, fn: Callable[[Client], Awaitable[T]]) -> T:
        stored = self.storage.stored()
        self.watcher.reset(stored.tokens.scope if stored else None)
        before_retry = None
        for attempt in (1, 2):
            try:
                async with self.connect() as client:
                    return await fn(client)
            except Exception as exc:  # noqa: BLE001 - classified below, re-raised as a ClientError
                error = self.classify(exc)
                if attempt == 1 and self._may_retry_with_refresh(error):
                    before_retry = self.storage.expire_access_token()
                    self.provider = self._provider()  # reloads the (now expired) token and refreshes it
                    continue
                if before_retry is not None:
                    self.storage.restore(before_retry)
                raise error from exc
        raise AssertionError("unreachable")

    def classify(self, exc: BaseException) -> ClientError:
        if self.watcher.not_an_endpoint:
            return NoEndpoint(self.url, self.watcher.not_an_endpoint)
        error = find_client_error(exc, self.url)
        if error is not None:
            return error
        if find_oauth_error(exc) is not None:  # the SDK's auth flow gave up: the challenge says why
            return self.watcher.explain()
        return ClientError(f"{type(exc).__name__}: {exc}".strip())

    def _may_retry_with_refresh(self, error: ClientError) -> bool:
        stored = self.storage.stored()
        return (isinstance(error, LoginNoLongerValid) and not self.watcher.refresh_attempted
                and stored is not None and bool(stored.tokens.refresh_token))


@dataclass(frozen=True)
class LoginResult:
    url: str
    scope: str | None
    storage: str
    tool_count: int


def _present(open_browser: bool) -> Callable[[str], Awaitable[None]]:
    async def present(authorization_url: str) -> None:
        opened = open_browser and webbrowser.open(authorization_url)
        lead = ("Your browser should open to sign in. If it does not, open this URL:" if opened
                else "Open this URL in a browser to sign in:")
        print(f"{lead}\n  {authorization_url}", file=sys.stderr, flush=True)

    return present


def _reusable_registration(record: ServerRecord, client_metadata_url: str | None, new_client: bool) -> bool:
    info = record.client_info or {}
    if new_client or not info.get("client_id"):
        return False
    if client_metadata_url:
        return info["client_id"] == client_metadata_url
    return not str(info["client_id"]).startswith("https://")


def _login_error(exc: BaseException, url: str, watcher: ChallengeWatcher) -> ClientError:
    if watcher.not_an_endpoint:
        return NoEndpoint(url, watcher.not_an_endpoint)
    error = find_client_error(exc, url)
    if error is not None:
        return error
    oauth_error = find_oauth_error(exc)
    if oauth_error is not None:  # refused registration, token exchange, state or iss mismatch
        return LoginFailed(f"sign-in failed: {oauth_error}")
    return ClientError(f"sign-in failed: {type(exc).__name__}: {exc}")


async def login(url: str, registry: ServerRegistry, *, open_browser: bool = True, client_metadata_url: str | None = None,
                timeout: float = 300.0, new_client: bool = False, scope: str | None = None) -> LoginResult:
    """The full OAuth sign-in: discovery, registration (client ID metadata document when
    ``client_metadata_url`` is given and the server supports it, else RFC 7591), the browser
    consent with a loopback redirect, and the token exchange — all by the SDK.

    A stored registration is reused unless ``new_client``, or the server no longer accepts it
    (:func:`~mcprag_client.oauth.client_is_refused`: an operator disabled or deleted it).

    ``scope``: scopes to ask for besides the ones the server's challenge names (``code:read``),
    e.g. ``"code:write"``; the consent page grants what the person's tier allows.
    """
    await check_tls(url)
    record = registry.get(url)
    previous_store = record.token_store
    if not _reusable_registration(record, client_metadata_url, new_client):
        record.client_info = None
    elif not client_metadata_url and await client_is_refused(record):
        print(f"The server no longer accepts the client registered for {url} (disabled or deleted); "
              "registering a new one.", file=sys.stderr, flush=True)
        record.client_info = None
    try:
        store = choose_token_store(registry.directory)
    except ValueError as exc:
        raise ClientError(str(exc)) from None
    storage = LoginStorage(record, registry, store, fresh=True)
    watcher = ChallengeWatcher(url, None)
    with LoopbackCallback() as callback:
        provider = ResumingOAuthProvider(
            server_url=url, client_metadata=_client_metadata(callback.redirect_uri), login_storage=storage,
            redirect_handler=_present(open_browser), callback_handler=lambda: callback.wait(timeout),
            client_metadata_url=client_metadata_url, requested_scope=scope,
        )
        try:
            async with _open(url, provider, watcher) as client:
                tools = await client.list_tools()
        except Exception as exc:  # noqa: BLE001 - classified into one line
            raise _login_error(exc, url, watcher) from exc
    storage.remember_metadata(provider.context.oauth_metadata, provider.context.protected_resource_metadata)
    registry.save(record, make_default=True)
    if previous_store and previous_store != store.kind:
        token_store_for(previous_store, registry.directory).delete(record.url)
    tokens = provider.context.current_tokens
    return LoginResult(url=url, scope=tokens.scope if tokens else None, storage=store.describe(),
                       tool_count=len(tools.tools))


async def logout(url: str, registry: ServerRegistry) -> list[str]:
    """Revoke the stored tokens at the server (RFC 7009), then delete them here.

    The local tokens are deleted whatever happens. Returns the problems met while revoking.

    :raises ServerUnreachable: after deleting the local tokens, when the server could not be reached.
    """
    record = registry.get(url)
    try:
        store = token_store_for(record.token_store, registry.directory)
    except ValueError as exc:
        raise ClientError(str(exc)) from None
    stored = store.load(record.url)
    if stored is None:
        raise NotLoggedIn(url)
    try:
        return await revoke_tokens(record, stored.tokens)
    except httpx2.TransportError as exc:
        raise ServerUnreachable(url, f"{type(exc).__name__}; the local tokens were deleted but not revoked") from exc
    finally:
        store.delete(record.url)
