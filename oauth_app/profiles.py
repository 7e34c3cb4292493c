"""A person's profile: created on first sight, with the tier the rules give a new person.

Used by the sign-in flows and by ``services``; it imports neither, so both can import it.
"""

from __future__ import annotations

from .app_settings import app_settings
from .models import Profile, TierRule
from .tiers import PERSON_TIERS, Tier

__all__ = ["tier_for_new_person", "ensure_profile"]


def tier_for_new_person(email: str) -> str:
    """The tier a new person starts with (the tiers are described in ``oauth_app.tiers``).

    Order: an exact-address rule or ``MCPRAG_ADMIN_EMAILS`` (admin), then a domain rule or
    ``MCPRAG_DEVELOPER_DOMAINS`` (developer); otherwise ``public``. A rule naming a tier that is
    not a person's (``service``) is passed over.
    """
    email = (email or "").strip().lower()
    if not email or "@" not in email:
        return Tier.PUBLIC
    domain = "@" + email.rsplit("@", 1)[1]
    rules = TierRule.objects.filter(tier__in=PERSON_TIERS)
    exact = rules.filter(pattern__iexact=email).first()
    if exact is not None:
        return exact.tier
    if email in app_settings.ADMIN_EMAILS:
        return Tier.ADMIN
    by_domain = rules.filter(pattern__iexact=domain).first()
    if by_domain is not None:
        return by_domain.tier
    if domain[1:] in app_settings.DEVELOPER_DOMAINS:
        return Tier.DEVELOPER
    return Tier.PUBLIC


def ensure_profile(user) -> Profile:
    """The person's profile, created with the rule-based tier on first sight."""
    profile = Profile.objects.filter(user=user).first()
    if profile is None:
        profile, _ = Profile.objects.get_or_create(user=user, defaults={"tier": tier_for_new_person(user.email)})
    return profile
