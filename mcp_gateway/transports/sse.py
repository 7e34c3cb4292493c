"""Legacy MCP HTTP+SSE transport (protocol 2024-11-05): ``GET /sse`` opens an event stream whose
first event names the message endpoint (``/messages/?session_id=…``); the client then POSTs each
JSON-RPC message there and reads every response from the stream.

It serves the same registry as ``/mcp`` (:func:`mcp_gateway.server.build_server`), behind the same
:class:`~mcp_gateway.transports.http_guard.HttpGuard` (Host/Origin, bearer, protocol version,
body size, one message per POST) on **both** endpoints, so every POST is re-authenticated and the
permission middleware sees the caller of that POST. A ``tools/call`` beyond the caller's
permissions is refused by the permission middleware with an ``isError`` result on the stream
(the POST itself is only ever acknowledged with 202), and audited with transport ``"sse"``.

**SSE sessions are in-process by nature.** The SDK's ``SseServerTransport`` keeps each open
stream in this process's memory, so the POSTs of a session must reach the process that holds its
``GET /sse``: behind several replicas, route ``/sse`` and ``/messages/`` with sticky sessions (or
send legacy clients to one replica). A session is bound to the principal (client, issuer,
subject) that opened it; a POST from anyone else gets 404, as if the session did not exist.
Streamable HTTP at ``/mcp`` is stateless and has none of these limits; prefer it.
"""

from __future__ import annotations

from ..app_settings import app_settings
from ..server import build_server
from .http_guard import HttpGuard, transport_security_settings

__all__ = ["SSEGateway", "sse_asgi_app", "SSE_PATH", "MESSAGE_PATH"]

TRANSPORT = "sse"
SSE_PATH = "/sse"
MESSAGE_PATH = "/messages/"


class SSEGateway:
    """The ASGI app mounted at ``/sse`` and ``/messages/``: the guard, then the SDK's SSE app."""

    def __init__(self) -> None:
        self._guard = HttpGuard(transport=TRANSPORT, step_up=False)
        self._app = None

    def _sdk_app(self):
        """The SDK's Starlette app (routes ``/sse`` and ``/messages/``), built on first use."""
        if self._app is None:
            self._app = build_server(transport=TRANSPORT).sse_app(
                sse_path=SSE_PATH,
                message_path=MESSAGE_PATH,
                transport_security=transport_security_settings(),
                max_request_body_size=app_settings.MAX_REQUEST_BODY_BYTES,
            )
        return self._app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        admitted = await self._guard.admit(scope, receive, send)
        if admitted is None:
            return
        await self._sdk_app()(admitted.scope, admitted.receive, send)


sse_asgi_app = SSEGateway()
