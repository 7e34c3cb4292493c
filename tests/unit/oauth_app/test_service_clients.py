"""Service clients (client-credentials grant), RFC 7662 introspection limited to them, RFC 7009 revocation.
(Who else may not introspect, and which tokens it describes: test_rfc7662_introspection.py.)"""

from __future__ import annotations

import base64

import jwt
import pytest
from django.core.management import call_command

from mcp_gateway.auth.bearer import InvalidToken, verify_access_token
from oauth_app.models import Application
from oauth_app.services import create_service_client

from tests.support.oauth import REDIRECT_URI

pytestmark = pytest.mark.django_db


def _basic(client_id, secret):
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


@pytest.fixture
def service():
    app, secret = create_service_client("ci", ["code:read", "index:admin"])
    return app, secret


def _cc_token(client, app, secret, **extra):
    return client.post("/token/", {"grant_type": "client_credentials", **extra}, HTTP_AUTHORIZATION=_basic(app.client_id, secret))


def test_client_credentials_token_is_audience_bound_with_the_service_scopes(client, service):
    app, secret = service
    response = _cc_token(client, app, secret)
    assert response.status_code == 200, response.content
    body = response.json()
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["aud"] == "http://127.0.0.1:8000/mcp"
    assert claims["sub"] == app.client_id
    assert set(body["scope"].split()) == {"code:read", "index:admin"}
    caller = verify_access_token(body["access_token"])
    assert caller.tier == "service" and caller.user_id is None
    assert caller.scopes == {"code:read", "index:admin"}


def test_secret_is_stored_hashed(service):
    app, secret = service
    stored = Application.objects.get(pk=app.pk).client_secret
    assert secret not in stored and stored.startswith(("pbkdf2", "md5", "argon2", "bcrypt", "scrypt"))


def test_wrong_secret_gets_invalid_client(client, service):
    app, _ = service
    response = _cc_token(client, app, "wrong")
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_scope_beyond_the_service_client_is_refused(client, service):
    app, secret = service
    response = _cc_token(client, app, secret, scope="code:write")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"


def test_foreign_resource_is_refused_for_client_credentials(client, service):
    app, secret = service
    response = _cc_token(client, app, secret, resource="https://other.example/mcp")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_target"


def test_create_service_client_command_prints_the_secret_once(capsys):
    call_command("create_service_client", "nightly", "--scopes", "code:read")
    out = capsys.readouterr().out
    assert "client_secret:" in out
    app = Application.objects.get(name="nightly")
    assert app.allowed_scopes == "code:read" and app.is_service_client


def test_introspection_answers_a_service_client_granted_token_introspect(client, service):
    app, secret = service
    token = _cc_token(client, app, secret).json()["access_token"]
    inspector, inspector_secret = create_service_client("resource-server", ["token:introspect"])
    response = client.post("/introspect/", {"token": token},
                           HTTP_AUTHORIZATION=_basic(inspector.client_id, inspector_secret))
    assert response.status_code == 200
    assert response.json()["active"] is True
    assert response.json()["aud"] == ["http://127.0.0.1:8000/mcp"]


def test_introspection_refuses_public_clients_and_anonymous_callers(client, service, public_client):
    app, secret = service
    token = _cc_token(client, app, secret).json()["access_token"]
    assert client.post("/introspect/", {"token": token}).status_code == 401
    assert client.post("/introspect/", {"token": token, "client_id": public_client["client_id"]}).status_code == 401
    # A bearer token is not client authentication either.
    assert client.post("/introspect/", {"token": token}, HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401
    assert client.get(f"/introspect/?token={token}").status_code == 405


def test_revoking_an_access_token_stops_it_at_the_gateway(client, public_client, obtain_code):
    code, verifier, _ = obtain_code(public_client["client_id"])
    body = client.post("/token/", {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI,
                                   "client_id": public_client["client_id"], "code_verifier": verifier}).json()
    verify_access_token(body["access_token"])
    response = client.post("/revoke_token/", {"token": body["access_token"], "client_id": public_client["client_id"]})
    assert response.status_code == 200
    with pytest.raises(InvalidToken):
        verify_access_token(body["access_token"])


def test_disabled_client_tokens_stop_working(client, service):
    from django.utils import timezone

    app, secret = service
    token = _cc_token(client, app, secret).json()["access_token"]
    Application.objects.filter(pk=app.pk).update(disabled_at=timezone.now())
    with pytest.raises(InvalidToken, match="disabled"):
        verify_access_token(token)
    assert _cc_token(client, app, secret).status_code in (400, 401)
