"""Consent flow steps: remember, look up and withdraw a person's consent for an agent.

Remembered per (user, client, scope set, resource); a request is covered when an active consent
for the same client and resource holds every requested scope. Loopback redirect URIs always ask
again (anyone on the machine can listen on a loopback port, RFC 8252 §8.3).

A client that changes its redirect URIs (an RFC 7592 update) loses every remembered consent
(:func:`forget_client`): a person consented to send codes to the hosts the consent page named, not
to whichever host the client registers later.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from .. import audit
from ..models import AuthEvent, Consent
from ..registration import is_loopback_redirect

__all__ = ["is_covered", "remember", "deny", "withdraw", "forget_client"]


def is_covered(user, application, scopes, resource: str, redirect_uri: str) -> bool:
    """True when the consent page may be skipped for this request."""
    if is_loopback_redirect(redirect_uri or ""):
        return False
    wanted = set(scopes)
    for consent in Consent.objects.filter(user=user, application=application, resource=resource, revoked_at__isnull=True):
        if wanted <= consent.scope_set():
            return True
    return False


@transaction.atomic
def remember(user, application, scopes, resource: str, request=None) -> Consent:
    """Record a granted consent (replacing older active ones for the same client and resource)."""
    scope_text = " ".join(sorted(set(scopes)))
    Consent.objects.filter(user=user, application=application, resource=resource, revoked_at__isnull=True).exclude(
        scopes=scope_text
    ).update(revoked_at=timezone.now())
    consent, _ = Consent.objects.get_or_create(
        user=user, application=application, resource=resource, scopes=scope_text, revoked_at__isnull=True
    )
    audit.record(AuthEvent.Kind.CONSENT_GRANTED, user=user, client_id=application.client_id, request=request,
                 scopes=scope_text, resource=resource)
    return consent


def deny(user, application, scopes, request=None) -> None:
    audit.record(AuthEvent.Kind.CONSENT_DENIED, user=user, client_id=application.client_id, request=request,
                 error="access_denied", scopes=" ".join(sorted(set(scopes))))


def withdraw(user, application, request=None) -> int:
    """Revoke every active consent of ``user`` for ``application``; returns how many."""
    count = Consent.objects.filter(user=user, application=application, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    if count:
        audit.record(AuthEvent.Kind.CONSENT_REVOKED, user=user, client_id=application.client_id, request=request)
    return count


def forget_client(application, request=None, reason: str = "") -> int:
    """Revoke every person's active consent for ``application``; returns how many. Tokens already
    issued stay valid (they are bound to the client, not to a redirect URI)."""
    count = Consent.objects.filter(application=application, revoked_at__isnull=True).update(revoked_at=timezone.now())
    if count:
        audit.record(AuthEvent.Kind.CONSENT_REVOKED, client_id=application.client_id, request=request, reason=reason,
                     consents=count)
    return count
