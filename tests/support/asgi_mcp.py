"""Drive the gateway's ASGI app at ``/mcp`` directly with raw ASGI messages (no server, no client
library): one POST with a JSON-RPC message, its answer collected as it is sent."""

from __future__ import annotations

import asyncio
import json

TOOL_CALL = {"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"name": "health_check", "arguments": {}}}


def post_mcp(token: str | None, message: dict = TOOL_CALL, query_string: bytes = b""):
    """ASGI ``(scope, receive)`` of one POST /mcp carrying ``message`` (``token`` as a bearer header)."""
    body = json.dumps(message).encode()
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
        "path": "/mcp", "raw_path": b"/mcp", "query_string": query_string, "root_path": "",
        "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000),
        "headers": [(b"host", b"127.0.0.1:8000"), (b"content-type", b"application/json"),
                    (b"accept", b"application/json, text/event-stream"), (b"mcp-protocol-version", b"2025-11-25"),
                    (b"content-length", str(len(body)).encode())]
        + ([(b"authorization", f"Bearer {token}".encode())] if token else []),
    }
    sent = False

    async def receive():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()  # the client stays connected

    return scope, receive


class Response:
    """Collects what the app sends; ``complete`` is set with the last body chunk."""

    def __init__(self) -> None:
        self.status = None
        self.headers: dict[str, str] = {}
        self.body = b""
        self.complete = asyncio.Event()

    async def send(self, message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.headers = {k.decode().lower(): v.decode() for k, v in message.get("headers", [])}
        elif message["type"] == "http.response.body":
            self.body += message.get("body", b"")
            if not message.get("more_body", False):
                self.complete.set()

    def result(self) -> dict:
        text = self.body.decode()
        if text.startswith(("event:", "data:")):  # an SSE answer: its data line
            text = next(line[5:] for line in text.splitlines() if line.startswith("data:"))
        return json.loads(text)


def answer(token: str | None, message: dict = TOOL_CALL, timeout: float = 20) -> Response:
    """POST ``message`` to a fresh ``/mcp`` gateway app and return its complete answer (blocking)."""
    from mcp_gateway.transports.streamable_http import StreamableHTTPGateway

    async def main():
        response = Response()
        scope, receive = post_mcp(token, message)
        await asyncio.wait_for(StreamableHTTPGateway()(scope, receive, response.send), timeout=timeout)
        return response

    return asyncio.run(main())
