"""MCP stdio transport: the same registry on stdin/stdout, as one named service client.

``python manage.py mcp_stdio --client NAME`` runs :func:`serve`. There is no token on stdio: the
operator who starts the process chooses the identity, a service client (client-credentials
Application). Its Caller is built by :func:`mcp_gateway.auth.bearer.service_caller`, the very
function that builds the Caller of that client's bearer tokens over HTTP, so its
``allowed_scopes`` are the scopes, the tier is "service", and ``tools/list``, ``tools/call``
refusals and audit rows (transport ``"stdio"``) match the HTTP transports exactly.

Only JSON-RPC may reach stdout: the SDK's ``stdio_server`` points fd 1 at stderr while it serves,
and :func:`route_logging_to_stderr` moves any logging handler that writes to stdout.

A client may write all its requests and close stdin at once (``printf ... | manage.py mcp_stdio``
in a CI job): every request is still answered. The SDK's run loop cancels whatever is still running
when its input ends (answering "Connection closed"), so :func:`answer_before_eof` holds the end of
input back until every request read has been answered.
"""

from __future__ import annotations

import logging
import sys
from contextlib import asynccontextmanager, suppress

import anyio
import mcp_types as types
from django.db.models import Q
from mcp.server.stdio import stdio_server
from mcp.shared.message import SessionMessage
from oauth2_provider.models import get_application_model

from ..auth.bearer import service_caller
from ..auth.identity import Caller
from ..server import build_server

__all__ = ["ServiceClientUnavailable", "answer_before_eof", "caller_for_service_client", "route_logging_to_stderr",
           "serve"]

TRANSPORT = "stdio"
#: How long answers are awaited once stdin has closed: the longest a tool runs (the index tools
#: wait up to 600 s for their job), and a margin.
ANSWER_TIMEOUT_S = 660.0


class ServiceClientUnavailable(Exception):
    """The named service client does not exist, is ambiguous or is disabled; the message says which."""


def caller_for_service_client(name: str) -> Caller:
    """The Caller of the service client named ``name`` (its name, or its client_id)."""
    Application = get_application_model()
    matches = list(
        Application.objects.filter(Q(name=name) | Q(client_id=name),
                                   authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS)[:2]
    )
    if not matches:
        raise ServiceClientUnavailable(f"No service client named {name!r} (create one with create_service_client).")
    if len(matches) > 1:
        raise ServiceClientUnavailable(f"Several service clients are named {name!r}; pass its client_id instead.")
    application = matches[0]
    if application.disabled_at is not None:
        raise ServiceClientUnavailable(f"The service client {name!r} has been disabled by an operator.")
    return service_caller(application)


def route_logging_to_stderr() -> None:
    """Point every logging handler that writes to stdout at stderr (stdout carries JSON-RPC only)."""
    loggers = [logging.getLogger()] + [logging.getLogger(n) for n in logging.root.manager.loggerDict]
    for logger in loggers:
        for handler in getattr(logger, "handlers", []):
            if isinstance(handler, logging.StreamHandler) and handler.stream is sys.stdout:
                handler.setStream(sys.stderr)


@asynccontextmanager
async def answer_before_eof(read_stream, write_stream, timeout: float = ANSWER_TIMEOUT_S):
    """The server's streams, passed through, except that the end of ``read_stream`` reaches the
    server only once every request read has been answered (or cancelled by the client with
    ``notifications/cancelled``), or ``timeout`` seconds after it, said on stderr. A request the
    server sends the client once its input has ended (sampling) is answered here with an error, as
    the client cannot answer it, so the tool that asked carries on without it.

    mcprag_client's ``bridge.py`` has its own copy of this wrapper (the client package does not
    import server code); a change here belongs there too.
    """
    running: set[types.RequestId] = set()  # ids of requests read and not yet answered
    asked: set[types.RequestId] = set()  # ids of our requests to the client, not yet answered
    idle = anyio.Event()  # set while no request is running
    idle.set()
    ended = False
    reading = anyio.CancelScope()
    to_server, server_reads = anyio.create_memory_object_stream[SessionMessage | Exception](0)
    server_writes, from_server = anyio.create_memory_object_stream[SessionMessage](0)

    def settled(request_id) -> None:
        running.discard(request_id)
        if not running:
            idle.set()

    async def unanswerable(request_id) -> None:
        error = types.ErrorData(code=types.CONNECTION_CLOSED, message="the client's input is closed")
        with suppress(anyio.ClosedResourceError, anyio.BrokenResourceError):  # the server's loop has ended
            await to_server.send(SessionMessage(types.JSONRPCError(jsonrpc="2.0", id=request_id, error=error)))

    async def relay_reads() -> None:
        nonlocal idle, ended
        with reading:
            async with read_stream, to_server:
                async for item in read_stream:
                    message = getattr(item, "message", None)
                    if isinstance(message, types.JSONRPCRequest):
                        running.add(message.id)
                        if idle.is_set():
                            idle = anyio.Event()
                    elif isinstance(message, types.JSONRPCNotification) and message.method == "notifications/cancelled":
                        settled((message.params or {}).get("requestId"))
                    elif isinstance(message, (types.JSONRPCResponse, types.JSONRPCError)):
                        asked.discard(message.id)
                    await to_server.send(item)
                ended = True
                for request_id in list(asked):
                    await unanswerable(request_id)
                with anyio.move_on_after(timeout):
                    await idle.wait()
                if running:
                    print(f"mcp_stdio: stdin closed; gave up waiting {timeout:g} s for the answers to "
                          f"{len(running)} request(s) still running, which are cancelled", file=sys.stderr, flush=True)

    async def relay_writes() -> None:
        async with write_stream, from_server:
            async for item in from_server:
                await write_stream.send(item)
                message = item.message
                if isinstance(message, (types.JSONRPCResponse, types.JSONRPCError)):
                    settled(message.id)
                elif isinstance(message, types.JSONRPCRequest):
                    asked.add(message.id)
                    if ended:
                        tg.start_soon(unanswerable, message.id)

    async with anyio.create_task_group() as tg:
        tg.start_soon(relay_reads)
        tg.start_soon(relay_writes)
        try:
            yield server_reads, server_writes
        finally:
            reading.cancel()  # the server's loop has ended (it usually has seen the end of input)
            server_writes.close()


def serve(caller: Caller) -> None:
    """Serve MCP on stdin/stdout as ``caller`` until stdin closes and every request is answered."""
    route_logging_to_stderr()
    server = build_server(default_caller=caller, transport=TRANSPORT)
    anyio.run(_run_stdio, server)


async def _run_stdio(server) -> None:
    """``MCPServer.run_stdio_async`` with :func:`answer_before_eof` between the streams and the server."""
    lowlevel = server._lowlevel_server
    async with stdio_server() as (read_stream, write_stream), answer_before_eof(read_stream, write_stream) as streams:
        await lowlevel.run(*streams, lowlevel.create_initialization_options())
