"""``build_server()``: the single factory every transport uses (Streamable HTTP, SSE, stdio).

It registers every tool of :mod:`mcp_gateway.registry` on an SDK :class:`MCPServer` and adds one
middleware, the single place where each request's caller is resolved and each ``tools/call`` is
permitted or refused (:func:`mcp_gateway.permissions.tool_call_refusal`) and audited, so no
transport can show or run a tool the caller may not use.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from mcp_types import CallToolResult, ListToolsResult, TextContent

from mcprag_site import __version__

from . import tools as _tools  # noqa: F401  (fills the registry)
from .arguments import GatewayServer
from .audit import AFTER_ANSWER_SCOPE_KEY, submit_tool_call
from .auth.identity import TRANSPORT_SCOPE_KEY, Caller, caller_from_context, calling_as, request_scope
from .models import ToolCall
from .permissions import DECISION_SCOPE_KEY, Refusal, allowed_tools, tool_call_refusal
from .registry import register_resources_and_prompts, registry

__all__ = ["build_server"]

INSTRUCTIONS = (
    "mcprag searches this team's indexed source code. Start with search_code (plain words or "
    "identifiers); use index_status to see which repositories exist."
)


class PermissionMiddleware:
    """SDK server middleware: resolve the caller once per request and hand it to the handler
    (:func:`mcp_gateway.auth.identity.current_caller`), filter ``tools/list``, decide every
    ``tools/call`` (refused ones get an ``isError`` result, or, where the transport asked for the
    decision under ``DECISION_SCOPE_KEY``, an HTTP 403 step-up challenge), and write one audit row
    per ``tools/call`` (succeeded, failed or refused)."""

    def __init__(self, default_caller: Caller | None, transport: str):
        self.default_caller = default_caller
        self.transport = transport

    async def __call__(self, ctx, call_next) -> Any:
        caller = caller_from_context(ctx, self.default_caller)
        with calling_as(caller):
            if ctx.method == "tools/call":
                return await self._call_tool(ctx, call_next, caller)
            result = await call_next(ctx)
        if ctx.method == "tools/list":
            result = _only_allowed_tools(result, {spec.name for spec in allowed_tools(caller)})
        return result

    async def _call_tool(self, ctx, call_next, caller):
        params = ctx.params if isinstance(ctx.params, dict) else {}
        name = str(params.get("name") or "")
        scope = request_scope(ctx)
        started = time.perf_counter()
        outcome, error_class, result = ToolCall.Outcome.ERROR, "", None
        try:
            refusal = tool_call_refusal(caller, name)
            decided = scope.get(DECISION_SCOPE_KEY)
            if decided is not None:
                # Streamable HTTP: a refusal a new sign-in could lift becomes the 403 step-up challenge;
                # one the tier never allows is answered below as a tool error saying so.
                await decided(refusal if refusal is None or refusal.can_step_up else None)
            if refusal is not None:
                outcome, error_class = ToolCall.Outcome.REFUSED, "insufficient_scope"
                return refused_result(refusal)
            result = await call_next(ctx)
            is_error = bool(result.get("isError")) if isinstance(result, dict) else bool(getattr(result, "is_error", False))
            outcome = ToolCall.Outcome.ERROR if is_error else ToolCall.Outcome.OK
            error_class = "ToolError" if is_error else ""
            return result
        except BaseException as exc:
            error_class = type(exc).__name__
            raise
        finally:
            written = submit_tool_call(
                caller=caller, tool=name, transport=scope.get(TRANSPORT_SCOPE_KEY, self.transport),
                arguments=params.get("arguments"), outcome=outcome, error_class=error_class,
                duration_ms=(time.perf_counter() - started) * 1000, result_bytes=_result_size(result),
            )
            after_answer = scope.get(AFTER_ANSWER_SCOPE_KEY)
            if after_answer is not None:
                after_answer.add(written)  # the gateway waits for the commit once the answer is sent
            else:
                await asyncio.shield(written)  # a caller that goes away does not cancel the write of its row


def _only_allowed_tools(result, names: set[str]):
    """Filter a ``tools/list`` result, which the SDK hands middleware as a model or as wire JSON."""
    if isinstance(result, ListToolsResult):
        return result.model_copy(update={"tools": [t for t in result.tools if t.name in names]})
    if isinstance(result, dict) and isinstance(result.get("tools"), list):
        return {**result, "tools": [t for t in result["tools"] if isinstance(t, dict) and t.get("name") in names]}
    return result


def refused_result(refusal: Refusal) -> CallToolResult:
    """The ``isError`` result of a refused ``tools/call`` (MCP "Tools": errors the model can see)."""
    return CallToolResult(
        content=[TextContent(type="text", text=f"insufficient_scope: calling {refusal.tool} needs the {refusal.needed!r} scope."
                                               + (f" {refusal.explanation}" if refusal.explanation else ""))],
        is_error=True,
    )


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


def build_server(default_caller: Caller | None = None, transport: str = "streamable_http") -> GatewayServer:
    """A new MCP server with every registered tool.

    ``default_caller`` is the identity of a transport without HTTP requests (stdio);
    ``transport`` names it in audit rows when the request does not say.
    """
    registry.freeze()
    server = GatewayServer(
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
    return __version__
