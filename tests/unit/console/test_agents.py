"""Agents (OAuth clients): the list, the detail page, disable/enable, and revoke-for-everyone."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.urls import reverse
from oauth2_provider.models import get_access_token_model, get_refresh_token_model

from console.models import OperatorAction
from mcp_gateway.auth.bearer import InvalidToken, verify_access_token
from oauth_app.models import Application, AuthEvent, Consent
from oauth_app.services import create_or_update_account, create_service_client

from tests.support.oauth import REDIRECT_URI, authorize_query, pkce_pair, redirect_params
from tests.support.tool_calls import days_ago, make_call

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent(public_client):
    return Application.objects.get(client_id=public_client["client_id"])


def test_agent_list_shows_source_redirect_hosts_people_and_activity(operator_client, agent, tokens):
    tokens()
    create_service_client("ci-bot", ["code:read"])
    make_call(client_id=agent.client_id, at=days_ago(3))
    make_call(client_id=agent.client_id, at=days_ago(1))
    response = operator_client.get(reverse("console:agent-list"))
    html = response.content.decode()
    assert "Dynamic registration" in html and "Service client" in html
    assert "<code>127.0.0.1:43110</code>" in html
    seen = response.context["activity"][agent.client_id]
    assert seen.calls == 2
    assert seen.first_seen <= days_ago(3).replace(second=59)  # registration event is older still
    assert seen.last_seen >= days_ago(1)
    row = next(a for a in response.context["object_list"] if a.pk == agent.pk)
    assert (row.people, row.live_tokens) == (1, 1)


def test_agent_list_filters(operator_client, agent):
    service, _ = create_service_client("ci-bot", ["code:read"])
    names = lambda r: [a.name for a in r.context["object_list"]]  # noqa: E731
    assert names(operator_client.get(reverse("console:agent-list"), {"source": "service"})) == ["ci-bot"]
    assert names(operator_client.get(reverse("console:agent-list"), {"source": "dcr"})) == ["Test Agent"]
    assert names(operator_client.get(reverse("console:agent-list"), {"q": "ci-"})) == ["ci-bot"]
    Application.objects.filter(pk=service.pk).update(disabled_at="2025-01-01T00:00:00Z")
    assert names(operator_client.get(reverse("console:agent-list"), {"status": "disabled"})) == ["ci-bot"]


def test_agent_page_escapes_self_registered_metadata(operator_client, register):
    created = register(client_name="<script>alert(1)</script>", logo_uri="https://tracker.example/logo.png").json()
    agent = Application.objects.get(client_id=created["client_id"])
    html = operator_client.get(reverse("console:agent-detail", kwargs={"pk": agent.pk})).content.decode()
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    listed = operator_client.get(reverse("console:agent-list")).content.decode()
    assert "<img" not in html + listed  # a client's logo is never loaded by an operator's browser (its metadata shows it as text)
    assert "<dd class=\"mono\">http://127.0.0.1:43110/callback</dd>" in html  # lists shown plainly, not as ['…']


def test_disable_stops_its_tokens_and_enable_restores_them(operator_client, operator, agent, tokens):
    token = tokens()["access_token"]
    response = operator_client.post(reverse("console:agent-disable", kwargs={"pk": agent.pk}), {"reason": "leaked"})
    assert response.status_code == HTTPStatus.FOUND
    agent.refresh_from_db()
    assert agent.disabled_at is not None
    with pytest.raises(InvalidToken, match="disabled"):
        verify_access_token(token)
    operator_client.post(reverse("console:agent-enable", kwargs={"pk": agent.pk}))
    assert verify_access_token(token).client_id == agent.client_id
    kinds = list(OperatorAction.objects.order_by("at", "id").values_list("kind", "reason"))
    assert kinds == [("client_disabled", "leaked"), ("client_enabled", "")]


def test_disabling_twice_changes_nothing(operator_client, agent):
    url = reverse("console:agent-disable", kwargs={"pk": agent.pk})
    operator_client.post(url)
    response = operator_client.post(url, follow=True)
    assert "Nothing to change." in response.content.decode()
    assert OperatorAction.objects.count() == 1


def test_revoke_asks_for_confirmation_first(operator_client, agent, tokens):
    tokens()
    page = operator_client.get(reverse("console:agent-revoke", kwargs={"pk": agent.pk}))
    assert page.status_code == HTTPStatus.OK
    assert "Revoke everything" in page.content.decode() and "grace" in page.content.decode()
    assert get_access_token_model().objects.filter(application=agent, user__isnull=False).count() == 1  # not yet revoked


def test_revoke_for_everyone_goes_through_revoke_agent_for_each_person(operator_client, agent, tokens, client, person):
    first = tokens()
    other, _ = create_or_update_account("hopper", email="hopper@example.com", password="an0ther-Pass-word", tier="public")
    client.force_login(other)
    verifier, challenge = pkce_pair()
    page = client.get(authorize_query(agent.client_id, challenge))
    data = {name: (page.context["form"].initial.get(name) or "") for name in page.context["form"].fields}
    code = redirect_params(client.post(page.request["PATH_INFO"] + "?" + page.request["QUERY_STRING"], {**data, "allow": "Authorize"}))["code"]
    second = client.post("/token/", {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI,
                                     "client_id": agent.client_id, "code_verifier": verifier}).json()
    AuthEvent.objects.all().delete()

    response = operator_client.post(reverse("console:agent-revoke", kwargs={"pk": agent.pk}), {"reason": "compromised"}, follow=True)
    assert "Revoked 2 access token(s) of 2 person(s)" in response.content.decode()
    for pair in (first, second):
        with pytest.raises(InvalidToken, match="revoked"):
            verify_access_token(pair["access_token"])
    assert not get_refresh_token_model().objects.filter(application=agent, revoked__isnull=True).exists()
    assert not Consent.objects.filter(application=agent, revoked_at__isnull=True).exists()
    # revoke_agent's own audit events, once per person.
    assert sorted(AuthEvent.objects.filter(kind="token_revoked").values_list("user__username", flat=True)) == ["grace", "hopper"]
    assert AuthEvent.objects.filter(kind="consent_revoked").count() == 2
    action = OperatorAction.objects.get()
    assert (action.kind, action.reason, action.detail) == ("client_revoked", "compromised", {"people": 2, "access_tokens": 2})


def test_revoke_for_everyone_also_ends_service_tokens(operator_client, client):
    import base64

    service, secret = create_service_client("ci-bot", ["code:read"])
    basic = "Basic " + base64.b64encode(f"{service.client_id}:{secret}".encode()).decode()
    token = client.post("/token/", {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=basic).json()["access_token"]
    assert verify_access_token(token).tier == "service"
    operator_client.post(reverse("console:agent-revoke", kwargs={"pk": service.pk}))
    with pytest.raises(InvalidToken):
        verify_access_token(token)
