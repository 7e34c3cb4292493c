"""DOT's ``SCOPES_BACKEND_CLASS``: which scopes exist and which may be granted.

Grantable scopes are the requested scopes ∩ the scopes of the signed-in person's tier
(:mod:`oauth_app.tiers`), plus the operator scope ``console:admin`` for an active staff account;
a service client's are its own (:mod:`oauth_app.effective_scopes`). The
consent page and the validator both ask this class.
"""

from __future__ import annotations

from oauth2_provider.scopes import BaseScopes

from .app_settings import app_settings
from .effective_scopes import is_staff, service_client_scopes
from .tiers import STAFF_SCOPES, Tier, scopes_for_person

__all__ = ["TierScopes", "scope_labels", "tier_of"]


def tier_of(user) -> str:
    """The current tier of ``user`` (``public`` when it has no profile yet)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return Tier.PUBLIC
    profile = getattr(user, "mcprag_profile", None)
    return profile.tier if profile is not None else Tier.PUBLIC


def scope_labels(scopes) -> list[tuple[str, str]]:
    """``[(scope, plain-language label), …]`` for the consent page."""
    return [(s, app_settings.SCOPES.get(s, s)) for s in scopes]


class TierScopes(BaseScopes):
    def get_all_scopes(self):
        return app_settings.SCOPES

    def get_available_scopes(self, application=None, request=None, *args, **kwargs):
        if application is not None and getattr(application, "is_service_client", False):
            # Client credentials: the scopes an operator set on the service client.
            allowed = service_client_scopes(application.allowed_scopes)
            return [s for s in app_settings.SCOPES if s in allowed]
        user = getattr(request, "user", None)
        if user is None or not getattr(user, "is_authenticated", False):
            # Token endpoint (no person in the request): the grant already holds vetted scopes.
            return list(app_settings.SCOPES)
        allowed = scopes_for_person(tier_of(user)) | (STAFF_SCOPES if is_staff(user) else frozenset())
        return [s for s in app_settings.SCOPES if s in allowed]

    def get_default_scopes(self, application=None, request=None, *args, **kwargs):
        if application is not None and getattr(application, "is_service_client", False):
            return self.get_available_scopes(application, request)
        return app_settings.DEFAULT_SCOPES
