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

    class Meta(AbstractApplication.Meta):
        swappable = "OAUTH2_PROVIDER_APPLICATION_MODEL"


class Profile(models.Model):
    """Per-person data the authorization server needs: the tier (DESIGN §5)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mcprag_profile")
    tier = models.CharField(max_length=16, choices=Tier.choices, default=Tier.PUBLIC)

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
