"""Who may call which tool: a tool needs its registered scope among the caller's effective scopes
(the token's scopes ∩ the subject's current tier, :mod:`oauth_app.effective_scopes`).

``tools/list`` and ``tools/call`` both use :func:`may_call`, for every transport. A ``tools/call``
is decided once, by :func:`tool_call_refusal` in the server's permission middleware
(:mod:`mcp_gateway.server`); on Streamable HTTP the gateway turns that very refusal into the
HTTP 403 ``insufficient_scope`` step-up challenge (:mod:`mcp_gateway.transports.http_guard`).
"""

from __future__ import annotations

from dataclasses import dataclass

from .registry import ToolSpec, registry

__all__ = ["Refusal", "DECISION_SCOPE_KEY", "allowed_tools", "may_call", "missing_scope", "tool_call_refusal"]

#: Key, in a request's ASGI scope, of an ``async (Refusal | None) -> None`` callable that the
#: permission middleware awaits with its decision on the request's ``tools/call``, before the tool
#: runs (the Streamable HTTP gateway's step-up challenge).
DECISION_SCOPE_KEY = "mcprag.tool_call_decision"


def may_call(caller, spec: ToolSpec) -> bool:
    return caller is not None and spec.required_scope in caller.scopes


def allowed_tools(caller) -> list[ToolSpec]:
    """The registered tools ``caller`` may list and call, in registration order."""
    return [spec for spec in registry.all() if may_call(caller, spec)]


def missing_scope(caller, tool_name: str) -> str | None:
    """The scope ``caller`` lacks to call ``tool_name``; None if allowed or the tool is unknown."""
    spec = registry.get(tool_name)
    if spec is None or may_call(caller, spec):
        return None
    return spec.required_scope


@dataclass(frozen=True)
class Refusal:
    """A ``tools/call`` beyond the caller's permissions.

    :ivar tool: the tool's name.
    :ivar needed: the scope the tool needs, e.g. ``"code:write"``.
    :ivar scope: the space-separated scopes to ask for instead (the caller's ∪ ``needed``), the
        ``scope`` of the step-up challenge (MCP authorization "Scope Challenge Handling").
    """

    tool: str
    needed: str
    scope: str


def tool_call_refusal(caller, tool_name: str) -> Refusal | None:
    """The decision on one ``tools/call``: a :class:`Refusal`, or None when ``caller`` may call
    ``tool_name`` (or the tool is unknown, which the SDK answers itself)."""
    needed = missing_scope(caller, tool_name) if tool_name else None
    if needed is None:
        return None
    return Refusal(tool=tool_name, needed=needed, scope=" ".join(sorted(set(getattr(caller, "scopes", ())) | {needed})))
