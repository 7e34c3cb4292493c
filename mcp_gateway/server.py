"""``build_server()``: the single factory every transport uses (Streamable HTTP, SSE, stdio).

It registers every tool of :mod:`mcp_gateway.registry` on an SDK :class:`MCPServer` and adds one
middleware that applies :mod:`mcp_gateway.permissions` to ``tools/list`` and ``tools/call``, so
no transport can show or run a tool the caller may not use.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp_types import CallToolResult, ListToolsResult, TextContent

from . import tools as _tools  # noqa: F401  (fills the registry)
from .audit import AFTER_ANSWER_SCOPE_KEY, submit_tool_call
from .auth.identity import TRANSPORT_SCOPE_KEY, Caller, caller_from_context, request_scope
from .errors import plain_argument_error
from .models import ToolCall
from .permissions import allowed_tools, missing_scope
from .registry import register_resources_and_prompts, registry

__all__ = ["build_server"]

INSTRUCTIONS = (
    "mcprag searches this team's indexed source code. Start with search_code (plain words or "
    "identifiers); use index_status to see which repositories exist."
)


class PermissionMiddleware:
    """SDK server middleware: filter ``tools/list``, refuse ``tools/call`` beyond permissions, and
    write one audit row per ``tools/call`` (succeeded, failed or refused)."""

    def __init__(self, default_caller: Caller | None, transport: str):
        self.default_caller = default_caller
        self.transport = transport

    async def __call__(self, ctx, call_next) -> Any:
        caller = caller_from_context(ctx, self.default_caller)
        if ctx.method == "tools/call":
            return await self._call_tool(ctx, call_next, caller)
        result = await call_next(ctx)
        if ctx.method == "tools/list":
            result = _only_allowed_tools(result, {spec.name for spec in allowed_tools(caller)})
        return result

    async def _call_tool(self, ctx, call_next, caller):
        params = ctx.params if isinstance(ctx.params, dict) else {}
        name = str(params.get("name") or "")
        transport = transport_of(ctx, self.transport)
        started = time.perf_counter()
        outcome, error_class, result = ToolCall.Outcome.ERROR, "", None
        try:
            needed = missing_scope(caller, name) if name else None
            if needed:
                outcome, error_class = ToolCall.Outcome.REFUSED, "insufficient_scope"
                return refused_result(name, needed)
            result = await call_next(ctx)
            is_error = bool(result.get("isError")) if isinstance(result, dict) else bool(getattr(result, "is_error", False))
            outcome = ToolCall.Outcome.ERROR if is_error else ToolCall.Outcome.OK
            error_class = "ToolError" if is_error else ""
            return _plain_errors(result) if is_error else result
        except BaseException as exc:
            error_class = type(exc).__name__
            raise
        finally:
            written = submit_tool_call(
                caller=caller, tool=name, transport=transport, arguments=params.get("arguments"), outcome=outcome,
                error_class=error_class, duration_ms=(time.perf_counter() - started) * 1000,
                result_bytes=_result_size(result),
            )
            after_answer = request_scope(ctx).get(AFTER_ANSWER_SCOPE_KEY)
            if after_answer is not None:
                after_answer.add(written)  # the gateway waits for the commit once the answer is sent
            else:
                await asyncio.shield(written)  # a caller that goes away does not cancel the write of its row


def _plain_errors(result):
    """An argument-validation error in plain words, without pydantic's type tags and URL."""
    if isinstance(result, CallToolResult) and result.content and isinstance(result.content[0], TextContent):
        plain = plain_argument_error(result.content[0].text)
        if plain is not None:
            return result.model_copy(update={"content": [TextContent(type="text", text=plain)]})
    if isinstance(result, dict) and isinstance(result.get("content"), list) and result["content"]:
        first = result["content"][0]
        plain = plain_argument_error(first.get("text", "")) if isinstance(first, dict) else None
        if plain is not None:
            return {**result, "content": [{"type": "text", "text": plain}]}
    return result


def _only_allowed_tools(result, names: set[str]):
    """Filter a ``tools/list`` result, which the SDK hands middleware as a model or as wire JSON."""
    if isinstance(result, ListToolsResult):
        return result.model_copy(update={"tools": [t for t in result.tools if t.name in names]})
    if isinstance(result, dict) and isinstance(result.get("tools"), list):
        return {**result, "tools": [t for t in result["tools"] if isinstance(t, dict) and t.get("name") in names]}
    return result


def refused_result(name: str, needed: str) -> CallToolResult:
    return CallToolResult(
        content=[TextContent(type="text", text=f"insufficient_scope: calling {name} needs the {needed!r} scope.")],
        is_error=True,
    )


def transport_of(ctx, default: str) -> str:
    return request_scope(ctx).get(TRANSPORT_SCOPE_KEY, default)


def _result_size(result) -> int:
    """Size in bytes of the result's JSON (0 when there is none)."""
    try:
        if isinstance(result, dict):
            return len(json.dumps(result, separators=(",", ":"), default=str))
        if hasattr(result, "model_dump_json"):
            return len(result.model_dump_json(by_alias=True, exclude_none=True))
    except (TypeError, ValueError):
        pass
    return 0


def build_server(default_caller: Caller | None = None, transport: str = "streamable_http") -> MCPServer:
    """A new MCP server with every registered tool.

    ``default_caller`` is the identity of a transport without HTTP requests (stdio);
    ``transport`` names it in audit rows when the request does not say.
    """
    registry.freeze()
    server = MCPServer(
        name="mcprag",
        title="mcprag code search",
        instructions=INSTRUCTIONS,
        version=_version(),
        middleware=[PermissionMiddleware(default_caller, transport)],
    )
    for spec in registry.all():
        server.add_tool(spec.fn, name=spec.name, title=spec.title, annotations=spec.annotations)
    register_resources_and_prompts(server)  # repo://NAME/PATH resources and the prompts, on every transport
    return server


def _version() -> str:
    from mcprag_site import __version__

    return __version__
