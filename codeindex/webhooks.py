"""Push webhooks: verify a delivery from GitHub, GitLab, Gitea or Forgejo, and sync on a push.

``receive(name, headers, body)`` takes a delivery's headers (case-insensitive mapping) and raw
body and returns the HTTP status and a one-line message. It is ``authenticate`` (steps 1 and 2)
then ``accept`` (steps 3 and 4); the HTTP view (``POST /hooks/git/<repository>/``) calls the two
itself, to count only authentic deliveries against a repository's rate limit. The order of
checks makes a forged or replayed delivery do nothing:

1. the repository must exist, come from git and have a webhook secret;
2. authenticity, compared in constant time (``hmac.compare_digest``) with the sealed secret:
   GitHub and Gitea/Forgejo sign the body, ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256>``
   (GitHub, also sent by Gitea and Forgejo) or ``X-Gitea-Signature``/``X-Forgejo-Signature``
   (the bare hex); GitLab sends the secret itself in ``X-Gitlab-Token``. A failure of step 1 or
   2 is one answer, ``REFUSED`` (**401**), nothing recorded: a delivery without the secret
   learns nothing about which repositories exist or have a webhook;
3. replay: the delivery id (``X-GitHub-Delivery``, ``X-Gitea-Delivery``, ``X-Forgejo-Delivery``,
   GitLab's ``Idempotency-Key`` or ``X-Gitlab-Event-UUID``; a delivery without one is keyed by the
   body's SHA-256) and the body's SHA-256 are each recorded once per repository. The id is not
   covered by the signature, so the body is what identifies a delivery: the same signed body again,
   under the same id, a new one or none, answers **200** "duplicate" and does nothing;
4. a push event (``push`` / ``Push Hook``) whose ``ref`` is ``refs/heads/<indexed branch>``
   starts a sync job at once (**202**), unless its ``after`` commit is already the indexed commit
   (**200**, ignored: a replay older than the replay window, or a push already synced, cannot start
   a job that would change nothing); any other event, branch or tag push, or a body that is not
   JSON, is answered **200** and ignored.

Deliveries are kept per repository for the console and for step 3: the newest
``KEEP_DELIVERIES``, and every one received within ``REPLAY_WINDOW``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from .exceptions import RepositoryNotFound
from .models import Repository, WebhookDelivery
from .sealed import open_sealed, seal
from .sync import start_sync

__all__ = ["receive", "authenticate", "accept", "AuthenticDelivery", "new_secret", "REFUSED", "KEEP_DELIVERIES", "REPLAY_WINDOW",
           "MAX_BODY_BYTES"]

#: The answer to a delivery for no repository, a repository without a webhook, or with a wrong or
#: missing signature or token: the same for all three.
REFUSED = (401, "signature or token missing or wrong, or no webhook at this URL")

KEEP_DELIVERIES = 50
#: A delivery received this recently is never forgotten, however many came after it, so its body
#: stays a duplicate for at least this long (GitHub redelivers a delivery for up to 3 days).
REPLAY_WINDOW = timedelta(days=3)
#: Larger bodies are refused (413) before anything else. A push too large to describe (GitHub
#: allows 25 MB) is still picked up by the next scheduled sync.
MAX_BODY_BYTES = 2 * 1024 * 1024
_PUSH_EVENTS = {"push", "push hook"}


def new_secret(name: str) -> str:
    """Give git repository ``name`` a new random webhook secret (32 bytes, URL-safe) and return it
    once; only its sealed form is stored. ``RepositoryNotFound`` when there is no such git repository."""
    repository = Repository.objects.filter(name=name).exclude(source_url="").first()
    if repository is None:
        raise RepositoryNotFound(f"no git repository named {name[:100]!r} is indexed")
    secret = secrets.token_urlsafe(32)
    repository.webhook_secret_sealed = seal(secret)
    repository.save(update_fields=["webhook_secret_sealed"])
    return secret


@dataclass(frozen=True)
class AuthenticDelivery:
    """A delivery whose signature or token matched the webhook secret of ``repository``."""

    repository: Repository
    provider: str


def receive(name: str, headers: Mapping[str, str], body: bytes) -> tuple[int, str]:
    """Handle one delivery (see the module docstring); ``(HTTP status, message)``."""
    delivery = authenticate(name, headers, body)
    return REFUSED if delivery is None else accept(delivery, headers, body)


def authenticate(name: str, headers: Mapping[str, str], body: bytes) -> AuthenticDelivery | None:
    """Steps 1 and 2: the delivery if repository ``name`` has a webhook whose secret signed
    ``body`` (or, for GitLab, was sent); None otherwise, whichever check failed."""
    repository = Repository.objects.filter(name=name).exclude(source_url="").exclude(webhook_secret_sealed="").first()
    secret = open_sealed(repository.webhook_secret_sealed) if repository else ""
    provider = _authentic(headers, body, secret) if secret else None
    return AuthenticDelivery(repository, provider) if provider else None


def accept(delivery: AuthenticDelivery, headers: Mapping[str, str], body: bytes) -> tuple[int, str]:
    """Steps 3 and 4 for an authentic delivery (``authenticate``); ``(HTTP status, message)``."""
    repository, provider = delivery.repository, delivery.provider
    event = (headers.get("X-GitHub-Event") or headers.get("X-Gitea-Event") or headers.get("X-Forgejo-Event")
             or headers.get("X-Gitlab-Event") or "").strip()[:100]
    delivery_id = (headers.get("X-GitHub-Delivery") or headers.get("X-Forgejo-Delivery") or headers.get("X-Gitea-Delivery")
                   or headers.get("Idempotency-Key") or headers.get("X-Gitlab-Event-UUID") or "").strip()[:200]
    body_sha256 = hashlib.sha256(body).hexdigest()
    delivery_id = delivery_id or "sha256:" + body_sha256
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        payload = None
    ref = str(payload.get("ref", ""))[:300] if isinstance(payload, dict) else ""
    after = str(payload.get("after") or payload.get("checkout_sha") or "")[:64] if isinstance(payload, dict) else ""
    try:
        with transaction.atomic():
            delivery = WebhookDelivery.objects.create(repository=repository, delivery_id=delivery_id, provider=provider,
                                                      event=event, ref=ref, after=after, body_sha256=body_sha256)
    except IntegrityError:  # the same id, or the same signed body: a replay
        return 200, "duplicate delivery ignored"
    status, outcome = _act(repository, event, ref, after, payload)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(outcome=outcome[:300])
    deliveries = WebhookDelivery.objects.filter(repository=repository)
    newest = list(deliveries.order_by("-received_at", "-id").values_list("pk", flat=True)[:KEEP_DELIVERIES])
    deliveries.filter(received_at__lt=timezone.now() - REPLAY_WINDOW).exclude(pk__in=newest).delete()
    return status, outcome


def _act(repository: Repository, event: str, ref: str, after: str, payload) -> tuple[int, str]:
    if event.lower() not in _PUSH_EVENTS:
        return 200, f"ignored: event {event or '(none)'!r} is not a push"
    if payload is None:
        return 200, "ignored: the body is not JSON"
    branch = repository.branch
    if not branch or ref != f"refs/heads/{branch}":
        return 200, f"ignored: {ref or 'the push'} is not the indexed branch {branch or '(not fetched yet)'}"
    if after and after == repository.indexed_commit:
        return 200, f"ignored: {after[:12]} is already the indexed commit"
    with transaction.atomic():
        job = start_sync(repository, requested_by="push webhook")
    if job is None:
        repository.refresh_from_db(fields=["sync_requested", "sync_error"])
        if repository.sync_requested:
            return 202, "a job is running; sync queued after it"
        return 200, "sync not started (see the repository's sync error)"
    return 202, f"sync job {job} started"


def _authentic(headers: Mapping[str, str], body: bytes, secret: str) -> str | None:
    """The provider whose proof in ``headers`` matches ``secret``, or None."""
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    signature = headers.get("X-Hub-Signature-256")
    if signature is not None:
        provider = "gitea" if headers.get("X-Gitea-Event") or headers.get("X-Forgejo-Event") else "github"
        return provider if hmac.compare_digest(signature.strip().encode(), f"sha256={expected}".encode()) else None
    for header, provider in (("X-Forgejo-Signature", "forgejo"), ("X-Gitea-Signature", "gitea")):
        signature = headers.get(header)
        if signature is not None:
            return provider if hmac.compare_digest(signature.strip().lower().encode(), expected.encode()) else None
    token = headers.get("X-Gitlab-Token")
    if token is not None:
        return "gitlab" if hmac.compare_digest(token.encode(), secret.encode()) else None
    return None
