"""Which scopes a subject really holds now — the one home of two rules that the authorization
server (consent page, scopes backend) and the resource server (every bearer check, stdio) share.

**A person**: the scopes granted (or asked for) ∩ the scopes of the person's **current** tier,
without the MFA-only scopes (:data:`~oauth_app.tiers.MFA_SCOPES`, i.e. ``index:admin``) unless
the sign-in behind the grant was multi-factor (``otp`` or ``mfa`` in its RFC 8176 ``amr``).
Lowering a tier therefore narrows every token of that person from the next call on, and the
consent page never offers more than a token could use. The operator scope (``console:admin``,
:data:`~oauth_app.tiers.STAFF_SCOPES`) is held only while the person is an active staff account,
also MFA-only; taking staff status away narrows their tokens at the next request likewise.

**A service client** (client credentials, or stdio acting as that client): the scopes granted ∩
the scopes an operator set on the client (``allowed_scopes``) ∩ the service tier's scopes. It has
no sign-in, so no MFA rule applies.

>>> sorted(person_scopes(["code:read", "index:admin"], "admin", amr=["pwd"]))
['code:read']
>>> sorted(service_client_scopes("code:read index:admin", ["code:read"]))
['code:read']
"""

from __future__ import annotations

from collections.abc import Iterable

from .tiers import MFA_SCOPES, STAFF_SCOPES, Tier, is_multi_factor, scopes_for_person, scopes_for_tier

__all__ = ["tier_scopes", "person_scopes", "service_client_scopes", "is_staff"]


def tier_scopes(tier: str, amr: Iterable[str], *, staff: bool = False) -> frozenset[str]:
    """The scopes a person of ``tier`` may hold in a sign-in with authentication methods ``amr``
    (RFC 8176 values, e.g. ``["pwd"]`` or ``["email", "otp"]``): the tier's scopes, plus
    :data:`~oauth_app.tiers.STAFF_SCOPES` when ``staff`` (an active staff account), minus the
    MFA-only scopes unless the sign-in was multi-factor (``otp``, or ``mfa`` from single sign-on:
    :func:`~oauth_app.tiers.is_multi_factor`)."""
    allowed = scopes_for_person(tier) | (STAFF_SCOPES if staff else frozenset())
    if not is_multi_factor(amr):
        allowed = allowed - MFA_SCOPES  # admin scopes need an MFA-verified sign-in
    return allowed


def person_scopes(granted: Iterable[str], tier: str, amr: Iterable[str], *, staff: bool = False) -> frozenset[str]:
    """The scopes a person's token holds now: ``granted`` (the token's scopes) ∩
    :func:`tier_scopes` of the person's current ``tier``, staff status and the token's sign-in ``amr``."""
    return frozenset(granted) & tier_scopes(tier, amr, staff=staff)


def is_staff(user) -> bool:
    """Whether ``user`` is an active staff account now (the holder of :data:`~oauth_app.tiers.STAFF_SCOPES`)."""
    return bool(user is not None and getattr(user, "is_active", False) and getattr(user, "is_staff", False))


def service_client_scopes(allowed_scopes: str, granted: Iterable[str] | None = None) -> frozenset[str]:
    """The scopes a service client holds: ``granted`` (a token's scopes; None = everything it may
    have) ∩ its space-separated ``allowed_scopes`` ∩ the service tier's scopes."""
    allowed = frozenset((allowed_scopes or "").split()) & scopes_for_tier(Tier.SERVICE)
    return allowed if granted is None else allowed & frozenset(granted)
