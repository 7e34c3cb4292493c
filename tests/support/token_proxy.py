"""A loopback reverse proxy that adds ``Authorization: Bearer <token>`` to every request.

The MCP conformance suite's ``server`` mode has no option for a bearer token; this proxy, used
only by the conformance test, puts one in front of ``/mcp``. Host and Origin are forwarded as
sent, so the server's own DNS-rebinding checks still see what the suite sends.
"""

from __future__ import annotations

import threading
import time

import httpx2
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Route

_HOP = {"connection", "keep-alive", "transfer-encoding", "upgrade", "proxy-connection", "te", "trailer", "content-length"}


def make_app(upstream: str, token: str) -> Starlette:
    client = httpx2.AsyncClient(timeout=httpx2.Timeout(60, read=300))

    async def forward(request: Request):
        headers = [(k, v) for k, v in request.headers.items() if k.lower() not in _HOP and k.lower() != "authorization"]
        headers.append(("authorization", f"Bearer {token}"))
        upstream_request = client.build_request(
            request.method, upstream + request.url.path + (f"?{request.url.query}" if request.url.query else ""),
            headers=headers, content=await request.body(),
        )
        response = await client.send(upstream_request, stream=True)
        out_headers = {k: v for k, v in response.headers.items() if k.lower() not in _HOP}

        async def body():
            try:
                async for chunk in response.aiter_raw():
                    yield chunk
            finally:
                await response.aclose()

        return StreamingResponse(body(), status_code=response.status_code, headers=out_headers)

    return Starlette(routes=[Route("/{path:path}", forward, methods=["GET", "POST", "DELETE", "PUT", "OPTIONS"])])


class TokenProxy:
    def __init__(self, upstream: str, token: str, port: int):
        self.port = port
        config = uvicorn.Config(make_app(upstream, token), host="127.0.0.1", port=port, log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self):
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        return self

    def __exit__(self, *exc):
        self.server.should_exit = True
        self.thread.join(10)
