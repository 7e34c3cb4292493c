"""The console's settings, read lazily from Django settings, e.g. ``app_settings.AUDIT_RETENTION_DAYS``.

Only ``mcprag_site/settings.py`` reads the environment, and it gives every ``MCPRAG_*`` knob its
default; console modules read their knobs through :data:`app_settings` only. Each property reads
the setting when asked, so a test that overrides a setting takes effect at once.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

__all__ = ["app_settings"]


class _AppSettings:
    @property
    def AUDIT_RETENTION_DAYS(self) -> int:
        """``MCPRAG_AUDIT_RETENTION_DAYS``: tool-call and auth-event rows older than this are purged.

        :raises ImproperlyConfigured: not a whole number of days ≥ 1.
        """
        days = settings.MCPRAG_AUDIT_RETENTION_DAYS
        if not isinstance(days, int) or isinstance(days, bool) or days < 1:
            raise ImproperlyConfigured(f"MCPRAG_AUDIT_RETENTION_DAYS must be a whole number of days ≥ 1, got {days!r}.")
        return days

    @property
    def CONSOLE_REQUIRE_MFA(self) -> bool:
        """``MCPRAG_CONSOLE_REQUIRE_MFA``: operators must verify a TOTP code before using the console."""
        return bool(settings.MCPRAG_CONSOLE_REQUIRE_MFA)


app_settings = _AppSettings()
