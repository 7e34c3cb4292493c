"""Remembered consent: skipped for a covered request, asked again for loopback redirects, more
scopes or after withdrawal; every grant and denial is an audit event."""

from __future__ import annotations

import pytest

from oauth_app.flows.consent import withdraw
from oauth_app.models import Application, AuthEvent, Consent

from tests.support.oauth import authorize_query, pkce_pair

pytestmark = pytest.mark.django_db

HTTPS_REDIRECT = "https://agent.example/callback"


@pytest.fixture
def https_client(register):
    response = register(redirect_uris=[HTTPS_REDIRECT])
    assert response.status_code == 201
    return response.json()


def _authorize(client, person, client_id, scope="code:read", redirect_uri=HTTPS_REDIRECT):
    client.force_login(person)
    _, challenge = pkce_pair()
    return client.get(authorize_query(client_id, challenge, scope=scope, redirect_uri=redirect_uri))


def _approve(client, page):
    form = page.context["form"]
    data = {name: (form.initial.get(name) or "") for name in form.fields}
    data["allow"] = "Authorize"
    return client.post(page.request["PATH_INFO"] + "?" + page.request["QUERY_STRING"], data)


def test_second_request_with_same_scopes_skips_the_consent_page(client, person, https_client):
    first = _authorize(client, person, https_client["client_id"])
    assert first.status_code == 200
    assert _approve(client, first).status_code == 302
    second = _authorize(client, person, https_client["client_id"])
    assert second.status_code == 302
    assert second["Location"].startswith(HTTPS_REDIRECT + "?code=")
    consent = Consent.objects.get()
    assert consent.scopes == "code:read" and consent.resource == "http://127.0.0.1:8000/mcp"
    assert AuthEvent.objects.filter(kind=AuthEvent.Kind.CONSENT_GRANTED, client_id=https_client["client_id"]).count() == 1


def test_asking_for_more_scopes_shows_the_page_again(client, person, https_client):
    _approve(client, _authorize(client, person, https_client["client_id"]))
    assert _authorize(client, person, https_client["client_id"], scope="code:read code:write").status_code == 200


def test_loopback_redirect_always_asks_again(client, person, public_client):
    loopback = "http://127.0.0.1:43110/callback"
    _approve(client, _authorize(client, person, public_client["client_id"], redirect_uri=loopback))
    assert Consent.objects.exists()
    assert _authorize(client, person, public_client["client_id"], redirect_uri=loopback).status_code == 200


def test_withdrawn_consent_asks_again(client, person, https_client):
    _approve(client, _authorize(client, person, https_client["client_id"]))
    assert withdraw(person, Application.objects.get(client_id=https_client["client_id"])) == 1
    assert _authorize(client, person, https_client["client_id"]).status_code == 200
    assert AuthEvent.objects.filter(kind=AuthEvent.Kind.CONSENT_REVOKED).count() == 1


def test_denial_is_audited_and_remembers_nothing(client, person, https_client):
    page = _authorize(client, person, https_client["client_id"])
    form = page.context["form"]
    data = {name: (form.initial.get(name) or "") for name in form.fields}
    response = client.post(page.request["PATH_INFO"] + "?" + page.request["QUERY_STRING"], data)
    assert "error=access_denied" in response["Location"]
    assert not Consent.objects.exists()
    event = AuthEvent.objects.get(kind=AuthEvent.Kind.CONSENT_DENIED)
    assert event.error == "access_denied" and event.user == person


def test_another_person_does_not_inherit_a_consent(client, person, https_client, django_user_model):
    _approve(client, _authorize(client, person, https_client["client_id"]))
    other = django_user_model.objects.create_user("linus", password="x-y-z-w-1234")
    assert _authorize(client, other, https_client["client_id"]).status_code == 200
