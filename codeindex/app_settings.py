"""codeindex's knobs, read lazily from Django settings (so ``override_settings`` takes effect).

Only ``mcprag_site/settings.py`` reads the environment; codeindex modules read their settings
through ``app_settings`` here, e.g. ``app_settings.MAX_FILE_BYTES``.
"""

from __future__ import annotations

from django.conf import settings

__all__ = ["app_settings"]

_DEFAULT_MAX_FILE_BYTES = 1_000_000


class _AppSettings:
    @property
    def MAX_FILE_BYTES(self) -> int:
        """Files larger than this many bytes are skipped (reason ``too_large``)."""
        return int(getattr(settings, "MCPRAG_MAX_FILE_BYTES", _DEFAULT_MAX_FILE_BYTES))


app_settings = _AppSettings()
