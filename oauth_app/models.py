"""Authorization-server models: the swapped OAuth client (Application) and the person's profile."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from oauth2_provider.models import AbstractApplication

from .tiers import Tier

__all__ = ["Application", "Profile"]


class Application(AbstractApplication):
    """An OAuth client (an MCP agent), swapped in for DOT's model.

    ``registration_metadata`` keeps the whole RFC 7591 §2 client metadata document the client
    registered with (``client_name``, ``client_uri``, ``logo_uri``, ``software_id`` …), so the
    consent page and the console can show it.
    """

    registration_metadata = models.JSONField(default=dict, blank=True)
    logo_uri = models.URLField(max_length=2000, blank=True, default="")
    client_uri = models.URLField(max_length=2000, blank=True, default="")
    allowed_scopes = models.TextField(
        blank=True, default="", help_text="Service clients only: the scopes its tokens may carry (space-separated)."
    )
    disabled_at = models.DateTimeField(null=True, blank=True, help_text="A disabled client gets no tokens and its tokens stop working.")
    allowed_repositories = models.TextField(
        blank=True, default="",
        help_text="Service clients only: names of the repositories it may see (space-separated); empty = every "
                  "repository visible to everyone.",
    )

    class Meta(AbstractApplication.Meta):
        swappable = "OAUTH2_PROVIDER_APPLICATION_MODEL"

    def redirect_uri_allowed(self, uri: str) -> bool:
        """DOT's exact comparison with the registered redirect URIs (RFC 6749 §3.1.2.3; any port
        for a loopback one, RFC 8252 §7.3), where a URI whose port or host cannot be read
        (``https://a.example:99999/cb``, ``https://[::1/cb``) is simply not allowed: DOT reads
        the port, which raises ``ValueError`` (a 500 at ``/authorize/`` from one crafted link)."""
        try:
            return super().redirect_uri_allowed(uri)
        except ValueError:
            return False

    @property
    def is_service_client(self) -> bool:
        return self.authorization_grant_type == self.GRANT_CLIENT_CREDENTIALS

    def is_usable(self, request) -> bool:
        """DOT hook: a disabled client can neither authorize nor use its tokens."""
        return self.disabled_at is None and super().is_usable(request)


class Profile(models.Model):
    """Per-person data the authorization server needs: the tier (see ``oauth_app.tiers``)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mcprag_profile")
    tier = models.CharField(max_length=16, choices=Tier.choices, default=Tier.PUBLIC)
    stytch_user_id = models.CharField(max_length=128, blank=True, default="", db_index=True)
    stytch_totp_id = models.CharField(max_length=128, blank=True, default="")
    mfa_enrolled_at = models.DateTimeField(null=True, blank=True, help_text="When TOTP enrolment was confirmed.")

    def __str__(self) -> str:
        return f"{self.user} ({self.tier})"


class SigningKey(models.Model):
    """A key that signs RFC 9068 access tokens; see :mod:`oauth_app.keys`.

    The private key is stored encrypted with a key derived from ``SECRET_KEY``. A retired key
    signs nothing new but stays published in the JWKS until the tokens it signed have expired.
    """

    kid = models.CharField(max_length=64, unique=True)
    algorithm = models.CharField(max_length=16, default="RS256")
    private_key_encrypted = models.TextField()
    public_jwk = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kid} ({'retired' if self.retired_at else 'active'})"


class Consent(models.Model):
    """A person's standing consent for an agent: (user, client, scopes, resource).

    While it is active (``revoked_at`` is null) the consent page is skipped for requests asking
    no more than ``scopes`` for ``resource`` — except for loopback redirect URIs, which always ask
    (see :mod:`oauth_app.flows.consent`).
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mcprag_consents")
    application = models.ForeignKey(settings.OAUTH2_PROVIDER_APPLICATION_MODEL, on_delete=models.CASCADE, related_name="consents")
    scopes = models.TextField(help_text="Space-separated, sorted.")
    resource = models.CharField(max_length=2000)
    granted_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-granted_at"]
        indexes = [models.Index(fields=["user", "application", "revoked_at"])]

    def scope_set(self) -> frozenset[str]:
        return frozenset(self.scopes.split())


class AuthEvent(models.Model):
    """One authorization-server event (sign-in, consent, registration, token, refusal).

    Never holds token values, codes, secrets or passwords: only identifiers (client id, user id,
    jti) and the OAuth error code.
    """

    class Kind(models.TextChoices):
        SIGN_IN = "sign_in", "Sign-in succeeded"
        SIGN_IN_FAILED = "sign_in_failed", "Sign-in failed"
        MFA_ENROLLED = "mfa_enrolled", "MFA enrolled"
        MFA_VERIFIED = "mfa_verified", "MFA code accepted"
        MFA_FAILED = "mfa_failed", "MFA code rejected"
        REGISTRATION = "registration", "Client registered"
        CONSENT_GRANTED = "consent_granted", "Consent granted"
        CONSENT_REMEMBERED = "consent_remembered", "Consent remembered"
        CONSENT_DENIED = "consent_denied", "Consent denied"
        CONSENT_REVOKED = "consent_revoked", "Consent revoked"
        TOKEN_ISSUED = "token_issued", "Token issued"
        TOKEN_REFRESHED = "token_refreshed", "Token refreshed"
        TOKEN_REVOKED = "token_revoked", "Token revoked"
        REFRESH_REUSE = "refresh_reuse", "Refresh token reuse detected"
        CODE_REUSE = "code_reuse", "Authorization code reuse detected"
        REFUSED = "refused", "Request refused"

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    kind = models.CharField(max_length=32, choices=Kind.choices)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    client_id = models.CharField(max_length=255, blank=True, default="")
    ip = models.GenericIPAddressField(null=True, blank=True)
    error = models.CharField(max_length=64, blank=True, default="")
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.kind} {self.client_id}"


class TierRule(models.Model):
    """How a new person's tier is decided: an email domain or an exact address.

    ``pattern`` is ``@example.com`` (a domain) or ``ada@example.com`` (one person). The most
    specific matching rule wins (exact address before domain); no match means ``public``.
    Rules apply when an account is created; operators change existing tiers explicitly.
    """

    pattern = models.CharField(max_length=254, unique=True)
    tier = models.CharField(max_length=16, choices=Tier.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pattern"]

    def __str__(self) -> str:
        return f"{self.pattern} → {self.tier}"


class TokenFamilyContext(models.Model):
    """How the person signed in (RFC 8176 ``amr``) for one refresh-token family.

    Token values are stored hashed only (RFC 9700 §4), so a refreshed access token takes its
    ``amr`` from here rather than from the previous token.
    """

    token_family = models.UUIDField(unique=True)
    amr = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)


class UsedAuthorizationCode(models.Model):
    """An authorization code that has been exchanged, and what was issued for it.

    RFC 6749 §4.1.2 (and OAuth 2.1 §4.1.3): "If an authorization code is used more than once, the
    authorization server MUST deny the request and SHOULD revoke (when possible) all tokens
    previously issued based on that authorization code." DOT deletes the grant on exchange, so
    this row is what lets a replay find those tokens (:mod:`oauth_app.code_reuse`).

    Only the code's SHA-256 is kept, never the code, and only until ``expires_at`` (the code's
    own expiry plus a margin); ``oauth_app.tasks.clear_expired_tokens`` deletes older rows.
    """

    code_hash = models.CharField(max_length=64, unique=True)
    application = models.ForeignKey(settings.OAUTH2_PROVIDER_APPLICATION_MODEL, on_delete=models.CASCADE,
                                    related_name="+")
    #: Primary key of the access token issued (kept as a plain id: DOT's token model is swappable
    #: by a setting this project leaves at its default, and the row is gone once revoked anyway).
    access_token_pk = models.BigIntegerField(null=True, blank=True)
    token_family = models.UUIDField(null=True, blank=True)
    expires_at = models.DateTimeField(db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
