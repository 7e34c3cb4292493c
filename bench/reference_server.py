"""Bench only: a reference MCP server built from the ``mcp`` SDK alone — its ``MCPServer`` on
uvicorn (stateless Streamable HTTP), a ``TokenVerifier`` that checks the same RS256 JWTs against
the same published keys (signature, iss, aud, exp), and the same tool functions
(``mcp_gateway.tools.search``) — so bench/gateway.py
can compare mcprag's full stack with what the SDK gives for free."""

from __future__ import annotations

import os
import functools

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mcprag_site.settings")
django.setup()

import jwt  # noqa: E402
from django.conf import settings  # noqa: E402
from mcp.server.auth.middleware.auth_context import get_access_token  # noqa: E402
from mcp.server.auth.provider import AccessToken  # noqa: E402
from mcp.server.auth.settings import AuthSettings  # noqa: E402
from mcp.server.mcpserver import MCPServer  # noqa: E402
from mcp.server.transport_security import TransportSecuritySettings  # noqa: E402

from mcp_gateway.auth.identity import Caller, calling_as  # noqa: E402
from mcp_gateway.tools import search as search_tools  # noqa: E402
from oauth_app.keys import published_keys  # noqa: E402

_KEYS = {row.kid: jwt.PyJWK(row.public_jwk).key for row in published_keys()}


class JWTVerifier:
    async def verify_token(self, token: str) -> AccessToken | None:
        try:
            kid = jwt.get_unverified_header(token)["kid"]
            claims = jwt.decode(token, _KEYS[kid], algorithms=["RS256"], audience=settings.MCPRAG_MCP_URL,
                                issuer=settings.MCPRAG_ISSUER)
        except (jwt.InvalidTokenError, KeyError):
            return None
        return AccessToken(token=token, client_id=claims["client_id"], scopes=claims["scope"].split(),
                           expires_at=claims["exp"], resource=claims["aud"], subject=claims["sub"], claims=claims)


server = MCPServer(
    name="reference", token_verifier=JWTVerifier(),
    auth=AuthSettings(issuer_url=settings.MCPRAG_ISSUER, resource_server_url=settings.MCPRAG_MCP_URL,
                      required_scopes=["code:read"], validate_token_resource=True),
)


def _same_body(fn):
    """Register mcprag's own tool function: the SDK's verified token becomes the Caller the body
    reads (scopes as granted, no tier or revocation lookup: that is what the SDK alone offers)."""

    @functools.wraps(fn)
    async def run(*args, **kwargs):
        token = get_access_token()  # the SDK's own hand-over of the verified token to a tool
        with calling_as(Caller(user_id=int(token.subject), username="reference", client_id=token.client_id,
                               scopes=frozenset(token.scopes), tier="developer")):
            return await fn(*args, **kwargs)

    return run


for _fn in (search_tools.health_check, search_tools.search_code):
    server.add_tool(_same_body(_fn), name=_fn.__name__)


app = server.streamable_http_app(
    stateless_http=True,
    transport_security=TransportSecuritySettings(allowed_hosts=["127.0.0.1:*"], allowed_origins=["http://127.0.0.1:*"]),
)
