"""RFC 7592 client configuration endpoint (``/register/<client_id>/``): an update goes through the
same policy as RFC 7591 registration, every answer is ``no-store``, and changing the redirect URIs
makes the consent page appear again."""

from __future__ import annotations

import json

import pytest

from oauth_app.models import Application, AuthEvent, Consent

from tests.support.oauth import authorize_query, pkce_pair

pytestmark = pytest.mark.django_db

HTTPS_REDIRECT = "https://agent.example/callback"


@pytest.fixture
def registered(register):
    response = register(redirect_uris=[HTTPS_REDIRECT], logo_uri="https://agent.example/logo.png")
    assert response.status_code == 201, response.content
    return response.json()


def _put(client, registered, token=None, content_type="application/json", **metadata):
    document = {"client_id": registered["client_id"], "client_name": "Test Agent", "redirect_uris": [HTTPS_REDIRECT],
                "token_endpoint_auth_method": "none"}
    document.update(metadata)
    document = {k: v for k, v in document.items() if v is not None}
    return client.put(f"/register/{registered['client_id']}/", json.dumps(document), content_type=content_type,
                      HTTP_AUTHORIZATION=f"Bearer {token or registered['registration_access_token']}")


def _application(registered) -> Application:
    return Application.objects.get(client_id=registered["client_id"])


def _unchanged(registered):
    app = _application(registered)
    assert app.redirect_uris == HTTPS_REDIRECT
    assert app.client_type == Application.CLIENT_PUBLIC
    assert app.authorization_grant_type == Application.GRANT_AUTHORIZATION_CODE


def test_update_naming_another_client_id_is_refused_and_changes_nothing(client, registered):
    """RFC 7592 §2.2: the client_id in the document "MUST be the same as its currently issued
    client identifier"; it was ignored."""
    response = _put(client, registered, client_id="someone-else", client_name="Renamed")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_client_metadata"
    assert _application(registered).name == "Test Agent"


@pytest.mark.parametrize(
    "uri", ["http://evil.example/steal", "https://user:pw@evil.example/cb", "https://evil.example/*", "javascript:alert(1)"]
)
def test_update_to_a_redirect_uri_registration_refuses_is_refused(client, registered, uri):
    response = _put(client, registered, redirect_uris=[uri])
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_redirect_uri"
    assert response["Cache-Control"] == "no-store"
    _unchanged(registered)


@pytest.mark.parametrize(
    "metadata",
    [
        {"token_endpoint_auth_method": "client_secret_basic", "grant_types": ["client_credentials"]},
        {"token_endpoint_auth_method": "client_secret_basic"},
        {"token_endpoint_auth_method": "client_secret_post"},
        {"grant_types": ["client_credentials"]},
        {"grant_types": ["implicit"]},
        {"response_types": ["token"]},
    ],
)
def test_update_cannot_make_a_confidential_or_non_code_client(client, registered, metadata):
    response = _put(client, registered, **metadata)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_client_metadata"
    _unchanged(registered)


def test_update_without_an_auth_method_keeps_the_client_public(client, registered):
    response = _put(client, registered, token_endpoint_auth_method=None, client_name="Renamed Agent")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["token_endpoint_auth_method"] == "none"
    assert "client_secret" not in body
    assert response["Cache-Control"] == "no-store"
    app = _application(registered)
    assert app.client_type == Application.CLIENT_PUBLIC
    assert app.name == "Renamed Agent"
    assert app.registration_metadata["client_name"] == "Renamed Agent"
    assert app.registration_metadata["token_endpoint_auth_method"] == "none"
    assert app.logo_uri == ""  # RFC 7592 §2.2: a full replacement; the update sent no logo_uri


def test_update_must_be_sent_as_application_json(client, registered):
    response = _put(client, registered, content_type="text/plain", redirect_uris=["https://other.example/cb"])
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_client_metadata"
    _unchanged(registered)


def test_update_over_64_kb_gets_413(client, registered):
    response = _put(client, registered, client_name="x" * (64 * 1024), redirect_uris=["https://other.example/cb"])
    assert response.status_code == 413
    assert response.json() == {"error": "invalid_request", "error_description": "The request body is too large."}
    assert response["Cache-Control"] == "no-store"
    _unchanged(registered)


def test_updates_count_against_the_registration_rate_limit(client, registered, settings):
    settings.MCPRAG_RATE_LIMITS = {**settings.MCPRAG_RATE_LIMITS, "register": (3, 3600)}
    token = registered["registration_access_token"]
    for _ in range(2):  # the registration itself counted before the limit was lowered
        response = _put(client, registered, token=token)
        assert response.status_code == 200, response.content
        token = response.json()["registration_access_token"]
    refused = _put(client, registered, token=token, redirect_uris=["https://other.example/cb"])
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 3600
    _unchanged(registered)


def test_read_returns_the_registration_token_with_no_store(client, registered):
    response = client.get(f"/register/{registered['client_id']}/",
                          HTTP_AUTHORIZATION=f"Bearer {registered['registration_access_token']}")
    assert response.status_code == 200
    assert response.json()["registration_access_token"]
    assert response["Cache-Control"] == "no-store"


def test_wrong_token_gets_401_and_changes_nothing(client, registered):
    response = _put(client, registered, token="not-the-token", redirect_uris=["https://other.example/cb"])
    assert response.status_code == 401
    assert response["Cache-Control"] == "no-store"
    _unchanged(registered)


# Remembered consent (kept per person, client, scopes and resource; a loopback redirect URI always
# asks again) and a changed redirect URI.


def _authorize(client, person, client_id, redirect_uri):
    client.force_login(person)
    _, challenge = pkce_pair()
    return client.get(authorize_query(client_id, challenge, redirect_uri=redirect_uri))


def _consent(client, person, registered):
    page = _authorize(client, person, registered["client_id"], HTTPS_REDIRECT)
    assert page.status_code == 200
    form = page.context["form"]
    data = {name: (form.initial.get(name) or "") for name in form.fields}
    data["allow"] = "Authorize"
    assert client.post(page.request["PATH_INFO"] + "?" + page.request["QUERY_STRING"], data).status_code == 302
    assert _authorize(client, person, registered["client_id"], HTTPS_REDIRECT).status_code == 302  # remembered


def test_changing_redirect_uris_shows_the_consent_page_naming_the_new_host(client, person, registered):
    _consent(client, person, registered)
    new_redirect = "https://new-host.example/cb"
    assert _put(client, registered, redirect_uris=[new_redirect]).status_code == 200

    page = _authorize(client, person, registered["client_id"], new_redirect)
    assert page.status_code == 200, page.get("Location")
    assert page.context["redirect_host"] == "new-host.example"
    assert not Consent.objects.filter(revoked_at__isnull=True).exists()
    event = AuthEvent.objects.get(kind=AuthEvent.Kind.CONSENT_REVOKED)
    assert event.client_id == registered["client_id"] and event.detail["reason"] == "redirect_uris_changed"


def test_adding_a_redirect_uri_also_forgets_consent(client, person, registered):
    _consent(client, person, registered)
    assert _put(client, registered, redirect_uris=[HTTPS_REDIRECT, "https://new-host.example/cb"]).status_code == 200
    assert _authorize(client, person, registered["client_id"], HTTPS_REDIRECT).status_code == 200


def test_update_keeping_the_redirect_uris_keeps_consent(client, person, registered):
    _consent(client, person, registered)
    assert _put(client, registered, client_name="Renamed Agent").status_code == 200
    response = _authorize(client, person, registered["client_id"], HTTPS_REDIRECT)
    assert response.status_code == 302
    assert response["Location"].startswith(HTTPS_REDIRECT + "?code=")
