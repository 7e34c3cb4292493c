"""Consent flow steps: remember, look up and withdraw a person's consent for an agent.

Remembered per (user, client, scope set, resource); a request is covered when an active consent
for the same client and resource holds every requested scope. Loopback redirect URIs always ask
again (anyone on the machine can listen on a loopback port, RFC 8252 §8.3).

A client that changes its redirect URIs (an RFC 7592 update) loses every remembered consent
(:func:`forget_client`): a person consented to send codes to the hosts the consent page named, not
to whichever host the client registers later.

The consent form is bound to the authorization request that rendered it
(:func:`hold_request`, :func:`take_bound_request`): the request's values are kept in the session
under a random id that the form carries, and the POST is honoured only if it posts back those
values exactly. Editing a hidden field (another ``client_id``, ``redirect_uri``, ``scope``,
``resource``, ``code_challenge``, …) gets no code and no remembered consent, and is recorded as a
refused request (``consent_form_mismatch``).
"""

from __future__ import annotations

import secrets

from django.db import transaction
from django.utils import timezone

from .. import audit
from ..models import AuthEvent, Consent
from ..registration import is_loopback_redirect

__all__ = ["is_covered", "remember", "deny", "withdraw", "forget_client", "BOUND_FIELDS", "hold_request",
           "take_bound_request"]

#: The consent form's fields that must come back exactly as rendered (``allow`` is the answer;
#: ``claims`` is ignored on POST and taken from the session).
BOUND_FIELDS = ("client_id", "redirect_uri", "response_type", "state", "scope", "resource", "code_challenge",
                "code_challenge_method", "nonce")
#: Whitespace-separated lists: compared as lists, so only the separators may differ.
_LIST_FIELDS = ("scope", "resource")
_PENDING_KEY = "mcprag_pending_authorizations"
#: Consent pages one session may have open at once (tabs, retries); the oldest is forgotten first.
MAX_PENDING = 10


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
    """The person said no: record it and withdraw any consent they had given ``application`` before,
    so it is no longer listed (or silently re-approved) as allowed. Tokens it already holds stay
    until the person revokes the agent on ``/account/agents/``."""
    audit.record(AuthEvent.Kind.CONSENT_DENIED, user=user, client_id=application.client_id, request=request,
                 error="access_denied", scopes=" ".join(sorted(set(scopes))))
    withdraw(user, application, request=request)


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


def hold_request(session, fields: dict) -> str:
    """Keep the :data:`BOUND_FIELDS` of a rendered consent page in ``session``; return its id
    (random, 32 URL-safe characters), which the form posts back as ``request_id``."""
    pending = dict(session.get(_PENDING_KEY) or {})
    request_id = secrets.token_urlsafe(24)
    pending[request_id] = {name: fields.get(name) or "" for name in BOUND_FIELDS}
    session[_PENDING_KEY] = dict(list(pending.items())[-MAX_PENDING:])
    return request_id


def take_bound_request(request, posted: dict) -> dict | None:
    """The held request a consent POST answers, if ``posted`` (the form's cleaned data) carries its
    ``request_id`` and every bound field unchanged; otherwise None, recorded as a refusal."""
    held = _take(request.session, posted.get("request_id"))
    if held is not None and _matches(held, posted):
        return held
    audit.record(AuthEvent.Kind.REFUSED, user=request.user, client_id=(held or {}).get("client_id", ""),
                 request=request, error="consent_form_mismatch")
    return None


def _take(session, request_id: str | None) -> dict | None:
    """Remove and return the request held under ``request_id``, or None (unknown, already used,
    or from another session). A form is answered once: Allow or Deny."""
    pending = dict(session.get(_PENDING_KEY) or {})
    held = pending.pop(request_id or "", None)
    if held is not None:
        session[_PENDING_KEY] = pending
    return held


def _matches(held: dict, posted: dict) -> bool:
    """True when every bound field was posted back exactly as held (lists compared item by item)."""
    for name in BOUND_FIELDS:
        want, got = held.get(name) or "", posted.get(name) or ""
        if name in _LIST_FIELDS:
            want, got = want.split(), got.split()
        if want != got:
            return False
    return True
