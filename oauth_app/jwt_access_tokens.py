"""JSON Web Token (JWT) Profile for OAuth 2.0 Access Tokens — RFC 9068,
https://www.rfc-editor.org/rfc/rfc9068

DOT's ``ACCESS_TOKEN_GENERATOR``. Each access token is a JWT signed with the active key of
:mod:`oauth_app.keys`, with header ``typ: at+jwt`` (RFC 9068 §2.1) and the claims of §2.2:
``iss``, ``sub``, ``aud`` (the one resource the request was bound to, RFC 8707: this server's MCP
URL unless the client asked for the operator API), ``client_id``, ``scope``,
``exp``, ``iat``, ``jti``. DOT still stores the token row (by checksum), so revocation is
immediate wherever the row is checked.

Example claims::

    {"iss": "https://mcp.example.com", "sub": "42", "aud": "https://mcp.example.com/mcp",
     "client_id": "Xy…", "scope": "code:read", "iat": 1764403200, "exp": 1764406800, "jti": "…"}
"""

from __future__ import annotations

import time
import uuid

import jwt
from .app_settings import app_settings
from .keys import active_key
from .resource_indicators import known_resource, mcp_resource

__all__ = ["generate_access_token", "ACCESS_TOKEN_TYPE", "sanitize_amr", "issued_amr"]

ACCESS_TOKEN_TYPE = "at+jwt"
#: RFC 8176 authentication method references mcprag issues ("email" marks a magic link, "sso" an
#: OpenID Connect sign-in, "mfa" one whose provider claimed a multi-factor method mcprag trusts).
KNOWN_AMR = ("pwd", "email", "sso", "otp", "mfa")


def sanitize_amr(values) -> list[str]:
    """Known ``amr`` values only, in a stable order."""
    values = values if isinstance(values, list) else []
    return [v for v in KNOWN_AMR if v in values]


def _amr(request) -> list[str]:
    """The sign-in methods the validator found: the grant's (code exchange) or the token family's (refresh)."""
    return list(getattr(request, "mcprag_amr", None) or [])


def subject_of(request) -> str:
    """``sub``: the person's id, or the client id for a client-credentials token (RFC 9068 §2.2)."""
    user = getattr(request, "user", None)
    if user is not None and getattr(user, "pk", None) is not None:
        return str(user.pk)
    return request.client_id or request.client.client_id


def _audience(request) -> str:
    """The request's resource (set and checked by ``require_this_resource``), else the MCP URL."""
    resources = getattr(request, "resource", None) or []
    named = [known_resource(r) for r in (resources if isinstance(resources, list) else [resources])]
    return named[0] if len(named) == 1 and named[0] else mcp_resource()


def generate_access_token(request) -> str:
    """oauthlib token generator: ``request`` is an oauthlib request after grant validation."""
    key = active_key()
    now = int(time.time())
    claims = {
        "iss": app_settings.ISSUER,
        "sub": subject_of(request),
        "aud": _audience(request),
        "client_id": request.client.client_id,
        "scope": " ".join(request.scopes or []),
        "iat": now,
        "exp": now + int(request.expires_in),
        "jti": uuid.uuid4().hex,
    }
    amr = _amr(request) if getattr(request, "user", None) is not None else []
    if amr:
        claims["amr"] = amr
    return jwt.encode(claims, key.private_pem, algorithm=key.algorithm, headers={"kid": key.kid, "typ": ACCESS_TOKEN_TYPE})


def issued_amr(raw_token: str) -> list[str]:
    """The sign-in methods (``amr``) of an access token this server issued, e.g. ``["pwd", "otp"]``.

    Call it only for a token whose row was found by its checksum (DOT's bearer check, the gateway's
    row lookup): that proves this server issued exactly this string, so its signature is not
    checked again here. Unknown values are dropped (:func:`sanitize_amr`)."""
    try:
        claims = jwt.decode(raw_token, options={"verify_signature": False})
    except jwt.InvalidTokenError:
        return []
    return sanitize_amr(claims.get("amr"))
