"""Tiers of people and service clients, and the scopes each tier may be granted.

Tiers are defined here and nowhere else; what a subject of a tier holds at a given moment is
:mod:`oauth_app.effective_scopes`'s rule.

=========  =====================================  ==========================================
tier       who                                    scopes it may be granted
=========  =====================================  ==========================================
public     any signed-in person                   ``code:read``
developer  allowed email domains, or an operator  ``code:read code:write``
admin      operators, MFA verified                ``code:read code:write index:admin``
service    client-credentials apps                as set on the app, from the above and
                                                  ``token:introspect``
=========  =====================================  ==========================================

``token:introspect`` is a right of a service client at the authorization server itself (RFC 7662
introspection, :mod:`oauth_app.views.introspection`): it is kept on the client, never put in an
access token (tokens are for the MCP resource) and never offered to a person.

``console:admin`` is the operator API's scope (``/api/``, :mod:`operator_api`). It belongs to no
person's tier: a person may be granted it only while they are an active staff account
(:data:`STAFF_SCOPES`) in a TOTP-verified sign-in (it is among :data:`MFA_SCOPES`), and a service
client only when an operator set it on the client. It is of use only in a token for the API
resource (RFC 8707, :mod:`oauth_app.resource_indicators`).
"""

from __future__ import annotations

from django.db import models

__all__ = ["Tier", "TIER_SCOPES", "MFA_SCOPES", "MFA_METHODS", "is_multi_factor", "SERVER_SCOPES", "STAFF_SCOPES",
           "SCOPE_TOKEN_INTROSPECT", "SCOPE_CONSOLE_ADMIN", "scopes_for_tier", "PERSON_TIERS", "scopes_for_person"]

SCOPE_CODE_READ = "code:read"
SCOPE_CODE_WRITE = "code:write"
SCOPE_INDEX_ADMIN = "index:admin"
SCOPE_TOKEN_INTROSPECT = "token:introspect"
SCOPE_CONSOLE_ADMIN = "console:admin"


class Tier(models.TextChoices):
    PUBLIC = "public", "Public"
    DEVELOPER = "developer", "Developer"
    ADMIN = "admin", "Admin"
    SERVICE = "service", "Service"


TIER_SCOPES: dict[str, frozenset[str]] = {
    Tier.PUBLIC: frozenset({SCOPE_CODE_READ}),
    Tier.DEVELOPER: frozenset({SCOPE_CODE_READ, SCOPE_CODE_WRITE}),
    Tier.ADMIN: frozenset({SCOPE_CODE_READ, SCOPE_CODE_WRITE, SCOPE_INDEX_ADMIN}),
    Tier.SERVICE: frozenset({SCOPE_CODE_READ, SCOPE_CODE_WRITE, SCOPE_INDEX_ADMIN, SCOPE_TOKEN_INTROSPECT,
                             SCOPE_CONSOLE_ADMIN}),
}

#: The tiers a person may have. ``service`` is a client-credentials app's: a person whose profile
#: says ``service`` (a tier rule or an edit in the admin) holds no scope from it, and the commands,
#: the console and the operator API refuse to give it to a person.
PERSON_TIERS: frozenset[str] = frozenset({Tier.PUBLIC, Tier.DEVELOPER, Tier.ADMIN})

#: Scopes that let a service client use the authorization server itself, not the MCP resource:
#: held on the client (``allowed_scopes``), never in an access token.
SERVER_SCOPES: frozenset[str] = frozenset({SCOPE_TOKEN_INTROSPECT})


#: Scopes granted to a person only in an MFA-verified sign-in (:func:`is_multi_factor`).
MFA_SCOPES: frozenset[str] = frozenset({SCOPE_INDEX_ADMIN, SCOPE_CONSOLE_ADMIN})

#: Scopes a person may hold, whatever their tier, while they are an active staff account (an
#: operator); MFA-only like every admin scope.
STAFF_SCOPES: frozenset[str] = frozenset({SCOPE_CONSOLE_ADMIN})

#: RFC 8176 ``amr`` values that make a sign-in multi-factor: ``otp`` (mcprag's own TOTP step) and
#: ``mfa`` (single sign-on whose provider claimed a method the operator trusts, ``MCPRAG_OIDC_MFA_AMR``).
MFA_METHODS: frozenset[str] = frozenset({"otp", "mfa"})


def is_multi_factor(amr) -> bool:
    """Whether a sign-in with authentication methods ``amr`` (RFC 8176 values) was multi-factor."""
    return not MFA_METHODS.isdisjoint(amr or ())


def scopes_for_tier(tier: str) -> frozenset[str]:
    """Scopes a subject of ``tier`` may hold; an unknown tier may hold none."""
    return TIER_SCOPES.get(tier, frozenset())


def scopes_for_person(tier: str) -> frozenset[str]:
    """Scopes a person of ``tier`` may hold: :func:`scopes_for_tier`, none for a tier that is not a
    person's (:data:`PERSON_TIERS`)."""
    return scopes_for_tier(tier) if tier in PERSON_TIERS else frozenset()
