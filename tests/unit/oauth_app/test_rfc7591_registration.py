"""RFC 7591 dynamic client registration, narrowed to public clients with safe redirect URIs."""

from __future__ import annotations

import json

import pytest

from oauth_app.models import Application

pytestmark = pytest.mark.django_db


def test_public_client_with_loopback_redirect_is_registered_with_its_metadata(register):
    response = register(client_uri="https://agent.example", logo_uri="https://agent.example/logo.png", software_id="x-1")
    assert response.status_code == 201
    body = response.json()
    assert body["token_endpoint_auth_method"] == "none"
    assert "client_secret" not in body
    app = Application.objects.get(client_id=body["client_id"])
    assert app.client_type == Application.CLIENT_PUBLIC
    assert app.registration_metadata["software_id"] == "x-1"
    assert app.logo_uri == "https://agent.example/logo.png"
    assert response["Cache-Control"] == "no-store"


def test_absent_auth_method_registers_a_public_client(register):
    response = register(token_endpoint_auth_method=None)
    assert response.status_code == 201
    assert response.json()["token_endpoint_auth_method"] == "none"


@pytest.mark.parametrize(
    "uri",
    [
        "http://evil.example/callback",  # plain http off loopback
        "http://10.0.0.5/cb",
        "https://ok.example/cb#frag",  # fragment (RFC 6749 §3.1.2)
        "javascript:alert(1)",
        "ftp://127.0.0.1/cb",
        "",
        "https://user:pw@evil.example/cb",  # userinfo (RFC 3986 §3.2.1): phishing vector
        "https://ok.example@evil.example/cb",
        "http://user@127.0.0.1:8000/cb",
        "https://evil.example/*",  # redirect URIs match exactly; no wildcards
        "https://*.example/cb",
        # DOT keeps redirect URIs space-separated: these would store a second, unchecked URI
        "https://ok.example/cb http://evil.example/steal",
        "https://ok.example/cb\thttp://evil.example/steal",
        "https://ok.example/cb\nhttp://evil.example/steal",
        "https://ok.example\\@evil.example/cb",
        # a port or host DOT cannot read: it raised ValueError at /authorize/ (a 500)
        "https://ok.example:99999/cb",
        "https://ok.example:https/cb",
        "https://[::1/cb",
        # not ASCII: /authorize/ compares the encoded URI a browser sends, so it could never match
        "https://ex\u0430mple.com/cb",
        "https://ok.example/c\ud800b",
    ],
)
def test_unsafe_redirect_uri_is_refused_and_nothing_is_stored(register, uri):
    response = register(redirect_uris=[uri])
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_redirect_uri"
    assert not Application.objects.exists()


def test_refused_redirect_uri_is_quoted_only_in_part(register):
    uri = "http://evil.example/" + "a" * 10_000
    response = register(redirect_uris=[uri])
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "invalid_redirect_uri"
    assert "http://evil.example/aaa" in body["error_description"]
    assert len(body["error_description"]) < 500


def test_https_and_ipv6_loopback_redirects_are_accepted(register):
    response = register(redirect_uris=["https://app.example/cb", "http://[::1]:8123/cb"])
    assert response.status_code == 201, response.content


def test_confidential_registration_is_refused(register):
    response = register(token_endpoint_auth_method="client_secret_basic")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_client_metadata"
    assert not Application.objects.exists()


@pytest.mark.parametrize("grants", [["client_credentials"], ["password"], ["implicit"], ["refresh_token"]])
def test_grant_types_other_than_authorization_code_are_refused(register, grants):
    response = register(grant_types=grants)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_client_metadata"


@pytest.mark.parametrize("body", [b"{not json", b"[]", b'"x"', b"\xff\xfe"])
def test_malformed_body_gets_invalid_client_metadata(client, body):
    response = client.post("/register/", data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_client_metadata"


VALID_DOCUMENT = json.dumps({"client_name": "x", "redirect_uris": ["https://ok.example/cb"]})


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
                                          "application/jsonx", ""])
def test_metadata_not_sent_as_application_json_is_refused(client, content_type):
    """RFC 7591 §3.1: the request is application/json (text/plain would skip a CORS preflight)."""
    response = client.post("/register/", data=VALID_DOCUMENT, content_type=content_type)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_client_metadata"
    assert response["Cache-Control"] == "no-store"
    assert not Application.objects.exists()


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8", "Application/JSON"])
def test_application_json_with_parameters_or_other_case_is_accepted(client, content_type):
    response = client.post("/register/", data=VALID_DOCUMENT, content_type=content_type)
    assert response.status_code == 201, response.content


def test_refused_media_type_does_not_use_up_the_registration_limit(client, register, settings):
    settings.MCPRAG_RATE_LIMITS = {**settings.MCPRAG_RATE_LIMITS, "register": (2, 3600)}
    for _ in range(5):
        assert client.post("/register/", data=VALID_DOCUMENT, content_type="text/plain").status_code == 400
    assert [register().status_code for _ in range(2)] == [201, 201]


def test_missing_redirect_uris_is_refused(client):
    response = client.post("/register/", data=json.dumps({"client_name": "x"}), content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_redirect_uri"


def test_registration_is_rate_limited_per_ip_with_retry_after(register, settings):
    settings.MCPRAG_RATE_LIMITS = {**settings.MCPRAG_RATE_LIMITS, "register": (3, 3600)}
    assert [register().status_code for _ in range(3)] == [201, 201, 201]
    refused = register()
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 3600
    assert Application.objects.count() == 3


def test_an_overlong_client_name_is_cut_visibly_and_the_response_says_so(client):
    import json

    from oauth_app.models import Application

    body = {"client_name": "Agent " + "x" * 2000, "redirect_uris": ["http://127.0.0.1:5000/cb"], "token_endpoint_auth_method": "none"}
    response = client.post("/register/", data=json.dumps(body), content_type="application/json")
    assert response.status_code == 201
    name = response.json()["client_name"]  # RFC 7591 §3.2.1: the response carries the value registered
    assert len(name) == 255 and name.endswith("…") and name.startswith("Agent xxx")
    assert Application.objects.get(client_id=response.json()["client_id"]).name == name
