"""Bearer-token verification for the resource server — RFC 6750, RFC 9068 §4, RFC 8707 §2.

A token is accepted only if

1. it is a JWT with header ``typ: at+jwt`` signed by one of this server's published keys
   (RFC 9068 §4), with ``iss`` = this issuer, ``aud`` = this server's MCP URL ("MUST reject
   tokens that do not include them in the audience"), and an ``exp`` in the future;
2. its database row still exists (revocation and consent withdrawal are immediate), it is not a
   registration-management token (RFC 7592), and its client and person are still active.

The caller's effective scopes are the token's scopes ∩ the subject's **current** tier.
"""

from __future__ import annotations

import hashlib
import time

import jwt
from django.utils import timezone
from oauth2_provider.models import get_access_token_model
from oauth2_provider.settings import oauth2_settings

from oauth_app.jwt_access_tokens import ACCESS_TOKEN_TYPE, sanitize_amr
from oauth_app.keys import published_keys
from oauth_app.resource_indicators import is_this_resource, mcp_resource
from oauth_app.scopes import tier_of
from oauth_app.tiers import MFA_SCOPES, Tier

from .. import app_settings
from ..permissions import effective_scopes
from .identity import Caller

__all__ = ["InvalidToken", "verify_access_token", "bearer_token_from_headers", "service_caller"]

_KEY_CACHE_SECONDS = 60
_keys: dict[str, object] = {}
_keys_loaded_at = 0.0


class InvalidToken(Exception):
    """The presented token cannot be used here; the message is the ``error_description``."""


def bearer_token_from_headers(headers: list[tuple[bytes, bytes]]) -> str | None:
    """The token of an ``Authorization: Bearer …`` header (RFC 6750 §2.1), or None."""
    for key, value in headers:
        if key.lower() == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
            return None
    return None


def _public_key(kid: str):
    """The verification key for ``kid``; the key set is re-read at most every minute, or on a miss."""
    global _keys, _keys_loaded_at
    if kid not in _keys or time.monotonic() - _keys_loaded_at > _KEY_CACHE_SECONDS:
        _keys = {row.kid: jwt.PyJWK(row.public_jwk).key for row in published_keys()}
        _keys_loaded_at = time.monotonic()
    key = _keys.get(kid)
    if key is None:
        raise InvalidToken("The access token was not signed by this server.")
    return key


def _verify_jwt(raw_token: str) -> dict:
    try:
        header = jwt.get_unverified_header(raw_token)
    except jwt.InvalidTokenError:
        raise InvalidToken("The access token is malformed.") from None
    if header.get("typ") != ACCESS_TOKEN_TYPE or header.get("alg") != "RS256" or not isinstance(header.get("kid"), str):
        raise InvalidToken("The access token is not an RFC 9068 access token of this server.")
    try:
        claims = jwt.decode(
            raw_token,
            _public_key(header["kid"]),
            algorithms=["RS256"],
            issuer=app_settings.issuer(),
            options={"require": ["iss", "sub", "aud", "exp", "iat", "jti", "client_id"], "verify_aud": False},
        )
    except jwt.ExpiredSignatureError:
        raise InvalidToken("The access token has expired.") from None
    except jwt.InvalidTokenError:
        raise InvalidToken("The access token is invalid.") from None
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if not any(isinstance(a, str) and is_this_resource(a) for a in audiences):
        raise InvalidToken("The access token was not issued for this resource.")
    return claims


def verify_access_token(raw_token: str) -> Caller:
    """Resolve a raw bearer token to a :class:`Caller` (blocking: call it from a worker thread).

    :raises InvalidToken: malformed, badly signed, expired, revoked, foreign-audience or
        otherwise unusable token; the message is safe to show the client.
    """
    claims = _verify_jwt(raw_token)
    checksum = hashlib.sha256(raw_token.encode("utf-8", "surrogatepass")).hexdigest()
    token = (
        get_access_token_model()
        .objects.select_related("user", "user__mcprag_profile", "application")
        .filter(token_checksum=checksum)
        .first()
    )
    if token is None:
        raise InvalidToken("The access token has been revoked.")
    if token.expires <= timezone.now():
        raise InvalidToken("The access token has expired.")
    if mcp_resource() not in (token.resource or []):
        raise InvalidToken("The access token was not issued for this resource.")
    scopes = set((token.scope or "").split())
    if oauth2_settings.DCR_REGISTRATION_SCOPE in scopes:
        raise InvalidToken("A registration access token cannot be used here.")
    if token.application is None or token.application.client_id != claims["client_id"]:
        raise InvalidToken("The access token is invalid.")
    return _caller_for(token, scopes, claims)


def _caller_for(token, scopes: set[str], claims: dict) -> Caller:
    application = token.application
    if application.disabled_at is not None:
        raise InvalidToken("This client has been disabled by an operator.")
    user = token.user
    amr = tuple(sanitize_amr(claims.get("amr")))
    if user is None:
        if application.authorization_grant_type != application.GRANT_CLIENT_CREDENTIALS:
            raise InvalidToken("The access token has no subject.")
        return service_caller(application, scopes, token_id=token.pk)
    if not user.is_active:
        raise InvalidToken("The account behind this token is disabled.")
    tier = tier_of(user)
    granted = effective_scopes(scopes, tier)
    if "otp" not in amr:
        granted = granted - MFA_SCOPES  # admin tools need an MFA-verified sign-in (DESIGN §4)
    return Caller(
        user_id=user.pk,
        username=user.get_username(),
        client_id=application.client_id,
        scopes=granted,
        tier=tier,
        token_id=token.pk,
        amr=amr,
        groups=frozenset(user.groups.values_list("name", flat=True)),
    )


def service_caller(application, scopes=None, *, token_id: int | None = None) -> Caller:
    """The Caller of a service client (client credentials, or stdio as that client).

    ``scopes`` defaults to the client's ``allowed_scopes``.
    """
    granted = set(application.allowed_scopes.split()) if scopes is None else set(scopes)
    names = frozenset(application.allowed_repositories.split())
    return Caller(
        user_id=None,
        username=f"service:{application.name or application.client_id}",
        client_id=application.client_id,
        scopes=effective_scopes(granted & set(application.allowed_scopes.split()), Tier.SERVICE),
        tier=Tier.SERVICE,
        token_id=token_id,
        repositories=names or None,
    )
