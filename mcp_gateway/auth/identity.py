"""The :class:`Caller`: who is calling a tool, resolved from a verified token.

Tools receive a Caller, never a token or an HTTP request. It is resolved once per request, by the
server's permission middleware (:mod:`mcp_gateway.server`): from the ASGI scope where the HTTP
guard put it, or the server's own identity on stdio. The middleware hands it to the tool the way
the ``mcp`` SDK hands a tool its verified access token (``mcp.server.auth.middleware.auth_context``:
a context variable set around the handler), and tools read it with :func:`current_caller`.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from dataclasses import dataclass, field

__all__ = ["Caller", "CALLER_SCOPE_KEY", "TRANSPORT_SCOPE_KEY", "caller_from_context", "request_scope",
           "current_caller", "calling_as"]

#: Key under which the bearer check stores the Caller in the ASGI scope.
CALLER_SCOPE_KEY = "mcprag.caller"
#: Key naming the transport ("streamable_http", "sse") in the ASGI scope, for audit rows.
TRANSPORT_SCOPE_KEY = "mcprag.transport"


@dataclass(frozen=True)
class Caller:
    """A verified principal.

    :ivar user_id: the Django user's primary key, or None for a service client.
    :ivar username: for display and audit.
    :ivar client_id: the OAuth client (agent) the token was issued to.
    :ivar scopes: the token's scopes ∩ the subject's current tier (:mod:`oauth_app.effective_scopes`).
    :ivar tier: the subject's tier at verification time.
    :ivar token_id: database id of the access token (never the token itself).
    :ivar amr: RFC 8176 authentication methods of the sign-in behind the token, e.g. ``("pwd", "otp")``.
    :ivar groups: names of the person's Django groups (per-repository access).
    :ivar repositories: for a service client, the repository names it may see; None = no list.
    """

    user_id: int | None
    username: str
    client_id: str
    scopes: frozenset[str] = field(default_factory=frozenset)
    tier: str = "public"
    token_id: int | None = None
    amr: tuple[str, ...] = ()
    groups: frozenset[str] = field(default_factory=frozenset)
    repositories: frozenset[str] | None = None

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes


def caller_from_context(ctx, default: Caller | None = None) -> Caller | None:
    """The Caller of the MCP request ``ctx`` (an SDK ``Context`` or ``ServerRequestContext``).

    HTTP transports put it in the ASGI scope; stdio has no request and uses ``default``.
    """
    return request_scope(ctx).get(CALLER_SCOPE_KEY, default)


def request_scope(ctx) -> dict:
    """The ASGI scope of the HTTP request behind ``ctx`` ({} without one, e.g. stdio)."""
    request_context = getattr(ctx, "request_context", ctx)
    scope = getattr(getattr(request_context, "request", None), "scope", None)
    return scope if isinstance(scope, dict) else {}


_current_caller: contextvars.ContextVar[Caller | None] = contextvars.ContextVar("mcprag_caller", default=None)


def current_caller() -> Caller | None:
    """The Caller of the MCP request being handled (None outside one)."""
    return _current_caller.get()


@contextlib.contextmanager
def calling_as(caller: Caller | None) -> Iterator[None]:
    """Make ``caller`` the :func:`current_caller` of the code run inside (and of tasks it starts)."""
    token = _current_caller.set(caller)
    try:
        yield
    finally:
        _current_caller.reset(token)
