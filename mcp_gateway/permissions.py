"""Who may call which tool: a tool needs its registered scope among the caller's effective scopes
(the token's scopes ∩ the subject's current tier, :mod:`oauth_app.effective_scopes`).

``tools/list`` and ``tools/call`` both use :func:`may_call`, for every transport. A ``tools/call``
is decided once, by :func:`tool_call_refusal` in the server's permission middleware
(:mod:`mcp_gateway.server`); on Streamable HTTP the gateway turns that very refusal into the
HTTP 403 ``insufficient_scope`` step-up challenge (:mod:`mcp_gateway.transports.http_guard`).
"""

from __future__ import annotations

from dataclasses import dataclass

from oauth_app.effective_scopes import tier_scopes
from oauth_app.tiers import Tier, scopes_for_tier

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
    :ivar reason: ``""`` when signing in again with ``scope`` can get it; ``"mfa"`` when the
        caller's tier allows it only in a multi-factor sign-in; ``"tier"`` when the caller's tier
        never allows it, ``"client"`` for a service client (no step-up is offered for either: it
        would be futile).
    :ivar tier: the caller's tier.
    """

    tool: str
    needed: str
    scope: str
    reason: str = ""
    tier: str = ""

    @property
    def can_step_up(self) -> bool:
        return self.reason not in ("tier", "client")

    @property
    def explanation(self) -> str:
        """What stands in the way, after "needs the … scope" (empty when a step-up is all it takes)."""
        if self.reason == "tier":
            return f"Your tier ({self.tier}) does not allow it; ask an operator for a tier that does."
        if self.reason == "client":
            return "An operator sets which scopes this service client may use."
        if self.reason == "mfa":
            return f"Your tier ({self.tier}) allows it only in a sign-in verified with a second factor (TOTP)."
        return ""


def tool_call_refusal(caller, tool_name: str) -> Refusal | None:
    """The decision on one ``tools/call``: a :class:`Refusal`, or None when ``caller`` may call
    ``tool_name`` (or the tool is unknown, which the SDK answers itself)."""
    needed = missing_scope(caller, tool_name) if tool_name else None
    if needed is None:
        return None
    tier = getattr(caller, "tier", "")
    reason = ("client" if tier == Tier.SERVICE else "tier" if needed not in scopes_for_tier(tier) else
              "mfa" if needed not in tier_scopes(tier, getattr(caller, "amr", ())) else "")
    return Refusal(tool=tool_name, needed=needed, scope=" ".join(sorted(set(getattr(caller, "scopes", ())) | {needed})),
                   reason=reason, tier=tier)
