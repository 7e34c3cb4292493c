"""People and tiers: search and filters, the person page, tier changes with a required reason."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.urls import reverse

from console.models import OperatorAction
from mcp_gateway.auth.bearer import verify_access_token
from oauth_app.services import create_or_update_account

from tests.support.tool_calls import make_call

pytestmark = pytest.mark.django_db


@pytest.fixture
def crowd(person):
    create_or_update_account("linus", email="linus@kernel.example", tier="public")
    create_or_update_account("margaret", email="mh@nasa.example", tier="admin")
    return person


def _names(response) -> list[str]:
    return [p.get_username() for p in response.context["object_list"]]


def test_people_list_searches_by_name_or_email(operator_client, crowd):
    assert _names(operator_client.get(reverse("console:person-list"), {"q": "nasa"})) == ["margaret"]
    assert _names(operator_client.get(reverse("console:person-list"), {"q": "GRA"})) == ["grace"]


def test_people_list_filters_by_tier_and_role(operator_client, crowd):
    assert _names(operator_client.get(reverse("console:person-list"), {"tier": "admin"})) == ["margaret"]
    assert _names(operator_client.get(reverse("console:person-list"), {"tier": "public"})) == ["linus", "olga"]
    assert _names(operator_client.get(reverse("console:person-list"), {"role": "staff"})) == ["olga"]


def test_people_list_shows_tier_and_last_tool_call(operator_client, crowd):
    make_call(user=crowd)
    response = operator_client.get(reverse("console:person-list"))
    grace = next(p for p in response.context["object_list"] if p.get_username() == "grace")
    assert grace.last_call is not None
    html = response.content.decode()
    assert 'class="badge tier-developer">developer<' in html and "just now" in html


def test_person_page_shows_agents_consents_and_activity(operator_client, person, tokens, public_client):
    tokens()
    make_call(user=person, client_id=public_client["client_id"])
    response = operator_client.get(reverse("console:person-detail", kwargs={"pk": person.pk}))
    assert response.status_code == HTTPStatus.OK
    [agent] = response.context["agents"]
    assert agent.application.client_id == public_client["client_id"]
    assert agent.last_used is not None and agent.live_tokens == 1
    assert response.context["mfa_status"] == "not enrolled"
    assert "Test Agent" in response.content.decode()


def test_tier_change_needs_a_reason(operator_client, person):
    response = operator_client.post(reverse("console:person-tier", kwargs={"pk": person.pk}), {"tier": "public", "reason": "  "})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "This field is required." in response.content.decode()
    person.refresh_from_db()
    assert person.mcprag_profile.tier == "developer"
    assert not OperatorAction.objects.exists()


def test_tier_change_to_the_same_tier_is_refused(operator_client, person):
    response = operator_client.post(reverse("console:person-tier", kwargs={"pk": person.pk}), {"tier": "developer", "reason": "x"})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert not OperatorAction.objects.exists()


def test_tier_change_applies_to_the_next_call_and_is_recorded_with_the_reason(operator_client, operator, person, tokens):
    token = tokens(scope="code:read code:write")["access_token"]
    assert verify_access_token(token).scopes == {"code:read", "code:write"}
    response = operator_client.post(reverse("console:person-tier", kwargs={"pk": person.pk}),
                                    {"tier": "public", "reason": "moved to the docs team"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("console:person-detail", kwargs={"pk": person.pk})
    assert "grace is now public" in response.content.decode()
    # The same token, unchanged, now carries only what the new tier allows (scopes ∩ tier).
    assert verify_access_token(token).scopes == {"code:read"}
    action = OperatorAction.objects.get()
    assert (action.kind, action.operator, action.person, action.reason) == ("tier_changed", operator, person, "moved to the docs team")
    assert action.detail == {"from": "developer", "to": "public"}
    assert "moved to the docs team" in response.content.decode()  # shown in the person's history
