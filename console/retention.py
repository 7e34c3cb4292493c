"""Audit retention: delete tool-call and auth-event rows older than ``MCPRAG_AUDIT_RETENTION_DAYS``.

Run daily by Celery beat, or the server's worker thread without a broker
(``console.tasks.purge_audit``), and by hand with
``python manage.py purge_audit``. Rows are deleted in batches so a large backlog never holds one
long transaction (or lock) on the audit tables while tool calls keep writing to them.
The overview's hourly rollups of the purged hours are deleted too. Operator actions
(:class:`console.models.OperatorAction`) are few and are kept.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from mcp_gateway.models import ToolCall
from oauth_app.models import AuthEvent

from . import rollups
from .app_settings import app_settings

__all__ = ["PurgeReport", "purge_audit", "BATCH_SIZE"]

logger = logging.getLogger("mcprag.audit")

BATCH_SIZE = 5000


@dataclass(frozen=True)
class PurgeReport:
    cutoff: datetime
    tool_calls: int
    auth_events: int


def _delete_older(model, cutoff: datetime, *, dry_run: bool) -> int:
    old = model.objects.filter(at__lt=cutoff)
    if dry_run:
        return old.count()
    deleted = 0
    while True:
        batch = list(old.order_by("pk").values_list("pk", flat=True)[:BATCH_SIZE])
        if not batch:
            return deleted
        with transaction.atomic():
            deleted += model.objects.filter(pk__in=batch).delete()[0]


def purge_audit(*, days: int | None = None, now: datetime | None = None, dry_run: bool = False) -> PurgeReport:
    """Delete (or, with ``dry_run``, count) audit rows older than ``days`` (default: the setting)."""
    days = app_settings.AUDIT_RETENTION_DAYS if days is None else days
    if days < 1:
        raise ValueError("Retention must be at least one day.")
    cutoff = (now or timezone.now()) - timedelta(days=days)
    report = PurgeReport(cutoff, _delete_older(ToolCall, cutoff, dry_run=dry_run),
                         _delete_older(AuthEvent, cutoff, dry_run=dry_run))
    if not dry_run:
        rollups.purge_before(cutoff)  # the overview's hourly rollups of those calls go with them
    logger.info("audit_purge cutoff=%s tool_calls=%d auth_events=%d dry_run=%s",
                cutoff.isoformat(), report.tool_calls, report.auth_events, dry_run)
    return report
