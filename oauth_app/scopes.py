"""DOT's ``SCOPES_BACKEND_CLASS``: which scopes exist and which may be granted.

Grantable scopes are the requested scopes ∩ the scopes of the signed-in person's tier (the
table in ``oauth_app.tiers``). The consent page and the validator both ask this class.
"""

from __future__ import annotations

from django.conf import settings
from oauth2_provider.scopes import BaseScopes

from .tiers import Tier, scopes_for_tier

__all__ = ["TierScopes", "scope_labels", "tier_of"]


def tier_of(user) -> str:
    """The current tier of ``user`` (``public`` when it has no profile yet)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return Tier.PUBLIC
    profile = getattr(user, "mcprag_profile", None)
    return profile.tier if profile is not None else Tier.PUBLIC


def scope_labels(scopes) -> list[tuple[str, str]]:
    """``[(scope, plain-language label), …]`` for the consent page."""
    return [(s, settings.MCPRAG_SCOPES.get(s, s)) for s in scopes]


class TierScopes(BaseScopes):
    def get_all_scopes(self):
        return settings.MCPRAG_SCOPES

    def get_available_scopes(self, application=None, request=None, *args, **kwargs):
        if application is not None and getattr(application, "is_service_client", False):
            # Client credentials: the scopes an operator set on the service client.
            allowed = set(application.allowed_scopes.split()) & scopes_for_tier(Tier.SERVICE)
            return [s for s in settings.MCPRAG_SCOPES if s in allowed]
        user = getattr(request, "user", None)
        if user is None or not getattr(user, "is_authenticated", False):
            # Token endpoint (no person in the request): the grant already holds vetted scopes.
            return list(settings.MCPRAG_SCOPES)
        return [s for s in settings.MCPRAG_SCOPES if s in scopes_for_tier(tier_of(user))]

    def get_default_scopes(self, application=None, request=None, *args, **kwargs):
        if application is not None and getattr(application, "is_service_client", False):
            return self.get_available_scopes(application, request)
        return list(settings.MCPRAG_DEFAULT_SCOPES)
