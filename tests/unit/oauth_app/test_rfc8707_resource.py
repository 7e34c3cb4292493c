"""RFC 8707 resource indicators: tokens are always bound to this server's MCP URL."""

from __future__ import annotations

import pytest
from oauth2_provider.models import get_access_token_model, get_grant_model, get_refresh_token_model

from oauth_app.resource_indicators import canonical_resource

from tests.support.oauth import REDIRECT_URI, authorize_query, pkce_pair, redirect_params

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("HTTPS://MCP.Example.COM:443/mcp/", "https://mcp.example.com/mcp"),
        ("http://127.0.0.1:8000/mcp", "http://127.0.0.1:8000/mcp"),
        ("http://127.0.0.1:80/mcp", "http://127.0.0.1/mcp"),
        ("https://h/mcp#frag", None),
        ("urn:x:y", None),
        ("https://user@h/mcp", None),
    ],
)
def test_canonical_resource(raw, canonical):
    assert canonical_resource(raw) == canonical


def test_foreign_resource_is_refused_at_authorize_before_consent(client, person, public_client):
    client.force_login(person)
    _, challenge = pkce_pair()
    url = authorize_query(public_client["client_id"], challenge, resource="https://other.example/mcp")
    params = redirect_params(client.get(url))
    assert params["error"] == "invalid_target"
    assert not get_grant_model().objects.exists()


def _exchange(client, client_id, code, verifier, **extra):
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI, "client_id": client_id, "code_verifier": verifier}
    data.update(extra)
    return client.post("/token/", data)


def test_absent_resource_binds_the_token_to_the_mcp_url(client, public_client, obtain_code, mcp_url):
    code, verifier, params = obtain_code(public_client["client_id"])
    assert params["iss"] == "http://127.0.0.1:8000"  # RFC 9207
    response = _exchange(client, public_client["client_id"], code, verifier)
    assert response.status_code == 200, response.content
    assert response["Cache-Control"] == "no-store"
    token = get_access_token_model().objects.exclude(scope="oauth2_provider:registration").get()
    assert token.resource == [mcp_url]


def test_resource_in_a_different_spelling_is_accepted_and_canonicalised(client, public_client, obtain_code, mcp_url):
    code, verifier, _ = obtain_code(public_client["client_id"], resource="HTTP://127.0.0.1:8000/mcp/")
    response = _exchange(client, public_client["client_id"], code, verifier, resource=mcp_url)
    assert response.status_code == 200, response.content
    assert get_access_token_model().objects.exclude(scope="oauth2_provider:registration").get().resource == [mcp_url]


def test_foreign_resource_at_the_token_endpoint_is_refused_and_nothing_issued(client, public_client, obtain_code):
    code, verifier, _ = obtain_code(public_client["client_id"])
    response = _exchange(client, public_client["client_id"], code, verifier, resource="https://other.example/mcp")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_target"
    assert not get_access_token_model().objects.exclude(scope="oauth2_provider:registration").exists()


# One canonical comparison at every step: a resource written with a trailing slash or in another
# case names the MCP endpoint at the authorization endpoint, the code exchange and the refresh
# alike (a person who consented must not meet invalid_target afterwards).
SPELLINGS = [
    "http://127.0.0.1:8000/mcp",
    "http://127.0.0.1:8000/mcp/",
    "HTTP://127.0.0.1:8000/mcp",
    "Http://127.0.0.1:8000/mcp/",
    "http://127.0.0.1:8000/mcp//",
]


def _issued():
    return list(get_access_token_model().objects.exclude(scope="oauth2_provider:registration"))


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_each_spelling_is_accepted_at_authorize_token_and_refresh(client, public_client, obtain_code, mcp_url, spelling):
    import jwt

    client_id = public_client["client_id"]
    code, verifier, _ = obtain_code(client_id, resource=spelling)
    assert get_grant_model().objects.get().resource == [mcp_url]
    exchanged = _exchange(client, client_id, code, verifier, resource=spelling)
    assert exchanged.status_code == 200, exchanged.content
    assert jwt.decode(exchanged.json()["access_token"], options={"verify_signature": False})["aud"] == mcp_url
    refreshed = client.post("/token/", {"grant_type": "refresh_token", "refresh_token": exchanged.json()["refresh_token"],
                                        "client_id": client_id, "resource": spelling})
    assert refreshed.status_code == 200, refreshed.content
    assert jwt.decode(refreshed.json()["access_token"], options={"verify_signature": False})["aud"] == mcp_url
    assert [token.resource for token in _issued()] == [[mcp_url]]  # the refreshed one (rotation)
    assert get_refresh_token_model().objects.filter(revoked__isnull=True).get().resource == [mcp_url]


@pytest.mark.parametrize("spelling", SPELLINGS[1:])
def test_spelling_sent_only_at_the_token_endpoint_is_accepted(client, public_client, obtain_code, mcp_url, spelling):
    code, verifier, _ = obtain_code(public_client["client_id"])
    response = _exchange(client, public_client["client_id"], code, verifier, resource=spelling)
    assert response.status_code == 200, response.content
    assert _issued()[0].resource == [mcp_url]


def test_repeated_resource_with_a_foreign_value_is_refused_at_the_token_endpoint(client, public_client, obtain_code):
    code, verifier, _ = obtain_code(public_client["client_id"])
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI,
            "client_id": public_client["client_id"], "code_verifier": verifier}
    from urllib.parse import urlencode

    body = urlencode(data) + "&" + urlencode([("resource", "http://127.0.0.1:8000/mcp/"), ("resource", "https://other.example/mcp")])
    response = client.post("/token/", body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_target"
    assert not _issued()


def test_client_credentials_accept_another_spelling(client, mcp_url):
    import base64

    from oauth_app.services import create_service_client

    app, secret = create_service_client("ci", ["code:read"])
    basic = "Basic " + base64.b64encode(f"{app.client_id}:{secret}".encode()).decode()
    response = client.post("/token/", {"grant_type": "client_credentials", "resource": "HTTP://127.0.0.1:8000/mcp/"},
                           HTTP_AUTHORIZATION=basic)
    assert response.status_code == 200, response.content
    assert _issued()[0].resource == [mcp_url]
