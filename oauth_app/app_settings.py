"""The authorization server's settings, read lazily from Django settings, e.g.
``app_settings.ISSUER``.

Only ``mcprag_site/settings.py`` reads the environment, and it gives every ``MCPRAG_*`` knob its
default; oauth_app modules read their knobs through :data:`app_settings` only. Each property reads
the setting when asked, so a test that overrides a setting takes effect at once. DOT's own
settings stay in ``OAUTH2_PROVIDER`` (``oauth2_provider.settings.oauth2_settings``).
"""

from __future__ import annotations

from django.conf import settings

__all__ = ["app_settings"]


class _AppSettings:
    @property
    def ISSUER(self) -> str:
        """This authorization server's issuer identifier (RFC 8414 §2): ``MCPRAG_PUBLIC_URL``."""
        return settings.MCPRAG_ISSUER

    @property
    def MCP_URL(self) -> str:
        """``MCPRAG_MCP_URL``: this server's MCP endpoint, ``<MCPRAG_PUBLIC_URL>/mcp`` (the RFC 8707
        resource every token is bound to)."""
        return settings.MCPRAG_MCP_URL

    @property
    def API_URL(self) -> str:
        """``MCPRAG_API_URL``: the operator API, ``<MCPRAG_PUBLIC_URL>/api`` (the RFC 8707 resource an
        API token is bound to)."""
        return settings.MCPRAG_API_URL

    @property
    def SCOPES(self) -> dict[str, str]:
        """``MCPRAG_SCOPES``: every scope, in display order, with its plain-language label."""
        return settings.MCPRAG_SCOPES

    @property
    def DEFAULT_SCOPES(self) -> list[str]:
        """``MCPRAG_DEFAULT_SCOPES``: granted when a client asks for none."""
        return list(settings.MCPRAG_DEFAULT_SCOPES)

    @property
    def PRIVATE_URI_SCHEMES(self) -> list[str]:
        """``MCPRAG_PRIVATE_URI_SCHEMES``: RFC 8252 §7.1 schemes dynamic registration accepts."""
        return list(settings.MCPRAG_PRIVATE_URI_SCHEMES)

    @property
    def RATE_LIMITS(self) -> dict[str, tuple[int, int]]:
        """``MCPRAG_RATE_LIMITS``: action → (most requests, window in seconds)."""
        return settings.MCPRAG_RATE_LIMITS

    @property
    def ADMIN_EMAILS(self) -> list[str]:
        """``MCPRAG_ADMIN_EMAILS``: addresses whose people start in the admin tier."""
        return settings.MCPRAG_ADMIN_EMAILS

    @property
    def DEVELOPER_DOMAINS(self) -> list[str]:
        """``MCPRAG_DEVELOPER_DOMAINS``: email domains whose people start in the developer tier."""
        return settings.MCPRAG_DEVELOPER_DOMAINS

    @property
    def STYTCH_ENABLED(self) -> bool:
        """Whether sign-in uses Stytch email magic links (``STYTCH_PROJECT_ID`` and ``STYTCH_SECRET`` set)."""
        return bool(settings.MCPRAG_STYTCH_ENABLED)

    @property
    def OIDC(self) -> dict:
        """``MCPRAG_OIDC_*``: single sign-on (``ISSUER``, ``CLIENT_ID``, ``CLIENT_SECRET``, ``SCOPES``,
        ``NAME``, ``RULES``, ``MFA_AMR``, ``TRUST_EMAIL``); empty when not configured."""
        return dict(getattr(settings, "MCPRAG_OIDC", {}) or {})

    @property
    def OIDC_ENABLED(self) -> bool:
        """Whether OpenID Connect single sign-on is configured."""
        return bool(self.OIDC)

    @property
    def STYTCH_OAUTH_PROVIDERS(self) -> list[dict]:
        """``MCPRAG_STYTCH_OAUTH``: the Stytch OAuth providers offered beside magic links, as
        ``{"slug", "label"}`` (e.g. ``google``, ``github``, ``microsoft``); empty: magic links only."""
        return list(getattr(settings, "MCPRAG_STYTCH_OAUTH_PROVIDERS", []) or [])

    @property
    def PASSWORD_RESET(self) -> bool:
        """``MCPRAG_PASSWORD_RESET``: whether password-reset links can be sent (``EMAIL_HOST`` set,
        or a loopback development URL whose console email backend prints them)."""
        return bool(settings.MCPRAG_PASSWORD_RESET)

    @property
    def MAGIC_LINK_MINUTES(self) -> int:
        """``MCPRAG_MAGIC_LINK_MINUTES``: how long a magic link works."""
        return int(settings.MCPRAG_MAGIC_LINK_MINUTES)


app_settings = _AppSettings()
