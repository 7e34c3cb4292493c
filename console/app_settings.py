"""Console settings, read lazily from Django settings (only mcprag_site.settings reads the environment)."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

__all__ = ["audit_retention_days", "DEFAULT_AUDIT_RETENTION_DAYS"]

DEFAULT_AUDIT_RETENTION_DAYS = 90


def audit_retention_days() -> int:
    """``MCPRAG_AUDIT_RETENTION_DAYS``: tool-call and auth-event rows older than this are purged."""
    days = getattr(settings, "MCPRAG_AUDIT_RETENTION_DAYS", DEFAULT_AUDIT_RETENTION_DAYS)
    if not isinstance(days, int) or isinstance(days, bool) or days < 1:
        raise ImproperlyConfigured(f"MCPRAG_AUDIT_RETENTION_DAYS must be a whole number of days ≥ 1, got {days!r}.")
    return days
