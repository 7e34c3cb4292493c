"""Bearer-token verification for the resource server — RFC 6750, RFC 8707 §2, MCP authorization.

A token is accepted only if it is a live access-token row of this server (revocation is
immediate), is not expired, names this server's MCP URL as its audience (tokens without an
audience are refused: "MUST reject tokens that do not include them in the audience"), is not a
registration-management token (RFC 7592), and its client and person are still active.
"""

from __future__ import annotations

import hashlib

from django.utils import timezone
from oauth2_provider.models import get_access_token_model
from oauth2_provider.settings import oauth2_settings

from oauth_app.resource_indicators import is_this_resource
from oauth_app.scopes import tier_of
from oauth_app.tiers import Tier

from ..permissions import effective_scopes
from .identity import Caller

__all__ = ["InvalidToken", "verify_access_token", "bearer_token_from_headers"]


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


def verify_access_token(raw_token: str) -> Caller:
    """Resolve a raw bearer token to a :class:`Caller` (blocking: call it from a worker thread).

    :raises InvalidToken: unknown, revoked, expired, foreign-audience or otherwise unusable token.
    """
    AccessToken = get_access_token_model()
    checksum = hashlib.sha256(raw_token.encode("utf-8", "surrogatepass")).hexdigest()
    token = (
        AccessToken.objects.select_related("user", "application")
        .filter(token_checksum=checksum)
        .first()
    )
    if token is None:
        raise InvalidToken("The access token is unknown or has been revoked.")
    if token.expires <= timezone.now():
        raise InvalidToken("The access token has expired.")
    if not any(is_this_resource(r) for r in (token.resource or [])):
        # RFC 8707 §2 / MCP "Token Audience Binding": only tokens issued for this resource.
        raise InvalidToken("The access token was not issued for this resource.")
    scopes = set((token.scope or "").split())
    if oauth2_settings.DCR_REGISTRATION_SCOPE in scopes:
        raise InvalidToken("A registration access token cannot be used here.")
    return _caller_for(token, scopes)


def _caller_for(token, scopes: set[str]) -> Caller:
    application = token.application
    if application is None:
        raise InvalidToken("The access token has no client.")
    user = token.user
    if user is None:
        if application.authorization_grant_type != application.GRANT_CLIENT_CREDENTIALS:
            raise InvalidToken("The access token has no subject.")
        tier, user_id, username = Tier.SERVICE, None, f"service:{application.name or application.client_id}"
    else:
        if not user.is_active:
            raise InvalidToken("The account behind this token is disabled.")
        tier, user_id, username = tier_of(user), user.pk, user.get_username()
    return Caller(
        user_id=user_id,
        username=username,
        client_id=application.client_id,
        scopes=effective_scopes(scopes, tier),
        tier=tier,
        token_id=token.pk,
    )
