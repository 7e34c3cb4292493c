"""The gateway's settings, read lazily from Django settings, e.g. ``app_settings.MCP_URL``.

Only ``mcprag_site/settings.py`` reads the environment, and it gives every ``MCPRAG_*`` knob its
default; gateway modules read their knobs through :data:`app_settings` only, never
``django.conf.settings``. Each property reads the setting when asked, so a test that overrides a
setting (pytest-django's ``settings`` fixture, ``override_settings``) takes effect at once.
"""

from __future__ import annotations

from django.conf import settings

__all__ = ["app_settings"]


class _AppSettings:
    @property
    def PUBLIC_URL(self) -> str:
        """``MCPRAG_PUBLIC_URL``: the origin clients use, e.g. ``https://mcp.example.com``."""
        return settings.MCPRAG_PUBLIC_URL

    @property
    def METRICS_TOKEN(self) -> str:
        """``MCPRAG_METRICS_TOKEN``: the bearer token ``/metrics`` requires; empty: metrics are off."""
        return settings.MCPRAG_METRICS_TOKEN

    @property
    def MCP_URL(self) -> str:
        """The MCP endpoint, also the RFC 8707 resource and the JWT audience: ``<base>/mcp``."""
        return settings.MCPRAG_MCP_URL

    @property
    def ISSUER(self) -> str:
        """The authorization server's issuer identifier (RFC 8414 §2), the tokens' ``iss``."""
        return settings.MCPRAG_ISSUER

    @property
    def RESOURCE_METADATA_URL(self) -> str:
        """RFC 9728 §3.1 path-suffixed metadata URL for ``/mcp``."""
        return f"{settings.MCPRAG_PUBLIC_URL}/.well-known/oauth-protected-resource/mcp"

    @property
    def DEFAULT_SCOPES(self) -> list[str]:
        """``MCPRAG_DEFAULT_SCOPES``: the scopes a 401 challenge suggests asking for."""
        return list(settings.MCPRAG_DEFAULT_SCOPES)

    @property
    def MAX_REQUEST_BODY_BYTES(self) -> int:
        """``MCPRAG_MAX_REQUEST_BODY_BYTES``: larger POST bodies on the MCP endpoints get 413."""
        return int(settings.MCPRAG_MAX_REQUEST_BODY_BYTES)

    @property
    def AUDIT_BEFORE_ANSWER(self) -> bool:
        """Whether a ``tools/call`` on ``/mcp`` waits for its audit row's commit before answering
        (``MCPRAG_AUDIT_BEFORE_ANSWER``); by default the answer goes first and the request ends once
        the row is committed (:class:`mcp_gateway.audit.AfterAnswer`)."""
        return bool(settings.MCPRAG_AUDIT_BEFORE_ANSWER)

    @property
    def DB_PREPARED_STATEMENTS(self) -> bool:
        """``MCPRAG_DB_PREPARED_STATEMENTS``: whether the event loop's statements may be prepared on
        the PostgreSQL server (off behind a pooler that cannot keep them)."""
        return bool(settings.MCPRAG_DB_PREPARED_STATEMENTS)

    @property
    def TOKEN_CACHE_SECONDS(self) -> float:
        """How long, at most, a gateway process keeps a token's row in memory on PostgreSQL, in
        seconds (``MCPRAG_TOKEN_CACHE_SECONDS``; 0 = read the database on every call). Rows are kept
        only while the process listens for changes (:mod:`mcp_gateway.db.row_cache`)."""
        return float(settings.MCPRAG_TOKEN_CACHE_SECONDS)


app_settings = _AppSettings()
