"""Who may use the operator API: tokens bound to the API resource (RFC 8707) holding console:admin,
for a service client an operator created or a staff person signed in with TOTP; errors in the API's
one JSON shape with an RFC 6750 challenge."""

from __future__ import annotations

import jwt
import pytest

from mcp_gateway.auth.bearer import InvalidToken, verify_access_token
from tests.support.oauth import REDIRECT_URI

from .conftest import basic

pytestmark = pytest.mark.django_db


def _get(client, path, token):
    return client.get(path, HTTP_AUTHORIZATION=f"Bearer {token}")


def test_service_client_token_for_the_api_resource_is_bound_to_it_and_works(client, service_token, api_url):
    app, token = service_token()
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["aud"] == api_url and claims["scope"] == "console:admin"
    response = _get(client, "/api/people/", token)
    assert response.status_code == 200, response.content
    assert response.json()["results"] == []


def test_an_api_token_is_refused_at_the_mcp_gateway(service_token):
    _app, token = service_token(("console:admin", "code:read"))
    with pytest.raises(InvalidToken, match="not issued for this resource"):
        verify_access_token(token)


def test_an_mcp_token_is_refused_at_the_api(client, service_token):
    _app, token = service_token(("console:admin", "code:read"), resource=None)  # no resource: the MCP endpoint
    assert jwt.decode(token, options={"verify_signature": False})["aud"].endswith("/mcp")
    response = _get(client, "/api/people/", token)
    assert response.status_code == 401
    assert response.json() == {"error": "invalid_token", "error_description": "The access token is not valid for this resource."}
    assert response["WWW-Authenticate"].startswith('Bearer realm="mcprag-api"')
    assert 'error="invalid_token"' in response["WWW-Authenticate"]


def test_without_a_token_the_answer_is_401_with_a_challenge(client):
    response = client.get("/api/people/")
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"
    assert response["WWW-Authenticate"].startswith("Bearer ")


def test_a_service_client_without_console_admin_gets_403_insufficient_scope(client, service_token):
    _app, token = service_token(("index:admin",))
    response = _get(client, "/api/people/", token)
    assert response.status_code == 403
    assert response.json()["error"] == "insufficient_scope"


def test_taking_console_admin_off_a_service_client_stops_its_tokens_at_once(client, service_token):
    app, token = service_token()
    assert _get(client, "/api/people/", token).status_code == 200
    app.allowed_scopes = "code:read"
    app.save(update_fields=["allowed_scopes"])
    assert _get(client, "/api/people/", token).status_code == 403


def test_a_disabled_service_client_is_refused(client, service_token):
    from django.utils import timezone

    app, token = service_token()
    app.disabled_at = timezone.now()
    app.save(update_fields=["disabled_at"])
    assert _get(client, "/api/people/", token).status_code == 401


@pytest.mark.parametrize("resources", [["https://elsewhere.example/api"], ["mcp", "api"]])
def test_token_requests_for_an_unknown_resource_or_both_resources_are_invalid_target(client, resources, api_url, mcp_url):
    from oauth_app.services import create_service_client

    app, secret = create_service_client("ci", ["console:admin"])
    values = [{"mcp": mcp_url, "api": api_url}.get(r, r) for r in resources]
    response = client.post("/token/", {"grant_type": "client_credentials", "resource": values},
                           HTTP_AUTHORIZATION=basic(app.client_id, secret))
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_target"


def test_staff_with_a_totp_sign_in_gets_a_working_api_token_and_refresh_keeps_the_audience(
        client, operator, person_token, public_client, api_url):
    tokens = person_token(operator)
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    assert claims["aud"] == api_url and "console:admin" in tokens["scope"].split() and "otp" in claims["amr"]
    assert _get(client, "/api/people/", tokens["access_token"]).status_code == 200
    refreshed = client.post("/token/", {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"],
                                        "client_id": public_client["client_id"]})
    assert refreshed.status_code == 200, refreshed.content
    assert jwt.decode(refreshed.json()["access_token"], options={"verify_signature": False})["aud"] == api_url
    assert _get(client, "/api/people/", refreshed.json()["access_token"]).status_code == 200


def test_staff_without_totp_is_not_granted_console_admin(client, operator, person_token):
    tokens = person_token(operator, totp=False, scope="code:read console:admin")
    assert "console:admin" not in tokens["scope"].split()
    assert _get(client, "/api/people/", tokens["access_token"]).status_code == 403


def test_a_person_who_is_not_staff_is_not_granted_console_admin(client, person, person_token):
    tokens = person_token(person, totp=False, scope="code:read console:admin")
    assert tokens["scope"].split() == ["code:read"]
    assert _get(client, "/api/people/", tokens["access_token"]).status_code == 403


def test_losing_staff_status_stops_a_persons_api_token_at_the_next_request(client, operator, person_token):
    tokens = person_token(operator)
    assert _get(client, "/api/people/", tokens["access_token"]).status_code == 200
    operator.is_staff = False
    operator.save(update_fields=["is_staff"])
    assert _get(client, "/api/people/", tokens["access_token"]).status_code == 403


def test_mcp_tokens_are_still_bound_to_mcp_by_default(client, public_client, obtain_code, mcp_url):
    code, verifier, _ = obtain_code(public_client["client_id"])
    response = client.post("/token/", {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI,
                                       "client_id": public_client["client_id"], "code_verifier": verifier})
    assert jwt.decode(response.json()["access_token"], options={"verify_signature": False})["aud"] == mcp_url


def test_the_schema_is_public_openapi_3(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert "/api/repositories/" in schema["paths"] and "/api/audit/tool-calls/" in schema["paths"]
    assert schema["components"]["securitySchemes"]["operatorToken"]["scheme"] == "bearer"


def test_a_code_granted_for_mcp_cannot_be_exchanged_for_an_api_token(client, operator, public_client, api_url):
    from tests.support.oauth import approve_consent, authorize_query, pkce_pair, redirect_params, totp_code

    client.force_login(operator)
    client.get("/account/mfa/")
    client.post("/account/mfa/", {"code": totp_code(operator)})
    verifier, challenge = pkce_pair()
    page = client.get(authorize_query(public_client["client_id"], challenge, scope="console:admin"))  # no resource: /mcp
    code = redirect_params(approve_consent(client, page))["code"]
    response = client.post("/token/", {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI,
                                       "client_id": public_client["client_id"], "code_verifier": verifier,
                                       "resource": api_url})
    assert response.status_code == 400 and response.json()["error"] == "invalid_target"


def test_the_mcp_resource_metadata_does_not_advertise_the_api_scope(client):
    scopes = client.get("/.well-known/oauth-protected-resource/mcp").json()["scopes_supported"]
    assert "console:admin" not in scopes and "index:admin" in scopes


def test_the_api_is_a_protected_resource_with_its_own_metadata(client, settings):
    """RFC 9728 §3 (the document at the path-suffixed well-known URL) and §5.1 (a 401 names it)."""
    response = client.get("/api/people/")
    challenge = response["WWW-Authenticate"]
    url = f"{settings.MCPRAG_PUBLIC_URL}/.well-known/oauth-protected-resource/api"
    assert challenge.startswith('Bearer realm="mcprag-api"') and f'resource_metadata="{url}"' in challenge
    document = client.get("/.well-known/oauth-protected-resource/api").json()
    assert document["resource"] == f"{settings.MCPRAG_PUBLIC_URL}/api"
    assert document["authorization_servers"] == [settings.MCPRAG_ISSUER] and document["scopes_supported"] == ["console:admin"]
    assert client.get("/.well-known/oauth-protected-resource/mcp").json()["resource"] == f"{settings.MCPRAG_PUBLIC_URL}/mcp"
    assert client.get("/.well-known/oauth-protected-resource/other").status_code == 404


def test_an_audience_free_token_is_refused(client, service_token):
    from oauth2_provider.models import get_access_token_model

    _app, token = service_token()
    get_access_token_model().objects.update(resource=[])  # e.g. a registration-management token: DOT calls it unrestricted
    response = _get(client, "/api/people/", token)
    assert response.status_code == 401 and response.json()["error"] == "invalid_token"
