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
Only JSON-RPC goes to stdout; messages go to stderr.

Agent configuration (Claude Desktop, Cursor and other stdio-only clients)::

    {"mcpServers": {"mcprag": {"command": "mcprag", "args": ["bridge", "https://mcp.example.com/mcp"]}}}
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar

import mcp_types as types
from mcp.server.lowlevel import Server
from mcp.shared.exceptions import MCPError
from mcp.server.stdio import stdio_server

from . import __version__
from .config import ServerRegistry
from .errors import ClientError, ServerError
from .session import Remote

__all__ = ["Bridge", "serve_bridge"]

T = TypeVar("T")


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
    async with stdio_server() as (read_stream, write_stream):
        await server.run(read_stream, write_stream, server.create_initialization_options())
