"""Bearer-token verification for the resource server — RFC 6750, RFC 9068 §4, RFC 8707 §2.

A token is accepted only if

1. it is a JWT with header ``typ: at+jwt`` signed by one of this server's published keys
   (RFC 9068 §4), with ``iss`` = this issuer, ``aud`` = this server's MCP URL ("MUST reject
   tokens that do not include them in the audience"), and an ``exp`` in the future;
2. its database row still exists (revocation and consent withdrawal are immediate; on PostgreSQL
   from the moment the change's notification reaches this process,
   :mod:`mcp_gateway.db.row_cache`), it is not a registration-management token (RFC 7592), and
   its client and person are still active.

The caller's effective scopes are the token's scopes ∩ the subject's **current** tier
(:mod:`oauth_app.effective_scopes`, the rule the consent page applies too).
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections import OrderedDict

import jwt
from django.db import close_old_connections
from django.db.models.signals import post_save
from django.dispatch import receiver
from oauth2_provider.models import get_access_token_model, get_application_model
from oauth2_provider.settings import oauth2_settings

from oauth_app.effective_scopes import person_scopes, service_client_scopes
from oauth_app.jwt_access_tokens import ACCESS_TOKEN_TYPE, sanitize_amr
from oauth_app.keys import published_keys
from oauth_app.models import SigningKey
from oauth_app.resource_indicators import is_this_resource, mcp_resource
from oauth_app.tiers import Tier

from ..app_settings import app_settings
from ..db.token_rows import LookupUnavailable, TokenRow, fetch_token_row, token_row
from ..threads import in_thread
from .identity import Caller

__all__ = ["InvalidToken", "verify_access_token", "averify_access_token", "bearer_token_from_headers",
           "service_caller", "arevoke_exposed_token"]

logger = logging.getLogger(__name__)

_KEY_CACHE_SECONDS = 60
#: A ``kid`` not in the key set re-reads it only if the set is older than this: requests with
#: made-up ``kid`` values cost at most one read per interval, and a key rotated in by another
#: process is accepted at most this long after its first token arrives.
_UNKNOWN_KID_REFRESH_SECONDS = 2.0
_keys: dict[str, object] = {}
_keys_loaded_at = float("-inf")


class InvalidToken(Exception):
    """The presented token cannot be used here; the message is the ``error_description``."""

    #: ``reason`` (a metrics label) by a word of the message; ``invalid`` otherwise.
    _REASONS = (("expired", "expired"), ("revoked", "revoked"), ("not issued for this resource", "audience"),
                ("not signed", "signature"), ("malformed", "malformed"), ("RFC 9068", "malformed"),
                ("disabled by an operator", "client_disabled"), ("account behind", "account_disabled"),
                ("registration access token", "wrong_token_type"))

    @property
    def reason(self) -> str:
        """One word for why: ``expired``, ``revoked``, ``audience``, ``signature``, ``malformed``, …"""
        message = str(self)
        return next((reason for words, reason in self._REASONS if words in message), "invalid")


def bearer_token_from_headers(headers: list[tuple[bytes, bytes]]) -> str | None:
    """The token of an ``Authorization: Bearer …`` header (RFC 6750 §2.1), or None."""
    for key, value in headers:
        if key.lower() == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
            return None
    return None


def _key_set(missing: str | None = None) -> dict[str, object]:
    """The published verification keys by ``kid``, re-read every minute, or when ``missing`` is
    not among them (a key rotated in since the last read) and the last read is more than
    ``_UNKNOWN_KID_REFRESH_SECONDS`` old."""
    global _keys, _keys_loaded_at
    age = time.monotonic() - _keys_loaded_at
    unknown = missing is not None and missing not in _keys
    if age > _KEY_CACHE_SECONDS or (unknown and age > _UNKNOWN_KID_REFRESH_SECONDS):
        _keys = {row.kid: jwt.PyJWK(row.public_jwk).key for row in published_keys()}
        _keys_loaded_at = time.monotonic()
    return _keys


@receiver(post_save, sender=SigningKey, dispatch_uid="mcp_gateway.bearer.new_signing_key")
def _forget_key_set(**kwargs) -> None:
    """A key created in this process is read on the next check, without waiting out the interval."""
    global _keys_loaded_at
    _keys_loaded_at = float("-inf")


def _public_key(kid: str):
    """The verification key for ``kid``."""
    key = _key_set(missing=kid).get(kid)
    if key is None:
        raise InvalidToken("The access token was not signed by this server.")
    return key


#: Claims of recently verified tokens, by token checksum: a token's signature is checked once per
#: process, not on every call (RS256 verification was about a third of the bearer check's CPU).
#: ``exp`` and the signing key's presence are re-checked on every hit; revocation is the
#: database's job (:mod:`mcp_gateway.db.token_rows`), never this cache's.
_VERIFIED_MAX = 4096
_verified: OrderedDict[str, tuple[dict, str]] = OrderedDict()
_verified_lock = threading.Lock()


def _remembered_claims(checksum: str) -> dict | None:
    """The claims of a token verified before, if its ``exp`` is still ahead and its signing key is
    still published; None otherwise, or when the key set is due for a re-read (which needs the
    database). Never blocks."""
    with _verified_lock:
        hit = _verified.get(checksum)
        if hit is not None:
            _verified.move_to_end(checksum)
    if hit is None or time.monotonic() - _keys_loaded_at > _KEY_CACHE_SECONDS:
        return None
    claims, kid = hit
    return claims if claims["exp"] > time.time() and kid in _keys else None


def _verify_jwt_cached(raw_token: str, checksum: str) -> dict:
    _key_set()  # re-read the published keys first if they are due
    claims = _remembered_claims(checksum)
    if claims is not None:
        return claims
    claims = _verify_jwt(raw_token)
    kid = jwt.get_unverified_header(raw_token)["kid"]
    with _verified_lock:
        _verified[checksum] = (claims, kid)
        while len(_verified) > _VERIFIED_MAX:
            _verified.popitem(last=False)
    return claims


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
            issuer=app_settings.ISSUER,
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


def _checksum(raw_token: str) -> str:
    return hashlib.sha256(raw_token.encode("utf-8", "surrogatepass")).hexdigest()


def verify_access_token(raw_token: str) -> Caller:
    """Resolve a raw bearer token to a :class:`Caller` (blocking: call it from a worker thread).

    One database round trip (:func:`mcp_gateway.db.token_rows.token_row`) after the signature check.

    :raises InvalidToken: malformed, badly signed, expired, revoked, foreign-audience or
        otherwise unusable token; the message is safe to show the client.
    """
    checksum = _checksum(raw_token)
    claims = _verify_jwt_cached(raw_token, checksum)
    return _caller_for(claims, token_row(checksum))


async def averify_access_token(raw_token: str) -> Caller:
    """:func:`verify_access_token` for the event loop, with the same checks and answers.

    A token whose signature was verified before in this process (the common case: an agent
    calling tools) is decided without leaving the event loop, its row read by
    :func:`mcp_gateway.db.token_rows.fetch_token_row`; anything else (first sight of a token, a
    key set due for a re-read, the event-loop lookup unavailable) goes to a worker thread.

    :raises InvalidToken: as :func:`verify_access_token`.
    """
    checksum = _checksum(raw_token)
    claims = _remembered_claims(checksum)
    if claims is not None:
        try:
            row = await fetch_token_row(checksum)
        except LookupUnavailable:
            pass
        else:
            return _caller_for(claims, row)
    return await in_thread(_verify_from_thread, raw_token)


def _verify_from_thread(raw_token: str) -> Caller:
    close_old_connections()
    try:
        return verify_access_token(raw_token)
    finally:
        close_old_connections()


async def arevoke_exposed_token(raw_token: str) -> bool:
    """Revoke an access token that was sent where it leaks, e.g. in a URL's query string, which
    proxies, servers and browsers write to their logs (RFC 6750 §5.3 "Don't pass bearer tokens in
    page URLs"; MCP authorization "Token Handling": MUST NOT be in the query string).

    Only a token this server signed for this resource is revoked (its row deleted, as DOT's
    ``AccessToken.revoke`` does); its refresh token is left alone, so the client can get a new
    access token. Anything else is ignored. Logs the revocation with the client and token ids,
    never the token. Blocking work runs on a worker thread.

    :returns: True when a live token was revoked.
    """
    return await in_thread(_revoke_exposed, raw_token)


def _revoke_exposed(raw_token: str) -> bool:
    close_old_connections()
    try:
        checksum = _checksum(raw_token)
        try:
            claims = _verify_jwt_cached(raw_token, checksum)
        except InvalidToken:
            return False
        token_model = get_access_token_model()
        token = token_model.objects.filter(token_checksum=checksum).only("pk").first()
        if token is None:
            return False
        token.revoke()
        logger.warning("Access token %s of client_id=%s was sent in a URL query string and has been revoked",
                       token.pk, claims.get("client_id"))
        return True
    finally:
        close_old_connections()


def _caller_for(claims: dict, row: TokenRow | None) -> Caller:
    """The decision on a token whose signature and claims are verified, from its database row."""
    if row is None:
        raise InvalidToken("The access token has been revoked.")
    if not row.live:
        raise InvalidToken("The access token has expired.")
    if mcp_resource() not in _resources(row.resource):
        raise InvalidToken("The access token was not issued for this resource.")
    scopes = set((row.scope or "").split())
    if oauth2_settings.DCR_REGISTRATION_SCOPE in scopes:
        raise InvalidToken("A registration access token cannot be used here.")
    if row.client_id is None or row.client_id != claims["client_id"]:
        raise InvalidToken("The access token is invalid.")
    if row.client_disabled:
        raise InvalidToken("This client has been disabled by an operator.")
    amr = tuple(sanitize_amr(claims.get("amr")))
    if row.user_id is None:
        if row.grant_type != get_application_model().GRANT_CLIENT_CREDENTIALS:
            raise InvalidToken("The access token has no subject.")
        return _service_caller(row.client_id, row.client_name, row.allowed_scopes, row.allowed_repositories, scopes,
                               token_id=row.token_id)
    if not row.user_active:
        raise InvalidToken("The account behind this token is disabled.")
    tier = row.tier or Tier.PUBLIC
    return Caller(
        user_id=row.user_id,
        username=row.username,
        client_id=row.client_id,
        scopes=person_scopes(scopes, tier, amr),
        tier=tier,
        token_id=row.token_id,
        amr=amr,
        groups=row.groups,
    )


def _resources(stored) -> list:
    """The token's RFC 8707 resources as stored (a JSON list, text on some backends)."""
    if isinstance(stored, (str, bytes)):
        try:
            stored = json.loads(stored)
        except ValueError:
            return []
    if isinstance(stored, str):
        return [stored]
    return list(stored) if isinstance(stored, list) else []


def service_caller(application, scopes=None, *, token_id: int | None = None) -> Caller:
    """The Caller of a service client (client credentials, or stdio as that client).

    ``scopes`` defaults to the client's ``allowed_scopes``.
    """
    return _service_caller(application.client_id, application.name, application.allowed_scopes,
                           application.allowed_repositories, scopes, token_id=token_id)


def _service_caller(client_id: str, name: str, allowed_scopes: str, allowed_repositories: str, scopes=None, *,
                    token_id: int | None = None) -> Caller:
    names = frozenset((allowed_repositories or "").split())
    return Caller(
        user_id=None,
        username=f"service:{name or client_id}",
        client_id=client_id,
        scopes=service_client_scopes(allowed_scopes, scopes),
        tier=Tier.SERVICE,
        token_id=token_id,
        repositories=names or None,
    )
