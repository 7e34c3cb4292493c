"""RFC 7662 introspection is for service clients granted ``token:introspect``, and describes only
tokens issued for this server's MCP endpoint."""

from __future__ import annotations

import base64

import pytest
from django.core.management import CommandError, call_command
from oauth2_provider.models import get_access_token_model

from oauth_app.models import Application
from oauth_app.services import create_service_client

from tests.support.oauth import REDIRECT_URI

pytestmark = pytest.mark.django_db


def _basic(app, secret):
    return "Basic " + base64.b64encode(f"{app.client_id}:{secret}".encode()).decode()


@pytest.fixture
def person_token(client, public_client, obtain_code):
    code, verifier, _ = obtain_code(public_client["client_id"])
    body = client.post("/token/", {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI,
                                   "client_id": public_client["client_id"], "code_verifier": verifier}).json()
    return body["access_token"]


@pytest.fixture
def introspect(client):
    def introspect(token, scopes=("token:introspect",)):
        app, secret = create_service_client(f"rs-{len(scopes)}-{'-'.join(scopes)}", list(scopes))
        return client.post("/introspect/", {"token": token}, HTTP_AUTHORIZATION=_basic(app, secret))

    return introspect


@pytest.mark.parametrize("scopes", [("code:read",), ("code:read", "code:write", "index:admin")])
def test_service_client_without_token_introspect_gets_403_insufficient_scope(introspect, person_token, scopes):
    response = introspect(person_token, scopes)
    assert response.status_code == 403
    body = response.json()
    assert body["error"] == "insufficient_scope" and "token:introspect" in body["error_description"]
    assert "active" not in body and "username" not in body


def test_service_client_with_token_introspect_learns_the_token(introspect, person_token, public_client):
    body = introspect(person_token).json()
    assert body["active"] is True
    assert body["username"] == "grace" and body["client_id"] == public_client["client_id"]
    assert body["aud"] == ["http://127.0.0.1:8000/mcp"]


@pytest.mark.parametrize("resource", [["https://other.example/mcp"], [], ["http://127.0.0.1:8000/mcp", "https://other.example/"]])
def test_token_for_another_audience_is_inactive(introspect, person_token, resource):
    get_access_token_model().objects.update(resource=resource)
    assert introspect(person_token).json() == {"active": False}


def test_unknown_token_is_inactive(introspect):
    assert introspect("no-such-token").json() == {"active": False}


def test_token_introspect_stays_on_the_client_and_never_enters_a_token(client):
    app, secret = create_service_client("ci", ["code:read", "token:introspect"])
    granted = client.post("/token/", {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=_basic(app, secret))
    assert granted.json()["scope"] == "code:read"
    asked = client.post("/token/", {"grant_type": "client_credentials", "scope": "token:introspect"},
                        HTTP_AUTHORIZATION=_basic(app, secret))
    assert asked.status_code == 400 and asked.json()["error"] == "invalid_scope"
    assert "token:introspect" not in client.get("/.well-known/oauth-authorization-server").json()["scopes_supported"]
    assert "token:introspect" not in client.get("/.well-known/oauth-protected-resource/mcp").json()["scopes_supported"]


def test_create_service_client_accepts_token_introspect(capsys):
    call_command("create_service_client", "resource-server", "--scopes", "token:introspect")
    assert Application.objects.get(name="resource-server").allowed_scopes == "token:introspect"
    with pytest.raises(CommandError, match="token:introspect"):  # the list of choices names it
        call_command("create_service_client", "typo", "--scopes", "token:introspection")
