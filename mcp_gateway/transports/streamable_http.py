"""MCP Streamable HTTP transport at ``/mcp``, behind mcprag's HTTP guard.

Every request first passes :class:`mcp_gateway.transports.http_guard.HttpGuard` (Host/Origin,
no query-string tokens, bearer verification, ``MCP-Protocol-Version``, body size, one message per
POST, and the 403 ``insufficient_scope`` step-up for a ``tools/call`` the permission middleware
refuses). It then goes to one of the
SDK's session managers in **stateless** mode, so any gateway replica can serve any request; both
protocol eras (2025-11-25 handshake, 2026-07-28) are served. A plain request is answered with one
``application/json`` body, a request that may be followed by notifications (e.g. a ``tools/call``
with a ``progressToken``) on an SSE stream.

``GET /mcp`` (the server-to-client stream, MCP 2025-11-25 "Listening for Messages from the
Server") is answered at once with ``405 Method Not Allowed`` and ``Allow: POST``, with or without
``Last-Event-ID``, in both protocol eras: a stateless server never sends anything unprompted, so
it has no stream to offer and none to resume. The specification allows exactly this answer ("the
server MUST either return Content-Type: text/event-stream … or else return HTTP 405"), the SDK
gives it itself for 2026-07-28 requests, and the SDK clients take it as "no such stream" (the
Python client opens one only with a session id, which this server never assigns; the TypeScript
client treats 405 as normal). Before, a GET held a connection open with nothing to say and a
``Last-Event-ID`` was never answered.

Daphne has no ASGI lifespan, so the SDK session manager is started on the first request, in a
background task of the server's event loop, and cancelled when the server shuts down
(:mod:`.lifecycle`).
"""

from __future__ import annotations

import asyncio

from starlette.responses import Response

from ..app_settings import app_settings
from ..audit import AFTER_ANSWER_SCOPE_KEY, AfterAnswer
from ..server import build_server
from .http_guard import HttpGuard, transport_security_settings
from .lifecycle import cancel_at_shutdown

__all__ = ["StreamableHTTPGateway", "mcp_asgi_app", "transport_security_settings"]

TRANSPORT = "streamable_http"


class StreamableHTTPGateway:
    """The ASGI app mounted at ``/mcp``.

    Two SDK session managers serve it, both stateless: one answers with SSE streams (the default:
    anything that may carry notifications, e.g. a ``tools/call`` asking for progress), one with a
    single ``application/json`` body (plain requests, see ``http_guard._needs_stream``). Both are
    valid answers to a POST (MCP 2025-11-25 "Sending Messages to the Server"); the JSON one
    skips the SSE machinery, about 15 % of a ``health_check`` call's CPU (bench/gateway.py).
    """

    def __init__(self) -> None:
        self._managers: dict[bool, object] = {}
        self._start_lock = asyncio.Lock()
        self._tasks: list[asyncio.Task] = []
        self._guard = HttpGuard(transport=TRANSPORT, step_up=True)

    async def _session_manager(self, streams: bool = True):
        manager = self._managers.get(streams)
        if manager is not None:
            return manager
        async with self._start_lock:
            if streams not in self._managers:
                server = build_server(transport=TRANSPORT)
                server.streamable_http_app(
                    stateless_http=True,
                    json_response=not streams,
                    transport_security=transport_security_settings(),
                    max_request_body_size=app_settings.MAX_REQUEST_BODY_BYTES,
                )
                manager = server.session_manager
                ready = asyncio.Event()

                async def run() -> None:
                    async with manager.run():
                        ready.set()
                        await asyncio.Event().wait()

                if not self._tasks:
                    cancel_at_shutdown(self._tasks)  # under daphne, end them with the server
                self._tasks.append(asyncio.get_running_loop().create_task(run()))
                await ready.wait()
                self._managers[streams] = manager
        return self._managers[streams]

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        admitted = await self._guard.admit(scope, receive, send)
        if admitted is None:
            return
        if scope["method"] == "GET":
            await Response(status_code=405, headers={"Allow": "POST"})(scope, receive, send)
            return
        manager = await self._session_manager(admitted.streams)
        if app_settings.AUDIT_BEFORE_ANSWER:
            await manager.handle_request(admitted.scope, admitted.receive, admitted.send)
            return
        after_answer = admitted.scope[AFTER_ANSWER_SCOPE_KEY] = AfterAnswer()
        try:
            await manager.handle_request(admitted.scope, admitted.receive, admitted.send)
        finally:
            await after_answer.wait()  # the request ends once its audit rows are committed


mcp_asgi_app = StreamableHTTPGateway()
