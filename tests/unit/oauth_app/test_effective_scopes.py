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


@pytest.mark.django_db
def test_a_person_given_the_service_tier_holds_none_of_its_scopes(client, public_client, django_user_model, settings):
    """``service`` is a client-credentials app's tier: it holds ``console:admin``, which a person
    may hold only as active staff. A person whose profile says ``service`` gets no scope from it."""
    from oauth_app.profiles import ensure_profile
    from oauth_app.services import create_or_update_account, set_tier
    from tests.support.oauth import approve_consent, authorize_query, pkce_pair

    frank = django_user_model.objects.create_user("frank", "frank@example.com", "a-pass-word-123")
    profile = ensure_profile(frank)
    profile.tier = "service"  # as an edit in the admin, or a tier rule, could leave it
    profile.save()
    client.force_login(frank)
    session = client.session
    session["mcprag_amr"] = ["pwd", "otp"]
    session.save()
    _, challenge = pkce_pair()
    api = settings.MCPRAG_PUBLIC_URL.rstrip("/") + "/api"
    page = client.get(authorize_query(public_client["client_id"], challenge, scope="console:admin code:read", resource=api))
    assert page.status_code == 200 and page.context["scope_items"] == []
    assert sorted(s for s, _ in page.context["withheld_scopes"]) == ["code:read", "console:admin"]
    for call in (lambda: set_tier(frank, "service"), lambda: create_or_update_account("fred", tier="service")):
        with pytest.raises(ValueError, match="cannot be 'service'"):
            call()


@pytest.mark.django_db
def test_a_tier_rule_naming_the_service_tier_is_passed_over_for_a_new_person(settings):
    from oauth_app.models import TierRule
    from oauth_app.profiles import tier_for_new_person

    settings.MCPRAG_DEVELOPER_DOMAINS = ["example.com"]
    TierRule.objects.create(pattern="@example.com", tier="service")
    assert tier_for_new_person("ann@example.com") == "developer"
