"""Bench only: a reference MCP server built from the ``mcp`` SDK alone — its ``MCPServer`` on
uvicorn (stateless Streamable HTTP), a ``TokenVerifier`` that checks the same RS256 JWTs against
the same published keys (signature, iss, aud, exp), and the same tool bodies — so bench/gateway.py
can compare mcprag's full stack with what the SDK gives for free."""

from __future__ import annotations

import os
from typing import Annotated

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mcprag_site.settings")
django.setup()

import jwt  # noqa: E402
from django.conf import settings  # noqa: E402
from mcp.server.auth.provider import AccessToken  # noqa: E402
from mcp.server.auth.settings import AuthSettings  # noqa: E402
from mcp.server.mcpserver import MCPServer  # noqa: E402
from mcp.server.transport_security import TransportSecuritySettings  # noqa: E402
from pydantic import Field  # noqa: E402

from codeindex import services  # noqa: E402
from mcp_gateway.errors import run_service  # noqa: E402
from mcp_gateway.health import check  # noqa: E402
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


@server.tool()
async def health_check() -> dict:
    """Same body as mcprag's health_check."""
    return (await run_service(check)).model_dump(mode="json")


@server.tool()
async def search_code(query: Annotated[str, Field()], max_results: int = 10) -> dict:
    """Same body as mcprag's search_code (without the audit row and permission middleware)."""
    hits = await run_service(services.search, query, max_results=max_results)
    fields = ("repository", "path", "start_line", "end_line", "symbol", "kind", "language", "snippet", "score")
    return {"query": query, "total": len(hits), "hits": [{f: getattr(h, f) for f in fields} for h in hits]}


app = server.streamable_http_app(
    stateless_http=True,
    transport_security=TransportSecuritySettings(allowed_hosts=["127.0.0.1:*"], allowed_origins=["http://127.0.0.1:*"]),
)
