"""``mcprag bridge https://HOST/mcp``: a stdio MCP server that relays to a remote mcprag.

For agents that can only start local stdio servers. The agent talks MCP on this process's
stdin/stdout to an SDK low-level ``Server``; its ``tools/list`` and ``tools/call`` handlers
forward to the remote server through the SDK ``Client`` with the login stored by
``mcprag login`` (access tokens are refreshed as needed). Each relayed request opens its own
short connection (the remote ``/mcp`` is stateless), so a failure — a revoked login, a missing
scope, the server down — becomes one ``isError`` result naming the problem, and the bridge
keeps serving. Only JSON-RPC goes to stdout; messages go to stderr.

Agent configuration (Claude Desktop, Cursor and other stdio-only clients)::

    {"mcpServers": {"mcprag": {"command": "mcprag", "args": ["bridge", "https://mcp.example.com/mcp"]}}}
"""

from __future__ import annotations

import sys

import mcp_types as types
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server
from mcp.shared.exceptions import MCPError

from . import __version__
from .config import ServerRegistry
from .errors import ClientError, ServerError
from .session import Remote

__all__ = ["Bridge", "serve_bridge"]


class Bridge:
    """The relaying handlers, bound to one :class:`~mcprag_client.session.Remote`."""

    def __init__(self, remote: Remote):
        self.remote = remote

    async def list_tools(self, ctx, params: types.PaginatedRequestParams | None) -> types.ListToolsResult:
        cursor = params.cursor if params is not None else None
        try:
            return await self.remote.run(lambda client: client.list_tools(cursor=cursor))
        except ServerError as exc:
            raise exc.mcp_error from None
        except ClientError as exc:
            raise MCPError(code=types.INTERNAL_ERROR, message=f"mcprag bridge: {exc}") from None

    async def call_tool(self, ctx, params: types.CallToolRequestParams) -> types.CallToolResult:
        try:
            return await self.remote.run(lambda client: client.call_tool(params.name, params.arguments))
        except ServerError as exc:
            raise exc.mcp_error from None
        except ClientError as exc:
            return types.CallToolResult(content=[types.TextContent(type="text", text=f"mcprag bridge: {exc}")],
                                        is_error=True)


async def _describe_remote(remote: Remote) -> tuple[str | None, types.Implementation | None]:
    async def describe(client):
        return client.instructions, client.server_info

    return await remote.run(describe)


async def serve_bridge(url: str, registry: ServerRegistry) -> None:
    """Check the login and the server once (failing fast with a one-line error), then serve stdio."""
    remote = Remote(url, registry)
    instructions, info = await _describe_remote(remote)
    bridge = Bridge(remote)
    server = Server(
        name=info.name if info else "mcprag",
        version=__version__,
        title=(info.title if info and info.title else "mcprag") + " (via mcprag bridge)",
        instructions=instructions,
        on_list_tools=bridge.list_tools,
        on_call_tool=bridge.call_tool,
    )
    print(f"mcprag bridge: relaying stdio to {url}", file=sys.stderr, flush=True)
    async with stdio_server() as (read_stream, write_stream):
        await server.run(read_stream, write_stream, server.create_initialization_options())
