"""MCP Streamable HTTP transport at ``/mcp``, behind mcprag's bearer check.

Order of checks for every request (MCP 2025-11-25 "Transports" §Security Warning, RFC 6750):

1. ``Host`` and ``Origin`` (DNS-rebinding protection): a foreign Origin gets 403, a foreign Host 421.
2. A token in the query string is refused (MCP authorization, "Token Usage": MUST NOT).
3. ``Authorization: Bearer`` is verified (:mod:`mcp_gateway.auth.bearer`); 401 with a
   ``WWW-Authenticate`` pointing at the protected-resource metadata otherwise.
4. The body is read under a size cap (413), and a ``tools/call`` beyond the caller's permissions
   gets 403 ``insufficient_scope`` with the scope to ask for (step-up).
5. The request goes to the SDK's session manager in **stateless** mode, so any gateway replica
   can serve any request; both protocol eras (2025-11-25 handshake, 2026-07-28) are served.

Daphne has no ASGI lifespan, so the SDK session manager is started on the first request, in a
background task of the server's event loop.
"""

from __future__ import annotations

import asyncio
import json
import logging
from urllib.parse import parse_qs, urlsplit

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections
from mcp.server.transport_security import TransportSecurityMiddleware, TransportSecuritySettings
from starlette.requests import Request

from .. import app_settings
from ..auth.bearer import InvalidToken, bearer_token_from_headers, verify_access_token
from ..auth.challenge import challenge_response
from ..audit import record_tool_call
from ..auth.identity import CALLER_SCOPE_KEY, TRANSPORT_SCOPE_KEY
from ..models import ToolCall
from ..permissions import missing_scope
from ..server import build_server

__all__ = ["StreamableHTTPGateway", "mcp_asgi_app", "transport_security_settings"]

logger = logging.getLogger(__name__)

_DEFAULT_SCOPE_HINT = " ".join(getattr(settings, "MCPRAG_DEFAULT_SCOPES", ["code:read"]))


def transport_security_settings() -> TransportSecuritySettings:
    """Allowed Host and Origin values: the public origin, plus loopback names on a loopback URL."""
    public = urlsplit(settings.MCPRAG_PUBLIC_URL)
    hosts = [public.netloc, public.hostname]
    origins = [settings.MCPRAG_PUBLIC_URL]
    if any(h in ("127.0.0.1", "localhost", "[::1]", "::1") for h in settings.ALLOWED_HOSTS):
        for name in ("127.0.0.1", "localhost", "[::1]"):
            hosts += [name, f"{name}:*"]
            origins += [f"http://{name}", f"http://{name}:*"]
    return TransportSecuritySettings(allowed_hosts=hosts, allowed_origins=origins)


async def _send(send, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _verify(token: str):
    close_old_connections()
    try:
        return verify_access_token(token)
    finally:
        close_old_connections()


class _BodyTooLarge(Exception):
    pass


async def _read_body(receive, limit: int) -> bytes:
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _tool_call(body: bytes) -> tuple[str | None, object]:
    """``(tool name, arguments)`` of a ``tools/call`` message, or ``(None, None)``."""
    try:
        message = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None, None
    if isinstance(message, dict) and message.get("method") == "tools/call":
        params = message.get("params")
        if isinstance(params, dict) and isinstance(params.get("name"), str):
            return params["name"], params.get("arguments")
    return None, None


class StreamableHTTPGateway:
    """The ASGI app mounted at ``/mcp``."""

    def __init__(self) -> None:
        self._manager = None
        self._start_lock = asyncio.Lock()
        self._task: asyncio.Task | None = None
        self._security = TransportSecurityMiddleware(transport_security_settings())

    async def _session_manager(self):
        if self._manager is not None:
            return self._manager
        async with self._start_lock:
            if self._manager is None:
                server = build_server()
                server.streamable_http_app(
                    stateless_http=True,
                    transport_security=transport_security_settings(),
                    max_request_body_size=app_settings.max_request_body_bytes(),
                )
                manager = server.session_manager
                ready = asyncio.Event()

                async def run() -> None:
                    async with manager.run():
                        ready.set()
                        await asyncio.Event().wait()

                self._task = asyncio.get_running_loop().create_task(run())
                await ready.wait()
                self._manager = manager
        return self._manager

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        rejection = await self._security.validate_request(Request(scope), is_post=False)
        if rejection is not None:
            await rejection(scope, receive, send)
            return
        if "access_token" in parse_qs(scope.get("query_string", b"").decode("latin-1")):
            await _send(send, *challenge_response(
                401, error="invalid_request", description="Access tokens are not accepted in the query string."))
            return
        token = bearer_token_from_headers(scope.get("headers", []))
        if token is None:
            await _send(send, *challenge_response(
                401, error=None, description="Authentication required.", scope=_DEFAULT_SCOPE_HINT))
            return
        try:
            caller = await sync_to_async(_verify, thread_sensitive=False)(token)
        except InvalidToken as exc:
            await _send(send, *challenge_response(401, error="invalid_token", description=str(exc)))
            return
        try:
            body = await _read_body(receive, app_settings.max_request_body_bytes())
        except _BodyTooLarge:
            await _send(send, 413, [(b"content-type", b"application/json")],
                        json.dumps({"error": "request_too_large", "error_description": "The request body is too large."}).encode())
            return
        tool_name, arguments = _tool_call(body) if scope["method"] == "POST" else (None, None)
        needed = missing_scope(caller, tool_name) if tool_name else None
        if needed:
            await record_tool_call(caller=caller, tool=tool_name, transport="streamable_http", arguments=arguments,
                                   outcome=ToolCall.Outcome.REFUSED, error_class="insufficient_scope")
            wanted = " ".join(sorted(set(caller.scopes) | {needed}))
            await _send(send, *challenge_response(
                403, error="insufficient_scope", description=f"Calling {tool_name} needs the {needed} scope.", scope=wanted))
            return
        scope = dict(scope)
        scope[CALLER_SCOPE_KEY] = caller
        scope[TRANSPORT_SCOPE_KEY] = "streamable_http"
        manager = await self._session_manager()
        await manager.handle_request(scope, _replay(body, receive), send)


def _replay(body: bytes, receive):
    sent = False

    async def replay():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


mcp_asgi_app = StreamableHTTPGateway()
