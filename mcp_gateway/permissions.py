"""Who may call which tool: a tool needs its registered scope among the caller's effective scopes
(the token's scopes ∩ the subject's current tier, :mod:`oauth_app.effective_scopes`).

``tools/list`` and ``tools/call`` both use :func:`allowed_tools`, for every transport.
"""

from __future__ import annotations

from .registry import ToolSpec, registry

__all__ = ["allowed_tools", "may_call", "missing_scope"]


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
