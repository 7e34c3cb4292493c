"""RFC 8252 §7.3 loopback redirects: any port at the time of the request, for ``localhost`` as for
the loopback IP literals; scheme, host, path and query still match exactly."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from oauth2_provider.models import get_grant_model

from mcprag_site.hosts import is_loopback_host
from tests.support import cimd

from tests.support.oauth import approve_consent, authorize_query, pkce_pair

pytestmark = pytest.mark.django_db

REGISTERED = "http://localhost:51000/callback"


def _authorize(client, person, client_id, redirect_uri):
    client.force_login(person)
    verifier, challenge = pkce_pair()
    return client.get(authorize_query(client_id, challenge, redirect_uri=redirect_uri)), verifier


def test_localhost_redirect_on_another_port_completes_the_flow(client, person, register):
    client_id = register(redirect_uris=[REGISTERED]).json()["client_id"]
    asked = "http://localhost:52000/callback"
    page, verifier = _authorize(client, person, client_id, asked)
    assert page.status_code == 200, page.content[:300]
    location = approve_consent(client, page)["Location"]
    assert location.startswith(asked + "?")
    code = parse_qs(urlsplit(location).query)["code"][0]
    token = client.post("/token/", {"grant_type": "authorization_code", "code": code, "redirect_uri": asked,
                                    "client_id": client_id, "code_verifier": verifier})
    assert token.status_code == 200, token.content
    assert token.json()["token_type"] == "Bearer"


def test_loopback_ip_redirect_on_another_port_is_still_accepted(client, person, register):
    client_id = register(redirect_uris=["http://127.0.0.1:51000/callback"]).json()["client_id"]
    page, _ = _authorize(client, person, client_id, "http://127.0.0.1:52000/callback")
    assert page.status_code == 200, page.content[:300]


@pytest.mark.parametrize("asked", [
    "http://localhost:52000/other",            # path differs
    "https://localhost:52000/callback",        # scheme differs
    "http://localhost:52000/callback?x=1",     # query differs
    "http://localhost.evil.com:52000/callback",
    "http://127.0.0.1:52000/callback",         # another host than the registered one
])
def test_only_the_port_of_a_localhost_redirect_may_differ(client, person, register, asked):
    client_id = register(redirect_uris=[REGISTERED]).json()["client_id"]
    page, _ = _authorize(client, person, client_id, asked)
    assert page.status_code == 400
    assert "Location" not in page
    assert not get_grant_model().objects.exists()


def test_https_redirect_port_still_matches_exactly(client, person, register):
    client_id = register(redirect_uris=["https://app.example:8443/cb"]).json()["client_id"]
    page, _ = _authorize(client, person, client_id, "https://app.example:9443/cb")
    assert page.status_code == 400 and "Location" not in page


def test_metadata_document_localhost_redirect_on_another_port_is_accepted(client, person, settings):
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "CIMD_METADATA_FETCHER": "tests.support.cimd.StaticDocumentFetcher"}
    client_id = "https://cli.example/oauth/client.json"
    cimd.DOCUMENTS[client_id] = {"client_id": client_id, "client_name": "CLI", "token_endpoint_auth_method": "none",
                                 "redirect_uris": ["http://localhost:54321/callback"]}
    try:
        page, _ = _authorize(client, person, client_id, "http://localhost:60123/callback")
    finally:
        cimd.DOCUMENTS.clear()
    assert page.status_code == 200, page.content[:300]


@pytest.mark.parametrize(("host", "loopback"), [
    ("localhost", True), ("127.0.0.1", True), ("127.8.9.10", True), ("::1", True),
    ("localhost.evil.com", False), ("mylocalhost", False), ("evil.com", False), ("10.0.0.1", False), ("::2", False),
])
def test_is_loopback_host(host, loopback):
    assert is_loopback_host(host) is loopback
