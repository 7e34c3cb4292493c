"""Periodic authorization-server housekeeping (Celery beat; see CELERY_BEAT_SCHEDULE)."""

from __future__ import annotations

import logging

from celery import shared_task
from oauth2_provider.models import clear_expired, get_refresh_token_model

from .code_reuse import purge_expired
from .models import TokenFamilyContext

__all__ = ["clear_expired_tokens"]

logger = logging.getLogger(__name__)


@shared_task(name="oauth_app.tasks.clear_expired_tokens")
def clear_expired_tokens() -> int:
    """Delete expired access/refresh tokens and grants (DOT ``clear_expired``), used authorization
    codes past their retention (:mod:`oauth_app.code_reuse`), then the sign-in contexts of
    refresh-token families that no longer exist. Returns contexts deleted."""
    clear_expired()
    used_codes = purge_expired()
    live = get_refresh_token_model().objects.values("token_family")
    deleted, _ = TokenFamilyContext.objects.exclude(token_family__in=live).delete()
    logger.info("cleared expired tokens and grants; %d used codes; %d stale sign-in contexts", used_codes, deleted)
    return deleted
