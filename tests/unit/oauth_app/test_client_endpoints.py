"""The endpoints client programs call: JSON errors for a wrong method, CORS for public browser
clients (never credentials, never on a person's pages), and a bad Host header logged as one
warning line instead of an ERROR with a traceback."""

from __future__ import annotations

import json
import logging

import pytest

from tests.support.oauth import REDIRECT_URI

pytestmark = pytest.mark.django_db

ORIGIN = "http://localhost:6274"  # e.g. the MCP Inspector's web UI


@pytest.mark.parametrize(("method", "path", "allow"), [
    ("get", "/token/", "POST, OPTIONS"),
    ("get", "/revoke_token/", "POST, OPTIONS"),
    ("get", "/register/", "POST, OPTIONS"),
    ("get", "/introspect/", "POST"),
    ("put", "/token/", "POST, OPTIONS"),
    ("patch", "/revoke_token/", "POST, OPTIONS"),
    ("delete", "/register/", "POST, OPTIONS"),
    ("post", "/.well-known/oauth-authorization-server", "GET, HEAD, OPTIONS"),
    ("post", "/.well-known/jwks.json", "GET, HEAD, OPTIONS"),
    ("post", "/.well-known/oauth-protected-resource/mcp", "GET, HEAD, OPTIONS"),
])
def test_wrong_method_is_a_json_invalid_request_with_allow(client, method, path, allow):
    response = getattr(client, method)(path)
    assert response.status_code == 405
    assert response["Content-Type"] == "application/json"
    assert response["Allow"] == allow
    assert "no-store" in response["Cache-Control"] and "public" not in response["Cache-Control"]
    body = response.json()
    assert body["error"] == "invalid_request"
    assert allow.split(",")[0] in body["error_description"]


def test_wrong_method_at_the_client_configuration_endpoint_is_json(client, public_client):
    response = client.post(f"/register/{public_client['client_id']}/", "{}", content_type="application/json",
                           HTTP_AUTHORIZATION=f"Bearer {public_client['registration_access_token']}")
    assert response.status_code == 405
    assert response.json()["error"] == "invalid_request"
    assert set(response["Allow"].split(", ")) >= {"GET", "PUT", "DELETE"}


# -- CORS ------------------------------------------------------------------------------------------

CROSS_ORIGIN = [
    ("/token/", "POST"),
    ("/revoke_token/", "POST"),
    ("/register/", "POST"),
    ("/.well-known/oauth-authorization-server", "GET"),
    ("/.well-known/openid-configuration", "GET"),
    ("/.well-known/jwks.json", "GET"),
    ("/.well-known/oauth-protected-resource", "GET"),
    ("/.well-known/oauth-protected-resource/mcp", "GET"),
]


def _preflight(client, path, method, headers="authorization, content-type, mcp-protocol-version"):
    return client.options(path, HTTP_ORIGIN=ORIGIN, HTTP_ACCESS_CONTROL_REQUEST_METHOD=method,
                          HTTP_ACCESS_CONTROL_REQUEST_HEADERS=headers)


@pytest.mark.parametrize(("path", "method"), CROSS_ORIGIN)
def test_preflight_of_a_client_endpoint_allows_any_origin_without_credentials(client, path, method):
    response = _preflight(client, path, method)
    assert 200 <= response.status_code < 300
    assert response["Access-Control-Allow-Origin"] == "*"
    assert method in response["Access-Control-Allow-Methods"].split(", ")
    allowed_headers = {h.strip().lower() for h in response["Access-Control-Allow-Headers"].split(",")}
    assert allowed_headers >= {"authorization", "content-type", "mcp-protocol-version"}
    assert int(response["Access-Control-Max-Age"]) > 0
    assert "Access-Control-Allow-Credentials" not in response


def test_preflight_of_the_client_configuration_endpoint(client, public_client):
    response = _preflight(client, f"/register/{public_client['client_id']}/", "PUT")
    assert response["Access-Control-Allow-Origin"] == "*"
    assert {"GET", "PUT", "DELETE"} <= set(response["Access-Control-Allow-Methods"].split(", "))


def test_a_browser_client_can_register_and_read_the_answer(client):
    response = client.post("/register/", json.dumps({"client_name": "Web", "redirect_uris": [REDIRECT_URI]}),
                           content_type="application/json", HTTP_ORIGIN=ORIGIN)
    assert response.status_code == 201
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in response


@pytest.mark.parametrize("data", [{"grant_type": "authorization_code", "code": "nope"},
                                  {"grant_type": "authorization_code", "code": "a\x00b"}])
def test_token_errors_are_readable_cross_origin(client, data):
    response = client.post("/token/", data, HTTP_ORIGIN=ORIGIN)
    assert response.status_code in (400, 401)
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "WWW-Authenticate" in response["Access-Control-Expose-Headers"]


def test_metadata_is_readable_cross_origin(client):
    response = client.get("/.well-known/oauth-authorization-server", HTTP_ORIGIN=ORIGIN)
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize("path", ["/login/", "/authorize/", "/account/", "/console/", "/introspect/", "/password-reset/", "/"])
def test_no_cors_on_pages_and_introspection(client, path):
    preflight = _preflight(client, path, "POST")
    assert "Access-Control-Allow-Origin" not in preflight
    assert "Access-Control-Allow-Methods" not in preflight
    response = client.post(path, {}, HTTP_ORIGIN=ORIGIN)
    assert "Access-Control-Allow-Origin" not in response


# -- Host header -----------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/", "/token/", "/login/"])
def test_a_foreign_host_is_one_warning_line_and_a_400(client, caplog, path):
    caplog.set_level(logging.INFO)
    response = client.get(path, HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info or r.exc_text]
    warnings = [r for r in caplog.records if r.name == "django.security.DisallowedHost"]
    assert len(warnings) == 1 and warnings[0].levelno == logging.WARNING
    assert "\n" not in warnings[0].getMessage() and "evil.example" in warnings[0].getMessage()
