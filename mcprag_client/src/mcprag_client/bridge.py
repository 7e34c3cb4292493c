"""``mcprag bridge https://HOST/mcp``: a stdio MCP server that relays to a remote mcprag.

For agents that can only start local stdio servers. The agent talks MCP on this process's
stdin/stdout to an SDK low-level ``Server``; its handlers for ``tools/list``, ``tools/call``,
``resources/list``, ``resources/templates/list``, ``resources/read``, ``prompts/list`` and
``prompts/get`` forward to the remote server through the SDK ``Client`` with the login stored
by ``mcprag login`` (access tokens are refreshed as needed). Each relayed request opens its own
short connection (the remote ``/mcp`` is stateless), so a failure — a revoked login, a missing
scope, the server down — becomes one error naming the problem (an ``isError`` result for a tool
call, a JSON-RPC error otherwise), and the bridge keeps serving.

It starts even when there is no login yet (or the server is down): every request is then
answered with an error saying to run ``mcprag login`` (or what is wrong), and the login is
looked up again at the next request, so logging in meanwhile needs no restart of the agent.
Only JSON-RPC goes to stdout; messages go to stderr. An agent (or a CI job) may write its requests
and close stdin at once: :func:`answer_before_eof` keeps the bridge serving until each is answered.

Agent configuration (Claude Desktop, Cursor and other stdio-only clients)::

    {"mcpServers": {"mcprag": {"command": "mcprag", "args": ["bridge", "https://mcp.example.com/mcp"]}}}
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

import anyio
import mcp_types as types
from mcp.server.lowlevel import Server
from mcp.shared.exceptions import MCPError
from mcp.server.stdio import stdio_server
from mcp.shared.message import SessionMessage

from . import __version__
from .config import ServerRegistry
from .errors import ClientError, ServerError
from .session import Remote

__all__ = ["Bridge", "answer_before_eof", "serve_bridge"]

T = TypeVar("T")
#: How long answers are awaited once stdin has closed: the longest a remote tool runs (the index
#: tools wait up to 600 s for their job), and a margin.
ANSWER_TIMEOUT_S = 660.0


class Bridge:
    """The relaying handlers for one server URL; the :class:`~mcprag_client.session.Remote` is
    made at the first request that finds a login (and kept)."""

    def __init__(self, url: str, registry: ServerRegistry, remote: Remote | None = None):
        self.url = url
        self.registry = registry
        self.remote = remote

    async def _relay(self, fn: Callable[..., Awaitable[T]]) -> T:
        """``fn(client)`` on the remote; a problem becomes :class:`ClientError` (``ServerError``
        keeps the remote's JSON-RPC error)."""
        if self.remote is None:
            self.remote = Remote(self.url, self.registry)  # NotLoggedIn until `mcprag login` ran
        return await self.remote.run(fn)

    async def _request(self, fn: Callable[..., Awaitable[T]]) -> T:
        """A relayed request other than a tool call: problems become JSON-RPC errors."""
        try:
            return await self._relay(fn)
        except ServerError as exc:
            raise exc.mcp_error from None
        except ClientError as exc:
            raise MCPError(code=types.INTERNAL_ERROR, message=f"mcprag bridge: {exc}") from None

    async def list_tools(self, ctx, params: types.PaginatedRequestParams | None) -> types.ListToolsResult:
        cursor = params.cursor if params is not None else None
        return await self._request(lambda client: client.list_tools(cursor=cursor))

    async def call_tool(self, ctx, params: types.CallToolRequestParams) -> types.CallToolResult:
        try:
            return await self._relay(lambda client: client.call_tool(params.name, params.arguments))
        except ServerError as exc:
            raise exc.mcp_error from None
        except ClientError as exc:
            return types.CallToolResult(content=[types.TextContent(type="text", text=f"mcprag bridge: {exc}")],
                                        is_error=True)

    async def list_resources(self, ctx, params: types.PaginatedRequestParams | None) -> types.ListResourcesResult:
        cursor = params.cursor if params is not None else None
        return await self._request(lambda client: client.list_resources(cursor=cursor))

    async def list_resource_templates(self, ctx, params: types.PaginatedRequestParams | None) -> types.ListResourceTemplatesResult:
        cursor = params.cursor if params is not None else None
        return await self._request(lambda client: client.list_resource_templates(cursor=cursor))

    async def read_resource(self, ctx, params: types.ReadResourceRequestParams) -> types.ReadResourceResult:
        return await self._request(lambda client: client.read_resource(str(params.uri)))

    async def list_prompts(self, ctx, params: types.PaginatedRequestParams | None) -> types.ListPromptsResult:
        cursor = params.cursor if params is not None else None
        return await self._request(lambda client: client.list_prompts(cursor=cursor))

    async def get_prompt(self, ctx, params: types.GetPromptRequestParams) -> types.GetPromptResult:
        return await self._request(lambda client: client.get_prompt(params.name, params.arguments))


@asynccontextmanager
async def answer_before_eof(read_stream, write_stream, timeout: float = ANSWER_TIMEOUT_S):
    """The bridge server's streams, passed through, except that the end of ``read_stream`` reaches
    it only once every request read has been answered (or cancelled by the agent with
    ``notifications/cancelled``), or ``timeout`` seconds after it, said on stderr. Without it the
    SDK's run loop cancels the requests still running when stdin closes ("Connection closed").

    The server's ``manage.py mcp_stdio`` has its own copy (mcp_gateway/transports/stdio.py; this
    package does not import server code), which also answers requests the server sends its client
    after stdin closed: the bridge never sends any.
    """
    running: set[types.RequestId] = set()  # ids of requests read and not yet answered
    idle = anyio.Event()  # set while no request is running
    idle.set()
    reading = anyio.CancelScope()
    to_server, server_reads = anyio.create_memory_object_stream[SessionMessage | Exception](0)
    server_writes, from_server = anyio.create_memory_object_stream[SessionMessage](0)

    def settled(request_id) -> None:
        running.discard(request_id)
        if not running:
            idle.set()

    async def relay_reads() -> None:
        nonlocal idle
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
                    await to_server.send(item)
                with anyio.move_on_after(timeout):
                    await idle.wait()
                if running:
                    print(f"mcprag bridge: stdin closed; gave up waiting {timeout:g} s for the answers to "
                          f"{len(running)} request(s) still running, which are cancelled", file=sys.stderr, flush=True)

    async def relay_writes() -> None:
        async with write_stream, from_server:
            async for item in from_server:
                await write_stream.send(item)
                if isinstance(item.message, (types.JSONRPCResponse, types.JSONRPCError)):
                    settled(item.message.id)

    async with anyio.create_task_group() as tg:
        tg.start_soon(relay_reads)
        tg.start_soon(relay_writes)
        try:
            yield server_reads, server_writes
        finally:
            reading.cancel()  # the server's loop has ended (it usually has seen the end of input)
            server_writes.close()


async def _describe_remote(bridge: Bridge) -> tuple[str | None, types.Implementation | None, str | None]:
    """The remote's instructions and identity, or the problem that prevents reaching it now."""
    async def describe(client):
        return client.instructions, client.server_info

    try:
        instructions, info = await bridge._relay(describe)
    except ClientError as exc:
        return None, None, str(exc)
    return instructions, info, None


async def serve_bridge(url: str, registry: ServerRegistry) -> None:
    """Serve stdio at once; the login and the server are checked at each relayed request."""
    bridge = Bridge(url, registry)
    instructions, info, problem = await _describe_remote(bridge)
    server = Server(
        name=info.name if info else "mcprag",
        version=__version__,
        title=(info.title if info and info.title else "mcprag") + " (via mcprag bridge)",
        instructions=instructions,
        on_list_tools=bridge.list_tools,
        on_call_tool=bridge.call_tool,
        on_list_resources=bridge.list_resources,
        on_list_resource_templates=bridge.list_resource_templates,
        on_read_resource=bridge.read_resource,
        on_list_prompts=bridge.list_prompts,
        on_get_prompt=bridge.get_prompt,
    )
    if problem:
        print(f"mcprag bridge: serving stdio for {url}, but every request will fail until this is fixed: {problem}",
              file=sys.stderr, flush=True)
    else:
        print(f"mcprag bridge: relaying stdio to {url}", file=sys.stderr, flush=True)
    async with stdio_server() as (read_stream, write_stream), answer_before_eof(read_stream, write_stream) as streams:
        await server.run(*streams, server.create_initialization_options())
