"""The consent POST is bound to the authorization request that rendered the form: a hidden field
edited in between (client, redirect URI, scope, resource, PKCE challenge, state), a form from
another session or a form answered twice gets an error page — no code, no remembered consent."""

from __future__ import annotations

from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from oauth2_provider.models import get_grant_model

from oauth_app.models import AuthEvent, Consent

from tests.support.oauth import authorize_query, pkce_pair

pytestmark = pytest.mark.django_db

HTTPS_REDIRECT = "https://agent.example/callback"
OTHER_REDIRECT = "https://agent.example/other"


@pytest.fixture
def agent(register):
    return register(redirect_uris=[HTTPS_REDIRECT, OTHER_REDIRECT]).json()


@pytest.fixture
def other_agent(register):
    """Another client that accepts the same redirect URI (e.g. the attacker's own registration)."""
    return register(client_name="Other Agent", redirect_uris=[HTTPS_REDIRECT]).json()


def _page(client, person, client_id, **extra):
    client.force_login(person)
    _, challenge = pkce_pair()
    page = client.get(authorize_query(client_id, challenge, redirect_uri=HTTPS_REDIRECT, **extra))
    assert page.status_code == HTTPStatus.OK, page.content[:300]
    return page


def _posted(page, **changes) -> dict:
    form = page.context["form"]
    data = {name: (form.initial.get(name) or "") for name in form.fields}
    data.update(allow="Authorize", **changes)
    return data


def _post(client, page, data):
    return client.post(page.request["PATH_INFO"] + "?" + page.request["QUERY_STRING"], data)


def _assert_refused(response):
    assert response.status_code == HTTPStatus.BAD_REQUEST, (response.status_code, response.get("Location"))
    assert "Location" not in response
    assert response.context["error"].error == "invalid_request"
    assert not get_grant_model().objects.exists()
    assert not Consent.objects.exists()
    assert not AuthEvent.objects.filter(kind=AuthEvent.Kind.CONSENT_GRANTED).exists()
    assert AuthEvent.objects.filter(kind=AuthEvent.Kind.REFUSED, error="consent_form_mismatch").count() == 1


def test_client_id_swapped_in_the_post_gets_no_code_and_no_consent(client, person, agent, other_agent):
    page = _page(client, person, agent["client_id"])
    _assert_refused(_post(client, page, _posted(page, client_id=other_agent["client_id"])))


@pytest.mark.parametrize("changes", [
    {"redirect_uri": OTHER_REDIRECT},
    {"scope": "code:read code:write"},
    {"resource": "https://other.example/mcp"},
    {"code_challenge": pkce_pair()[1]},
    {"state": "another-state"},
    {"response_type": "token"},
], ids=lambda changes: next(iter(changes)))
def test_edited_request_field_gets_no_code_and_no_consent(client, person, agent, changes):
    page = _page(client, person, agent["client_id"])
    _assert_refused(_post(client, page, _posted(page, **changes)))


def test_post_without_the_request_id_is_refused(client, person, agent):
    page = _page(client, person, agent["client_id"])
    data = _posted(page)
    del data["request_id"]
    _assert_refused(_post(client, page, data))


def test_form_from_another_session_is_refused(client, person, agent):
    page = _page(client, person, agent["client_id"])
    elsewhere = Client()
    elsewhere.force_login(person)
    _assert_refused(_post(elsewhere, page, _posted(page)))


def test_a_form_is_answered_once(client, person, agent):
    page = _page(client, person, agent["client_id"])
    assert "code" in _redirect_params(_post(client, page, _posted(page)))
    get_grant_model().objects.all().delete()
    Consent.objects.all().delete()
    AuthEvent.objects.all().delete()
    _assert_refused(_post(client, page, _posted(page)))


def test_two_open_consent_pages_are_each_answered_as_rendered(client, person, agent, other_agent):
    first = _page(client, person, agent["client_id"], state="one")
    second = _page(client, person, other_agent["client_id"], state="two")
    assert _redirect_params(_post(client, second, _posted(second)))["state"] == "two"
    assert _redirect_params(_post(client, first, _posted(first)))["state"] == "one"
    assert {c.application.client_id for c in Consent.objects.all()} == {agent["client_id"], other_agent["client_id"]}


def _redirect_params(response) -> dict:
    assert response.status_code == HTTPStatus.FOUND, response.status_code
    location = urlsplit(response["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == HTTPS_REDIRECT, response["Location"]
    return {k: v[0] for k, v in parse_qs(location.query).items()}
