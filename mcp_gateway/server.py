"""``build_server()``: the single factory every transport uses (Streamable HTTP, SSE, stdio).

It registers every tool of :mod:`mcp_gateway.registry` on an SDK :class:`MCPServer` and adds one
middleware that applies :mod:`mcp_gateway.permissions` to ``tools/list`` and ``tools/call``, so
no transport can show or run a tool the caller may not use.
"""

from __future__ import annotations

from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp_types import CallToolResult, ListToolsResult, TextContent

from . import tools as _tools  # noqa: F401  (fills the registry)
from .auth.identity import Caller, caller_from_context
from .permissions import allowed_tools, missing_scope
from .registry import registry

__all__ = ["build_server"]

INSTRUCTIONS = (
    "mcprag searches this team's indexed source code. Start with search_code (plain words or "
    "identifiers); use index_status to see which repositories exist."
)


class PermissionMiddleware:
    """SDK server middleware: filter ``tools/list`` and refuse ``tools/call`` beyond permissions."""

    def __init__(self, default_caller: Caller | None):
        self.default_caller = default_caller

    async def __call__(self, ctx, call_next) -> Any:
        caller = caller_from_context(ctx, self.default_caller)
        if ctx.method == "tools/call":
            name = (ctx.params or {}).get("name") if isinstance(ctx.params, dict) else None
            needed = missing_scope(caller, name) if name else None
            if needed:
                return CallToolResult(
                    content=[TextContent(type="text", text=f"insufficient_scope: calling {name} needs the {needed!r} scope.")],
                    is_error=True,
                )
        result = await call_next(ctx)
        if ctx.method == "tools/list" and isinstance(result, ListToolsResult):
            names = {spec.name for spec in allowed_tools(caller)}
            result = result.model_copy(update={"tools": [t for t in result.tools if t.name in names]})
        return result


def build_server(default_caller: Caller | None = None) -> MCPServer:
    """A new MCP server with every registered tool. ``default_caller`` serves stdio (no HTTP)."""
    registry.freeze()
    server = MCPServer(
        name="mcprag",
        title="mcprag code search",
        instructions=INSTRUCTIONS,
        version=_version(),
        middleware=[PermissionMiddleware(default_caller)],
    )
    for spec in registry.all():
        server.add_tool(spec.fn, name=spec.name, title=spec.title, annotations=spec.annotations)
    return server


def _version() -> str:
    from mcprag_site import __version__

    return __version__
