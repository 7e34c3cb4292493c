"""``/account/agents/``: a person's authorized agents, and revoking one after a confirmation step."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.test import Client
from django.urls import reverse

from console.connections import connected_agents
from console.views.connected_agents import mfa_enrolment_url
from mcp_gateway.auth.bearer import InvalidToken, verify_access_token
from oauth_app.models import Application, AuthEvent
from oauth_app.services import create_or_update_account

from tests.support.tool_calls import make_call

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent(public_client):
    return Application.objects.get(client_id=public_client["client_id"])


def test_lists_the_agent_with_plain_words_grant_time_and_last_use(client, person, agent, tokens):
    tokens(scope="code:read code:write")
    make_call(user=person, client_id=agent.client_id)
    response = client.get(reverse("account:agents"))
    [connected] = response.context["agents"]
    assert connected.application == agent and connected.last_used is not None and connected.granted_at is not None
    html = response.content.decode()
    assert "Test Agent" in html
    assert "Search and read the code of repositories you can see" in html and "<code>code:write</code>" in html
    assert "last used <span" in html and ">just now</span>" in html


def test_scopes_beyond_the_current_tier_are_marked_not_available(client, person, agent, tokens):
    from oauth_app.services import set_tier

    tokens(scope="code:read code:write")
    set_tier(person, "public")
    html = client.get(reverse("account:agents")).content.decode()
    assert "<code>code:write</code> — not at your current access level" in html
    assert "<li>Search and read the code of repositories you can see <code>code:read</code></li>" in html


def test_no_client_logo_is_loaded(client, person, register, obtain_code):
    """A client's logo_uri is what it registered: the page shows the name's initial instead."""
    secure = register(client_name="Secure", logo_uri="https://cdn.example/logo.png").json()
    insecure = register(client_name="Plain", logo_uri="http://cdn.example/logo.png").json()
    obtain_code(secure["client_id"])
    obtain_code(insecure["client_id"])
    html = client.get(reverse("account:agents")).content.decode()
    assert "cdn.example" not in html and "<img" not in html
    assert '<span class="agent-logo" aria-hidden="true">S</span>' in html


def test_shows_only_the_persons_own_agents(person, agent, tokens):
    tokens()
    stranger, _ = create_or_update_account("mallory", email="m@example.com", password="x-Pass-word-9", tier="public")
    browser = Client()
    browser.force_login(stranger)
    assert browser.get(reverse("account:agents")).context["agents"] == []
    # …and cannot reach (or revoke) grace's agent by its id.
    assert browser.get(reverse("account:agent-revoke", kwargs={"pk": agent.pk})).status_code == HTTPStatus.NOT_FOUND
    assert browser.post(reverse("account:agent-revoke", kwargs={"pk": agent.pk})).status_code == HTTPStatus.NOT_FOUND
    assert [a.application for a in connected_agents(person)] == [agent]  # still connected


def test_revoke_asks_first_then_revokes_through_revoke_agent(client, person, agent, tokens):
    pair = tokens()
    confirm = client.get(reverse("account:agent-revoke", kwargs={"pk": agent.pk}))
    assert confirm.status_code == HTTPStatus.OK
    assert "Revoke Test Agent?" in confirm.content.decode()
    assert verify_access_token(pair["access_token"]).user_id == person.pk  # nothing happened yet

    response = client.post(reverse("account:agent-revoke", kwargs={"pk": agent.pk}), follow=True)
    assert response.redirect_chain[-1][0] == reverse("account:agents")
    assert "Test Agent can no longer use mcprag on your behalf." in response.content.decode()
    assert response.context["agents"] == []
    with pytest.raises(InvalidToken, match="revoked"):
        verify_access_token(pair["access_token"])
    assert AuthEvent.objects.filter(kind="token_revoked", user=person, client_id=agent.client_id).count() == 1
    assert AuthEvent.objects.filter(kind="consent_revoked", user=person, client_id=agent.client_id).count() == 1


def test_mfa_status_placeholder_and_enrolment_link_only_when_it_exists(client, person):
    client.force_login(person)
    html = client.get(reverse("account:agents")).content.decode()
    assert "Not enrolled" in html
    url = mfa_enrolment_url()
    if url:
        assert f'href="{url}"' in html
    else:
        assert "enrolment is coming soon" in html


def test_agent_pages_are_never_stored_by_a_cache(client, person, agent, tokens):
    tokens()
    for url in (reverse("account:agents"), reverse("account:agent-revoke", kwargs={"pk": agent.pk})):
        response = client.get(url)
        assert response.status_code == HTTPStatus.OK
        assert "no-store" in response["Cache-Control"], url


def test_an_agent_denied_after_being_allowed_is_no_longer_listed(client, person, agent, obtain_code):
    from tests.support.oauth import authorize_query, pkce_pair

    obtain_code(agent.client_id)  # allowed once (consent remembered, no token exchanged)
    assert [a.application for a in connected_agents(person)] == [agent]
    page = client.get(authorize_query(agent.client_id, pkce_pair()[1], prompt="consent"))
    form = page.context["form"]
    data = {name: (form.initial.get(name) or "") for name in form.fields}
    data.pop("allow", None)
    denied = client.post(page.request["PATH_INFO"] + "?" + page.request["QUERY_STRING"], data)
    assert "error=access_denied" in denied["Location"]
    assert connected_agents(person) == []
    assert 'id="no-agents"' in client.get(reverse("account:agents")).content.decode()
