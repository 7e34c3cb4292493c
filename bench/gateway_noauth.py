"""Bench only: the full gateway stack (the same Channels router, guard, permissions and audit) with
the per-call bearer check switched off, to measure what that check costs. Never deploy this module.

Each token is verified once, through the real check, and its Caller is then reused for every later
call that presents it: the tool calls run as the same person and client as on the real stack (so
the audit rows are the same, person and all), only without the per-call signature, row and
revocation check.
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mcprag_site.settings")

from mcprag_site.asgi import application  # noqa: E402,F401  (the real stack, exported as is)
from mcp_gateway.auth.bearer import bearer_token_from_headers  # noqa: E402
from mcp_gateway.transports.streamable_http import mcp_asgi_app  # noqa: E402

_real_authenticate = mcp_asgi_app._guard._authenticate
_callers: dict = {}


async def _remembered_caller(scope):
    token = bearer_token_from_headers(scope.get("headers", []))
    caller = _callers.get(token)
    if caller is None:
        caller, _ = await _real_authenticate(scope)  # a refusal answers as on the real stack
        _callers[token] = caller
    return caller, None  # (caller, rate-limit wait): the bench runs without rate limits


mcp_asgi_app._guard._authenticate = _remembered_caller  # the one difference from the real stack
