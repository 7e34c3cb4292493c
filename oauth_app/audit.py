"""Authorization-server audit events. Only identifiers are stored — never tokens, codes, secrets."""

from __future__ import annotations

import logging

from .models import AuthEvent

__all__ = ["record", "client_ip"]

logger = logging.getLogger("mcprag.audit")


def client_ip(request) -> str | None:
    """The peer address of a Django request (``REMOTE_ADDR``; the proxy sets it in production)."""
    return (getattr(request, "META", None) or {}).get("REMOTE_ADDR") or None


def record(kind: str, *, user=None, client_id: str = "", request=None, error: str = "", **detail) -> AuthEvent:
    """Write one :class:`AuthEvent`; ``detail`` must hold identifiers only (e.g. ``jti``, ``scopes``)."""
    if user is not None and not getattr(user, "is_authenticated", False):
        user = None
    event = AuthEvent.objects.create(
        kind=kind, user=user, client_id=client_id or "", ip=client_ip(request), error=error or "", detail=detail
    )
    logger.info("auth_event kind=%s client_id=%s user_id=%s error=%s", kind, client_id, getattr(user, "pk", None), error)
    return event
