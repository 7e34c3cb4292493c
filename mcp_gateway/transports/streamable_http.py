"""MCP Streamable HTTP transport at ``/mcp``, behind mcprag's HTTP guard.

Every request first passes :class:`mcp_gateway.transports.http_guard.HttpGuard` (Host/Origin,
no query-string tokens, bearer verification, ``MCP-Protocol-Version``, body size, one message per
POST, and the 403 ``insufficient_scope`` step-up for ``tools/call``). It then goes to the SDK's
session manager in **stateless** mode, so any gateway replica can serve any request; both
protocol eras (2025-11-25 handshake, 2026-07-28) are served.

Daphne has no ASGI lifespan, so the SDK session manager is started on the first request, in a
background task of the server's event loop.
"""

from __future__ import annotations

import asyncio

from .. import app_settings
from ..server import build_server
from .http_guard import HttpGuard, transport_security_settings

__all__ = ["StreamableHTTPGateway", "mcp_asgi_app", "transport_security_settings"]

TRANSPORT = "streamable_http"


class StreamableHTTPGateway:
    """The ASGI app mounted at ``/mcp``."""

    def __init__(self) -> None:
        self._manager = None
        self._start_lock = asyncio.Lock()
        self._task: asyncio.Task | None = None
        self._guard = HttpGuard(transport=TRANSPORT, step_up=True)

    async def _session_manager(self):
        if self._manager is not None:
            return self._manager
        async with self._start_lock:
            if self._manager is None:
                server = build_server(transport=TRANSPORT)
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
        admitted = await self._guard.admit(scope, receive, send)
        if admitted is None:
            return
        manager = await self._session_manager()
        await manager.handle_request(admitted.scope, admitted.receive, send)


mcp_asgi_app = StreamableHTTPGateway()
