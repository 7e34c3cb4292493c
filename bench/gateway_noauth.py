"""Bench only: the full gateway stack with authentication switched off (a fixed caller), to measure
what the bearer check costs. Never deploy this module."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mcprag_site.settings")

from mcprag_site.asgi import application as _site  # noqa: E402,F401  (sets Django up)
from mcp_gateway.auth.identity import Caller  # noqa: E402
from mcp_gateway.transports.streamable_http import StreamableHTTPGateway  # noqa: E402

_CALLER = Caller(user_id=None, username="bench", client_id="bench-noauth", scopes=frozenset({"code:read", "code:write"}),
                 tier="developer")

gateway = StreamableHTTPGateway()


async def _fixed_caller(scope):
    return _CALLER, None  # (caller, rate-limit wait): the bench runs without rate limits


gateway._guard._authenticate = _fixed_caller  # the one difference from the real stack


async def application(scope, receive, send):
    if scope["type"] == "http" and scope["path"].rstrip("/") == "/mcp":
        await gateway(scope, receive, send)
    else:
        await _site(scope, receive, send)
