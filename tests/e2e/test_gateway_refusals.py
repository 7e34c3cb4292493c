"""The resource server refuses what it must, against the real running server (RFC 6750 §3,
RFC 9728 §5.1, RFC 8707 §2, MCP transport security)."""

from __future__ import annotations

import json

import httpx2
import pytest

from tests.support.sdk_auth import authorization_code_token

pytestmark = pytest.mark.e2e

INIT = {
    "jsonrpc": "2.0", "id": 1, "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "probe", "version": "0"}},
}
HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


def _challenge(response) -> str:
    return response.headers.get("www-authenticate", "")


def test_no_token_gets_401_pointing_at_the_protected_resource_metadata(live_server_e2e):
    response = httpx2.post(live_server_e2e.mcp_url, json=INIT, headers=HEADERS)
    assert response.status_code == 401
    challenge = _challenge(response)
    assert challenge.startswith("Bearer ")
    assert f'resource_metadata="{live_server_e2e.base_url}/.well-known/oauth-protected-resource/mcp"' in challenge
    assert 'scope="code:read"' in challenge
    assert "error=" not in challenge  # RFC 6750 §3.1: no error code when no credentials were sent
    prm = httpx2.get(f"{live_server_e2e.base_url}/.well-known/oauth-protected-resource/mcp").json()
    assert prm["resource"] == live_server_e2e.mcp_url


@pytest.mark.parametrize("token", ["garbage", "x" * 5000, "eyJhbGciOiJub25lIn0.e30."])
def test_garbage_token_gets_401_invalid_token(live_server_e2e, token):
    response = httpx2.post(live_server_e2e.mcp_url, json=INIT, headers={**HEADERS, "Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert 'error="invalid_token"' in _challenge(response)
    assert response.json()["error"] == "invalid_token"


def test_token_in_query_string_is_refused(live_server_e2e):
    response = httpx2.post(f"{live_server_e2e.mcp_url}?access_token=abc", json=INIT, headers=HEADERS)
    assert response.status_code == 400  # RFC 6750 §3.1: invalid_request is a 400
    assert 'error="invalid_request"' in _challenge(response)
    assert "revoked" not in response.json()["error_description"]  # not a token of ours: nothing to revoke


def test_foreign_origin_gets_403_before_anything_else(live_server_e2e):
    response = httpx2.post(live_server_e2e.mcp_url, json=INIT, headers={**HEADERS, "Origin": "https://evil.example"})
    assert response.status_code == 403


def test_registration_with_non_loopback_http_redirect_is_refused(live_server_e2e):
    response = httpx2.post(
        f"{live_server_e2e.base_url}/register/",
        content=json.dumps({"redirect_uris": ["http://evil.example/cb"], "token_endpoint_auth_method": "none"}),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_redirect_uri"


def test_unknown_page_is_a_plain_404_without_a_debug_page(live_server_e2e):
    response = httpx2.get(f"{live_server_e2e.base_url}/no/such/page", headers={"Accept": "text/html"})
    assert response.status_code == 404
    assert "Traceback" not in response.text and "DEBUG = True" not in response.text



_MINT = """
import datetime, time, uuid, jwt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone
from oauth2_provider.models import get_access_token_model, get_application_model
from oauth_app.keys import active_key
App = get_application_model()
app, _ = App.objects.get_or_create(name="minted", defaults=dict(client_type="public", authorization_grant_type="authorization-code", redirect_uris="http://127.0.0.1/cb"))
user = get_user_model().objects.get(username="{user}")
key = active_key()
now = int(time.time())
claims = dict(iss=settings.MCPRAG_ISSUER, sub=str(user.pk), aud="{aud}", client_id=app.client_id, scope="code:read", iat=now, exp=now + 600, jti=uuid.uuid4().hex)
token = jwt.encode(claims, key.private_pem, algorithm="RS256", headers=dict(kid=key.kid, typ="at+jwt"))
get_access_token_model().objects.create(user=user, application=app, token=token, scope="code:read", expires=timezone.now() + datetime.timedelta(minutes=10), resource={resource})
print(token)
"""


def _mint(server, aud: str, resource: str) -> str:
    out = server.manage("shell", "-c", _MINT.format(user=server.username, aud=aud, resource=resource)).stdout
    return out.strip().splitlines()[-1]


@pytest.mark.parametrize(
    ("aud", "resource"),
    [("https://other.example/mcp", '["https://other.example/mcp"]'), ("https://other.example/mcp", "[]")],
)
def test_token_for_another_audience_gets_401(live_server_e2e, aud, resource):
    token = _mint(live_server_e2e, aud, resource)
    response = httpx2.post(live_server_e2e.mcp_url, json=INIT, headers={**HEADERS, "Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert 'error="invalid_token"' in _challenge(response)
    assert "not issued for this resource" in response.json()["error_description"]


def test_a_token_signed_by_this_server_for_this_audience_is_accepted(live_server_e2e):
    """Control case: the refusals above are about the audience, not about minting."""
    token = _mint(live_server_e2e, live_server_e2e.mcp_url, f'["{live_server_e2e.mcp_url}"]')
    response = httpx2.post(live_server_e2e.mcp_url, json=INIT, headers={**HEADERS, "Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text


def _token_via_flow(server) -> tuple[str, str]:
    token = authorization_code_token(server)
    return token, jwt_client_id(token)


def jwt_client_id(token: str) -> str:
    import jwt

    return jwt.decode(token, options={"verify_signature": False})["client_id"]


def _call(server, token, **headers):
    return httpx2.post(server.mcp_url, json=INIT, headers={**HEADERS, "Authorization": f"Bearer {token}", **headers})


def test_unsupported_protocol_version_gets_400(live_server_e2e):
    token, _ = _token_via_flow(live_server_e2e)
    response = _call(live_server_e2e, token, **{"MCP-Protocol-Version": "1999-01-01"})
    assert response.status_code == 400


def test_oversized_body_gets_413(live_server_e2e):
    token, _ = _token_via_flow(live_server_e2e)
    big = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "search_code", "arguments": {"query": "x" * 2_000_000}}}
    response = httpx2.post(live_server_e2e.mcp_url, json=big, headers={**HEADERS, "Authorization": f"Bearer {token}"})
    assert response.status_code == 413


def test_registration_access_token_is_refused_at_mcp(live_server_e2e):
    reg = httpx2.post(f"{live_server_e2e.base_url}/register/", json={
        "redirect_uris": ["http://127.0.0.1:9/cb"], "token_endpoint_auth_method": "none"}).json()
    response = _call(live_server_e2e, reg["registration_access_token"])
    assert response.status_code == 401
    assert 'error="invalid_token"' in _challenge(response)


def test_revoking_the_token_at_the_endpoint_stops_the_next_call(live_server_e2e):
    token, client_id = _token_via_flow(live_server_e2e)
    assert _call(live_server_e2e, token).status_code == 200
    revoke = httpx2.post(f"{live_server_e2e.base_url}/revoke_token/", data={"token": token, "client_id": client_id})
    assert revoke.status_code == 200
    response = _call(live_server_e2e, token)
    assert response.status_code == 401
    assert "revoked" in response.json()["error_description"]


_REVOKE_AGENT = """
from django.contrib.auth import get_user_model
from oauth_app.models import Application
from oauth_app.services import revoke_agent
print(revoke_agent(get_user_model().objects.get(username="{user}"), Application.objects.get(client_id="{client_id}")))
"""


def test_revoking_the_consent_stops_the_next_call(live_server_e2e):
    token, client_id = _token_via_flow(live_server_e2e)
    assert _call(live_server_e2e, token).status_code == 200
    out = live_server_e2e.manage("shell", "-c", _REVOKE_AGENT.format(user=live_server_e2e.username, client_id=client_id)).stdout
    assert out.strip().splitlines()[-1] == "1"
    assert _call(live_server_e2e, token).status_code == 401
