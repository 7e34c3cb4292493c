"""Who may call which tool: the token's scopes ∩ the subject's current tier, so lowering a
person's tier takes effect on their next call, without waiting for their token to expire.

``tools/list`` and ``tools/call`` both use :func:`allowed_tools`, for every transport.
"""

from __future__ import annotations

from oauth_app.tiers import scopes_for_tier

from .registry import ToolSpec, registry

__all__ = ["effective_scopes", "allowed_tools", "may_call", "missing_scope"]


def effective_scopes(token_scopes, tier: str) -> frozenset[str]:
    """Scopes the caller really holds: granted to the token and still allowed by the tier."""
    return frozenset(token_scopes) & scopes_for_tier(tier)


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
