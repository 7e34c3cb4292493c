"""The effective-scope rules (``oauth_app.effective_scopes``), which the consent page, the scopes
backend and the gateway's bearer check all apply: a person holds the token's scopes ∩ the current
tier, admin scopes only after a TOTP-verified sign-in; a service client holds the token's scopes ∩
what an operator allowed it ∩ the service tier."""

from __future__ import annotations

import pytest

from oauth_app.effective_scopes import person_scopes, service_client_scopes, tier_scopes
from oauth_app.tiers import Tier

ALL = ["code:read", "code:write", "index:admin"]


@pytest.mark.parametrize(("tier", "amr", "held"), [
    (Tier.PUBLIC, ["pwd"], {"code:read"}),
    (Tier.DEVELOPER, ["pwd"], {"code:read", "code:write"}),
    (Tier.ADMIN, ["pwd"], {"code:read", "code:write"}),  # no second factor: no admin scope
    (Tier.ADMIN, ["email"], {"code:read", "code:write"}),
    (Tier.ADMIN, ["pwd", "otp"], {"code:read", "code:write", "index:admin"}),
    (Tier.DEVELOPER, ["pwd", "otp"], {"code:read", "code:write"}),  # otp adds nothing beyond the tier
    ("no-such-tier", ["pwd", "otp"], set()),
])
def test_a_person_holds_the_token_scopes_within_the_current_tier_and_admin_only_with_otp(tier, amr, held):
    assert person_scopes(ALL, tier, amr) == held
    assert tier_scopes(tier, amr) == held  # what the consent page may offer that sign-in


def test_a_person_never_holds_a_scope_the_token_was_not_granted():
    assert person_scopes(["code:read"], Tier.ADMIN, ["pwd", "otp"]) == {"code:read"}


def test_a_service_client_holds_its_allowed_scopes_within_the_service_tier():
    assert service_client_scopes("code:read index:admin") == {"code:read", "index:admin"}
    assert service_client_scopes("code:read index:admin", ["code:read", "code:write"]) == {"code:read"}
    assert service_client_scopes("code:read unknown:scope") == {"code:read"}
    assert service_client_scopes("") == set()
