"""NUL and control characters are refused at the edge of every endpoint an outsider reaches, with
the protocol's error — never a 500 (PostgreSQL cannot store or compare text with a NUL: run these
with DATABASE_URL=postgres://… to see the difference), never a traceback in the log."""

from __future__ import annotations

import base64
import json
import logging
from urllib.parse import urlencode

import pytest
from oauth2_provider.models import get_access_token_model, get_grant_model

from oauth_app.models import Application
from oauth_app.services import create_service_client

from tests.support.oauth import REDIRECT_URI, authorize_query, pkce_pair

pytestmark = pytest.mark.django_db

NUL = "a\x00b"


@pytest.fixture(autouse=True)
def _no_error_in_the_log(caplog):
    caplog.set_level(logging.INFO)
    yield
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not errors, [r.getMessage() for r in errors]


def _basic(client_id: str, secret: str = "secret") -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def _assert_oauth_error(response, error: str = "invalid_request"):
    assert response.status_code == 400, response.content[:300]
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    assert response.json()["error"] == error
    assert "\x00" not in response.json()["error_description"]


def _issued():
    return get_access_token_model().objects.exclude(scope="oauth2_provider:registration")


# -- RFC 7591 registration and RFC 7592 client configuration -------------------------------------

@pytest.mark.parametrize(("field", "value"), [
    ("client_name", NUL), ("software_id", NUL), ("software_version", NUL), ("client_uri", "https://agent.example/" + NUL),
    ("logo_uri", "https://agent.example/\x00.png"), ("tos_uri", NUL), ("policy_uri", NUL), ("scope", NUL),
    ("application_type", NUL), ("contacts", [NUL]), ("contacts", ["ops@example.com", "x\x00@example.com"]),
    ("client_name", "Agent\nSmith"), ("client_name", "Agent\x1b[31m"), ("software_id", "id\x7f"),
    # a lone surrogate (JSON "\ud800"): no UTF-8 text holds one, so storing it failed (a 500)
    ("client_name", "Agent\ud800"), ("contacts", ["ops\udc00@example.com"]), ("software_version", "1\udbff"),
    # bidirectional overrides and isolates reorder what the consent page shows
    ("client_name", "Claude\u202eedoC"), ("client_name", "Agent\u2066x\u2069"),
])
def test_control_character_in_client_metadata_is_invalid_client_metadata(register, field, value):
    response = register(**{field: value})
    _assert_oauth_error(response, "invalid_client_metadata")
    assert field in response.json()["error_description"]
    assert not Application.objects.exists()


@pytest.mark.parametrize(("field", "value"), [("contacts", NUL), ("contacts", {"a": NUL}), ("scope", {"x": 1}),
                                              ("tos_uri", ["https://x"]), ("contacts", [1])])
def test_metadata_field_of_the_wrong_type_is_invalid_client_metadata(register, field, value):
    _assert_oauth_error(register(**{field: value}), "invalid_client_metadata")
    assert not Application.objects.exists()


def test_other_unicode_in_client_metadata_is_kept(register):
    name = "Café ☕ Agent 𝔸 \u200fוכן"  # an astral character (a surrogate pair in JSON) and a right-to-left mark
    response = register(client_name=name, contacts=["zoë@example.com"])
    assert response.status_code == 201, response.content
    assert response.json()["client_name"] == name


@pytest.mark.parametrize("name", [NUL, "Agent\ud800"])
def test_update_with_a_nul_in_the_metadata_is_refused_and_changes_nothing(client, public_client, name):
    response = client.put(f"/register/{public_client['client_id']}/",
                          json.dumps({"client_name": name, "redirect_uris": [REDIRECT_URI]}), content_type="application/json",
                          HTTP_AUTHORIZATION=f"Bearer {public_client['registration_access_token']}")
    _assert_oauth_error(response, "invalid_client_metadata")
    assert Application.objects.get(client_id=public_client["client_id"]).name == "Test Agent"


@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_nul_in_the_client_configuration_path_is_invalid_request(client, public_client, method):
    response = client.generic(method.upper(), "/register/a%00b/", json.dumps({"redirect_uris": [REDIRECT_URI]}),
                              content_type="application/json",
                              HTTP_AUTHORIZATION=f"Bearer {public_client['registration_access_token']}")
    _assert_oauth_error(response)


def test_nul_in_the_registration_query_is_invalid_request(client):
    response = client.post("/register/?x=a%00", json.dumps({"redirect_uris": [REDIRECT_URI]}), content_type="application/json")
    _assert_oauth_error(response)
    assert not Application.objects.exists()


# -- token, revocation and introspection ---------------------------------------------------------

CODE_EXCHANGE = {"grant_type": "authorization_code", "code": "abc", "client_id": "agent", "redirect_uri": REDIRECT_URI,
                 "code_verifier": "v" * 50}


@pytest.mark.parametrize(("field", "value"), [
    ("code", NUL), ("client_id", NUL), ("code_verifier", NUL), ("redirect_uri", REDIRECT_URI + "\x00"),
    ("grant_type", NUL), ("resource", "http://127.0.0.1:8000/mcp\x00"), ("scope", "code:read\x00"),
    ("client_id", "agent\x01"), ("code", "abc\n"), ("x-unknown", NUL),
])
def test_control_character_in_a_token_request_is_invalid_request(client, field, value):
    response = client.post("/token/", {**CODE_EXCHANGE, field: value})
    _assert_oauth_error(response)
    assert not _issued().exists()


@pytest.mark.parametrize("field", ["refresh_token", "client_id"])
def test_nul_in_a_refresh_request_is_invalid_request(client, public_client, field):
    data = {"grant_type": "refresh_token", "refresh_token": "r" * 30, "client_id": public_client["client_id"], field: NUL}
    _assert_oauth_error(client.post("/token/", data))


@pytest.mark.parametrize("endpoint", ["/token/", "/revoke_token/", "/introspect/"])
@pytest.mark.parametrize("client_id", [NUL, "svc\x01", "svc\x7f"])
def test_control_character_in_the_basic_client_id_is_invalid_request(client, endpoint, client_id):
    data = {"grant_type": "client_credentials", "token": "t" * 20}
    _assert_oauth_error(client.post(endpoint, data, HTTP_AUTHORIZATION=_basic(client_id)))
    assert not _issued().exists()


def test_nul_hidden_in_loosely_encoded_basic_credentials_is_invalid_request(client):
    # django-oauth-toolkit skips characters outside the base64 alphabet; the edge reads it the same way.
    encoded = base64.b64encode(f"{NUL}:secret".encode()).decode()
    response = client.post("/token/", {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=f"Basic {encoded[:4]}!{encoded[4:]}")
    _assert_oauth_error(response)


def test_nul_in_the_basic_secret_is_invalid_request(client):
    app, _ = create_service_client("ci", ["code:read"])
    response = client.post("/token/", {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=_basic(app.client_id, NUL))
    _assert_oauth_error(response)


@pytest.mark.parametrize("data", [{"token": NUL}, {"token": "t" * 20, "client_id": NUL}, {"token": "t", "token_type_hint": NUL}])
def test_nul_in_a_revocation_request_is_invalid_request(client, data):
    _assert_oauth_error(client.post("/revoke_token/", data))


def test_nul_in_an_introspected_token_is_invalid_request(client):
    app, secret = create_service_client("ci", ["code:read"])
    _assert_oauth_error(client.post("/introspect/", {"token": NUL}, HTTP_AUTHORIZATION=_basic(app.client_id, secret)))


def test_nul_in_a_header_field_is_refused(client):
    # RFC 9110 §5.5: a recipient MUST reject (or replace) NUL, CR and LF in a field value.
    _assert_oauth_error(client.post("/token/", CODE_EXCHANGE, HTTP_USER_AGENT="agent\x00"))


# -- the authorization endpoint and the HTML pages -----------------------------------------------

@pytest.mark.parametrize(("field", "value"), [
    ("client_id", NUL), ("redirect_uri", REDIRECT_URI + "\x00"), ("state", NUL), ("scope", NUL), ("resource", NUL),
    ("code_challenge", NUL), ("state", "st\x01"), ("state", "st\r\nX-Injected: 1"), ("unknown", NUL),
])
def test_control_character_in_an_authorization_request_gets_the_400_page(client, person, public_client, field, value):
    client.force_login(person)
    _, challenge = pkce_pair()
    query = authorize_query(public_client["client_id"], challenge) + "&" + urlencode({field: value})
    response = client.get(query, HTTP_ACCEPT="text/html")
    assert response.status_code == 400
    assert "Location" not in response
    assert response["Content-Type"].startswith("text/html")
    assert not get_grant_model().objects.exists()


def test_nul_in_a_consent_post_gets_the_400_page(client, person, public_client):
    client.force_login(person)
    response = client.post("/authorize/", {"client_id": NUL, "redirect_uri": REDIRECT_URI, "response_type": "code",
                                           "state": "s", "scope": "code:read", "allow": "Authorize"}, HTTP_ACCEPT="text/html")
    assert response.status_code == 400
    assert not get_grant_model().objects.exists()


@pytest.mark.parametrize(("path", "data"), [
    ("/login/", {"username": NUL, "password": "s3cret-pass-word"}),
    ("/login/", {"username": "grace", "password": NUL}),
    ("/login/?next=/account/%00", {"username": "grace", "password": "s3cret-pass-word"}),
    ("/password-reset/", {"email": "grace\x00@example.com"}),
    ("/login/verify/", {"token": NUL}),
    ("/admin/login/", {"username": NUL, "password": "x"}),
])
def test_nul_in_a_form_gets_the_400_page(client, person, path, data):
    response = client.post(path, data, HTTP_ACCEPT="text/html")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert "_auth_user_id" not in client.session


def test_nul_in_an_urlencoded_form_gets_the_400_page(client, person):
    # (the test client posts multipart/form-data by default; browsers post this)
    response = client.post("/login/", urlencode({"username": NUL, "password": "x"}),
                           content_type="application/x-www-form-urlencoded", HTTP_ACCEPT="text/html")
    assert response.status_code == 400


@pytest.mark.parametrize("url", ["/login/magic-link/?token=a%00b", "/login/?next=%00", "/reset/a%00b/set-password/",
                                 "/account/?x=%00", "/console/?q=%00"])
def test_nul_in_a_page_address_gets_the_400_page(client, url):
    response = client.get(url, HTTP_ACCEPT="text/html")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")


def test_a_cookie_with_a_nul_is_ignored(client, person):
    client.cookies["sessionid"] = "abcdefghijklmnop\x00qrstuvwxyz"
    response = client.get("/account/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
