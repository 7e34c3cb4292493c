"""Bench only: the full gateway stack (the same Channels router, guard, permissions and audit) with
authentication switched off — a fixed caller instead of the bearer check — to measure what the
bearer check costs. Never deploy this module."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mcprag_site.settings")

from mcprag_site.asgi import application  # noqa: E402,F401  (the real stack, exported as is)
from mcp_gateway.auth.identity import Caller  # noqa: E402
from mcp_gateway.transports.streamable_http import mcp_asgi_app  # noqa: E402

_CALLER = Caller(user_id=None, username="bench", client_id="bench-noauth", scopes=frozenset({"code:read", "code:write"}),
                 tier="developer")


async def _fixed_caller(scope):
    return _CALLER, None  # (caller, rate-limit wait): the bench runs without rate limits


mcp_asgi_app._guard._authenticate = _fixed_caller  # the one difference from the real stack
