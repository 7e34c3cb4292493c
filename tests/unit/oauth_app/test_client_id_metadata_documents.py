"""Client ID Metadata Documents: a URL client_id is fetched (through the injectable fetcher),
checked against the registration policy, and registered as a public client."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from oauth2_provider.models import get_grant_model

from oauth_app.models import Application
from tests.support import cimd

from tests.support.oauth import pkce_pair

pytestmark = pytest.mark.django_db

CLIENT_ID = "https://agent.example/oauth/client.json"
REDIRECT = "http://127.0.0.1:51234/callback"


@pytest.fixture(autouse=True)
def static_fetcher(settings):
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "CIMD_METADATA_FETCHER": "tests.support.cimd.StaticDocumentFetcher"}
    cimd.DOCUMENTS.clear()
    cache.clear()
    yield
    cimd.DOCUMENTS.clear()


def _document(**overrides):
    doc = {"client_id": CLIENT_ID, "client_name": "Metadata Agent", "redirect_uris": [REDIRECT],
           "client_uri": "https://agent.example", "logo_uri": "https://agent.example/logo.png",
           "token_endpoint_auth_method": "none", "grant_types": ["authorization_code", "refresh_token"]}
    doc.update(overrides)
    return doc


def _authorize(client, person, redirect_uri=REDIRECT):
    client.force_login(person)
    _, challenge = pkce_pair()
    return client.get("/authorize/", {"response_type": "code", "client_id": CLIENT_ID, "redirect_uri": redirect_uri,
                                      "state": "s1", "code_challenge": challenge, "code_challenge_method": "S256"})


def test_metadata_advertises_support(client):
    assert client.get("/.well-known/oauth-authorization-server").json()["client_id_metadata_document_supported"] is True


def test_url_client_id_is_fetched_and_registered_with_its_metadata(client, person):
    cimd.DOCUMENTS[CLIENT_ID] = _document()
    page = _authorize(client, person)
    assert page.status_code == 200, page.content[:300]
    assert b"Metadata Agent" in page.content and b"agent.example" in page.content
    app = Application.objects.get(client_id=CLIENT_ID)
    assert app.registration_source == "cimd" and app.client_type == "public"
    assert app.logo_uri == "https://agent.example/logo.png"
    assert app.registration_metadata["client_name"] == "Metadata Agent"


@pytest.mark.parametrize(
    "document",
    [
        _document(client_id="https://elsewhere.example/client.json"),  # MUST equal the URL
        _document(redirect_uris=["http://evil.example/cb"]),
        _document(token_endpoint_auth_method="client_secret_basic"),
        {k: v for k, v in _document().items() if k != "client_name"},
        {k: v for k, v in _document().items() if k != "redirect_uris"},
    ],
)
def test_bad_documents_leave_the_client_unknown_and_never_redirect(client, person, document):
    cimd.DOCUMENTS[CLIENT_ID] = document
    response = _authorize(client, person)
    assert response.status_code == 400
    assert "Location" not in response
    assert not Application.objects.filter(client_id=CLIENT_ID).exists()


def test_redirect_uri_not_in_the_document_is_refused(client, person):
    cimd.DOCUMENTS[CLIENT_ID] = _document()
    response = _authorize(client, person, redirect_uri="http://127.0.0.1:51234/other")
    assert response.status_code == 400
    assert "Location" not in response
    assert not get_grant_model().objects.exists()


def test_unreachable_document_is_an_unknown_client(client, person):
    response = _authorize(client, person)
    assert response.status_code == 400
    assert not Application.objects.exists()
