"""Authorization code reuse — RFC 6749 §4.1.2, https://www.rfc-editor.org/rfc/rfc6749#section-4.1.2

"The client MUST NOT use the authorization code more than once. If an authorization code is used
more than once, the authorization server MUST deny the request and SHOULD revoke (when possible)
all tokens previously issued based on that authorization code." (Also OAuth 2.1 §4.1.3 and
RFC 9700 §4.5.) A replayed code means it leaked: whoever exchanged it first may be the attacker.

DOT denies a replay (the grant row is deleted on exchange, so ``validate_code`` fails with
``invalid_grant``) but forgets which tokens the code produced. The validator
(:class:`oauth_app.validators.MCPRAGValidator`) therefore

* on a successful exchange, in ``invalidate_authorization_code``, records a
  :class:`~oauth_app.models.UsedAuthorizationCode`: the code's SHA-256 (never the code), the
  access token and the refresh-token family issued from it, kept until the code's own expiry
  plus :data:`RETENTION_MARGIN`;
* on a replay by the same client (``validate_code`` failing for a recorded code), deletes that
  access token and revokes the whole refresh-token family (every rotation of it, and their access
  tokens), records a ``code_reuse`` audit event, and still answers ``invalid_grant``.

Two exchanges of one code racing each other both pass ``validate_code``; the unique
``code_hash`` lets only the first record it, and the second revokes both its own tokens and the
first one's before answering ``invalid_grant``.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from django.db import IntegrityError, router, transaction
from django.utils import timezone
from oauth2_provider.models import get_access_token_model, get_grant_model, get_refresh_token_model

from . import audit
from .models import AuthEvent, UsedAuthorizationCode

__all__ = ["RETENTION_MARGIN", "CodeAlreadyExchanged", "code_hash", "record_exchange", "revoke_replayed",
           "revoke_issued_by_this_request", "purge_expired"]

#: How long after the code's own expiry a used code is still recognised as a replay.
RETENTION_MARGIN = timedelta(hours=1)


class CodeAlreadyExchanged(Exception):
    """The code was exchanged by another request already (or its grant is gone)."""


def code_hash(code: str) -> str:
    return hashlib.sha256(code.encode("utf-8", "surrogatepass")).hexdigest()


def record_exchange(code: str, request) -> None:
    """Remember that ``code`` was exchanged and what it produced; call before DOT deletes the grant.

    :raises CodeAlreadyExchanged: another exchange of the same code recorded it first, or the
        grant no longer exists.
    """
    expires = (get_grant_model().objects.filter(code=code, application=request.client)
               .values_list("expires", flat=True).first())
    if expires is None:
        raise CodeAlreadyExchanged
    access_token = getattr(request, "mcprag_issued_access_token", None)
    try:
        with transaction.atomic(using=router.db_for_write(UsedAuthorizationCode)):
            UsedAuthorizationCode.objects.create(
                code_hash=code_hash(code), application=request.client,
                access_token_pk=getattr(access_token, "pk", None),
                token_family=getattr(request, "mcprag_issued_token_family", None),
                expires_at=max(expires, timezone.now()) + RETENTION_MARGIN,
            )
    except IntegrityError as exc:
        raise CodeAlreadyExchanged from exc


def _revoke(access_token_pk, token_family) -> None:
    if token_family:
        get_refresh_token_model().revoke_family(token_family)
    if access_token_pk:
        get_access_token_model().objects.filter(pk=access_token_pk).delete()


def _owner(access_token_pk, token_family):
    """The person the revoked tokens belonged to, for the audit event (read before revoking)."""
    if access_token_pk:
        token = get_access_token_model().objects.filter(pk=access_token_pk).select_related("user").first()
        if token is not None and token.user is not None:
            return token.user
    if token_family:
        token = get_refresh_token_model().objects.filter(token_family=token_family).select_related("user").first()
        if token is not None:
            return token.user
    return None


def revoke_replayed(code: str, client, request, *, race: bool = False) -> bool:
    """If ``client`` exchanged ``code`` before, revoke what that exchange issued and audit it.

    Returns whether the code was a recorded, still-remembered used code of this client.
    """
    used = UsedAuthorizationCode.objects.filter(code_hash=code_hash(code), application=client,
                                                expires_at__gt=timezone.now()).first()
    if used is None:
        return False
    user = _owner(used.access_token_pk, used.token_family)
    _revoke(used.access_token_pk, used.token_family)
    audit.record(AuthEvent.Kind.CODE_REUSE, user=user, client_id=getattr(client, "client_id", ""),
                 error="invalid_grant", family=str(used.token_family or ""), concurrent=race)
    return True


def revoke_issued_by_this_request(request) -> None:
    """Undo what this (losing) exchange issued before it found the code already used."""
    access_token = getattr(request, "mcprag_issued_access_token", None)
    _revoke(getattr(access_token, "pk", None), getattr(request, "mcprag_issued_token_family", None))


def purge_expired(now=None) -> int:
    """Forget used codes past their retention (the periodic cleanup calls this)."""
    deleted, _ = UsedAuthorizationCode.objects.filter(expires_at__lte=now or timezone.now()).delete()
    return deleted
