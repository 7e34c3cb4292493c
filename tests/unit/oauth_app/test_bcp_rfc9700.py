"""Refusal matrix drawn from RFC 9700 (OAuth 2.0 Security BCP) and the MCP security best
practices. Each case asserts the exact wire error and that nothing was issued or stored."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.utils import timezone
from oauth2_provider.models import get_access_token_model, get_grant_model, get_refresh_token_model

from oauth_app.models import Application

from tests.support.oauth import REDIRECT_URI, pkce_pair

pytestmark = pytest.mark.django_db

MCP = "http://127.0.0.1:8000/mcp"


def _issued_access_tokens():
    return get_access_token_model().objects.exclude(scope="oauth2_provider:registration").count()


# --------------------------------------------------------------------------------------------
# Authorization endpoint: errors before the consent page; redirect only to a registered URI.
# --------------------------------------------------------------------------------------------

AUTHORIZE_CASES = {
    # name: (query overrides, expected error, redirected?)
    "pkce_missing": ({"code_challenge": None, "code_challenge_method": None}, "invalid_request", True),
    "pkce_plain": ({"code_challenge_method": "plain"}, "invalid_request", True),
    "pkce_method_omitted": ({"code_challenge_method": None}, "invalid_request", True),
    "pkce_unknown_method": ({"code_challenge_method": "S512"}, "invalid_request", True),
    "foreign_resource": ({"resource": "https://other.example/mcp"}, "invalid_target", True),
    "resource_with_fragment": ({"resource": MCP + "#x"}, "invalid_target", True),
    "implicit_grant_response_type": ({"response_type": "token"}, "unsupported_response_type", True),
    "hybrid_code_token": ({"response_type": "code token"}, "unsupported_response_type", True),
    "hybrid_code_id_token": ({"response_type": "code id_token"}, "unsupported_response_type", True),
    "response_type_missing": ({"response_type": None}, "invalid_request", True),
    "unknown_scope": ({"scope": "root"}, "invalid_scope", True),
    "unregistered_redirect_uri": ({"redirect_uri": "https://evil.example/cb"}, "invalid_request", False),
    "redirect_uri_extra_path": ({"redirect_uri": REDIRECT_URI + "/more"}, "invalid_request", False),
    "redirect_uri_added_query": ({"redirect_uri": REDIRECT_URI + "?next=https://evil.example"}, "invalid_request", False),
    "redirect_uri_other_host_same_port": ({"redirect_uri": "http://evil.example:43110/callback"}, "invalid_request", False),
    "unknown_client": ({"client_id": "no-such-client"}, "invalid_request", False),
    "redirect_uri_malformed_ipv6_host": ({"redirect_uri": "http://[::1/callback"}, "invalid_request", False),
}


@pytest.mark.parametrize("case", sorted(AUTHORIZE_CASES))
def test_authorize_refusals(client, person, public_client, case):
    overrides, error, redirected = AUTHORIZE_CASES[case]
    _, challenge = pkce_pair()
    params = {"response_type": "code", "client_id": public_client["client_id"], "redirect_uri": REDIRECT_URI,
              "state": "st", "scope": "code:read", "code_challenge": challenge, "code_challenge_method": "S256"}
    params.update(overrides)
    client.force_login(person)
    response = client.get("/authorize/?" + urlencode({k: v for k, v in params.items() if v is not None}))
    if redirected:
        assert response.status_code == 302
        location = response["Location"]
        assert location.startswith(REDIRECT_URI + "?")  # RFC 6749 §4.1.2.1: only to the registered URI
        query = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
        assert query["error"] == error
        assert query["state"] == "st"
        assert "code" not in query
    else:
        assert response.status_code == 400
        assert "Location" not in response
        assert response.context["error"].error == error
    assert not get_grant_model().objects.exists()


def test_duplicate_state_parameter_is_fatal(client, person, public_client):
    client.force_login(person)
    _, challenge = pkce_pair()
    query = urlencode([("response_type", "code"), ("client_id", public_client["client_id"]), ("redirect_uri", REDIRECT_URI),
                       ("state", "a"), ("state", "b"), ("code_challenge", challenge), ("code_challenge_method", "S256")])
    response = client.get("/authorize/?" + query)
    assert response.status_code == 400 and "Location" not in response
    assert not get_grant_model().objects.exists()


def test_disabled_client_cannot_authorize(client, person, public_client):
    Application.objects.filter(client_id=public_client["client_id"]).update(disabled_at=timezone.now())
    client.force_login(person)
    _, challenge = pkce_pair()
    response = client.get("/authorize/?" + urlencode({"response_type": "code", "client_id": public_client["client_id"],
                                                       "redirect_uri": REDIRECT_URI, "code_challenge": challenge,
                                                       "code_challenge_method": "S256"}))
    assert response.status_code == 400 and "Location" not in response


# --------------------------------------------------------------------------------------------
# Token endpoint: RFC 6749 §5.2 JSON errors, Cache-Control: no-store, nothing issued.
# --------------------------------------------------------------------------------------------

@pytest.fixture
def code_exchange(client, public_client, obtain_code):
    code, verifier, _ = obtain_code(public_client["client_id"])
    return {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI,
            "client_id": public_client["client_id"], "code_verifier": verifier}


def _token(client, data, **extra):
    return client.post("/token/", data, **extra)


def _assert_error(response, status, error):
    assert response.status_code == status, response.content
    assert response.json()["error"] == error
    assert "no-store" in response.get("Cache-Control", "")


TOKEN_CASES = {
    "wrong_code_verifier": (lambda d: {**d, "code_verifier": pkce_pair()[0]}, 400, "invalid_grant"),
    "missing_code_verifier": (lambda d: {k: v for k, v in d.items() if k != "code_verifier"}, 400, "invalid_request"),
    # RFC 6749 §3.2: a parameter sent without a value is omitted (oauthlib compared "" with the challenge: invalid_grant)
    "empty_code_verifier": (lambda d: {**d, "code_verifier": ""}, 400, "invalid_request"),
    "redirect_uri_mismatch": (lambda d: {**d, "redirect_uri": "http://127.0.0.1:43110/other"}, 400, "invalid_request"),
    "unknown_code": (lambda d: {**d, "code": "forged-code"}, 400, "invalid_grant"),
    "missing_code": (lambda d: {k: v for k, v in d.items() if k != "code"}, 400, "invalid_request"),
    # RFC 6749 §3.2 again: oauthlib looked up the code "" and answered invalid_grant
    "empty_code": (lambda d: {**d, "code": ""}, 400, "invalid_request"),
    "foreign_resource": (lambda d: {**d, "resource": "https://other.example/mcp"}, 400, "invalid_target"),
    "unknown_grant_type": (lambda d: {**d, "grant_type": "urn:example:magic"}, 400, "unsupported_grant_type"),
    "password_grant": (lambda d: {"grant_type": "password", "username": "grace", "password": "s3cret-pass-word",
                                  "client_id": d["client_id"]}, 400, "unsupported_grant_type"),
    "client_credentials_for_public_client": (lambda d: {"grant_type": "client_credentials", "client_id": d["client_id"]},
                                              401, "invalid_client"),
    "unknown_client": (lambda d: {**d, "client_id": "nobody"}, 401, "invalid_client"),
}


@pytest.mark.parametrize("asked", ["https://agent.example:99999/cb", "https://agent.example:65536/cb"])
def test_a_redirect_uri_whose_port_cannot_be_read_gets_the_error_page(client, person, register, asked):
    """To compare an https redirect URI with the registered one, DOT reads its port, which raises
    for one out of 0-65535: a 500 from one crafted link, before."""
    client_id = register(redirect_uris=["https://agent.example/cb"]).json()["client_id"]
    _, challenge = pkce_pair()
    client.force_login(person)
    response = client.get("/authorize/?" + urlencode({
        "response_type": "code", "client_id": client_id, "redirect_uri": asked, "state": "st", "scope": "code:read",
        "code_challenge": challenge, "code_challenge_method": "S256"}))
    assert response.status_code == 400
    assert "Location" not in response
    assert response.context["error"].error == "invalid_request"


@pytest.mark.parametrize("case", sorted(TOKEN_CASES))
def test_token_refusals(client, code_exchange, case):
    transform, status, error = TOKEN_CASES[case]
    _assert_error(_token(client, transform(code_exchange)), status, error)
    assert _issued_access_tokens() == 0


@pytest.mark.parametrize("endpoint", ["/token/", "/revoke_token/", "/introspect/"])
def test_a_client_refused_at_basic_authentication_is_challenged_with_basic(client, endpoint):
    """RFC 6749 §5.2: the 401's challenge matches "the authentication scheme used by the client";
    oauthlib's invalid_client answers challenged with Bearer."""
    from oauth_app.services import create_service_client

    app, _ = create_service_client("ci", ["code:read"])
    basic = "Basic " + base64.b64encode(f"{app.client_id}:wrong-secret".encode()).decode()
    response = client.post(endpoint, {"grant_type": "client_credentials", "token": "t" * 20}, HTTP_AUTHORIZATION=basic)
    _assert_error(response, 401, "invalid_client")
    assert response["WWW-Authenticate"] == 'Basic realm="mcprag"'


@pytest.mark.parametrize("endpoint", ["/token/", "/revoke_token/", "/introspect/", "/register/"])
def test_a_body_with_too_many_parameters_is_invalid_request(client, endpoint):
    """Django refuses to parse more than DATA_UPLOAD_MAX_NUMBER_FIELDS (1,000) parameters; its
    refusal was the site's generic {"error": "bad_request"}, not an RFC 6749 §5.2 code."""
    body = "&".join(f"p{i}=1" for i in range(1001))
    response = client.post(endpoint, body, content_type="application/x-www-form-urlencoded")
    _assert_error(response, 400, "invalid_request")
    assert "1,000 parameters" in response.json()["error_description"]
    assert response["Cache-Control"] == "no-store"


def test_code_replay_is_refused(client, code_exchange):
    assert _token(client, code_exchange).status_code == 200
    _assert_error(_token(client, code_exchange), 400, "invalid_grant")
    assert _issued_access_tokens() == 0  # RFC 6749 §4.1.2: the replay revoked the first exchange's token


def test_code_from_another_client_is_refused(client, code_exchange, register):
    other = register().json()["client_id"]
    _assert_error(_token(client, {**code_exchange, "client_id": other}), 400, "invalid_grant")
    assert _issued_access_tokens() == 0


def test_expired_code_is_refused(client, code_exchange):
    get_grant_model().objects.update(expires=timezone.now() - timedelta(seconds=1))
    _assert_error(_token(client, code_exchange), 400, "invalid_grant")
    assert _issued_access_tokens() == 0


def test_an_empty_code_is_answered_as_an_omitted_one_and_the_code_still_works(client, code_exchange):
    """RFC 6749 §3.2: "Parameters sent without a value MUST be treated as if they were omitted";
    §5.2: a missing required parameter is invalid_request. oauthlib looked up the code "" and
    answered invalid_grant, which tells the client its code is bad and no retry will help. The
    refusal comes before any code is looked up, so the client's real code is untouched."""
    omitted = _token(client, {k: v for k, v in code_exchange.items() if k != "code"})
    empty = _token(client, {**code_exchange, "code": ""})
    _assert_error(empty, 400, "invalid_request")
    assert empty.json() == omitted.json() == {"error": "invalid_request", "error_description": "Missing code parameter."}
    assert _issued_access_tokens() == 0
    assert _token(client, code_exchange).status_code == 200


def test_duplicate_code_parameter_is_refused(client, code_exchange):
    body = urlencode(list(code_exchange.items()) + [("code", "second")])
    response = client.post("/token/", body, content_type="application/x-www-form-urlencoded")
    _assert_error(response, 400, "invalid_request")
    assert _issued_access_tokens() == 0


def test_a_repeated_or_missing_grant_type_is_invalid_request(client, code_exchange, public_client):
    """RFC 6749 §3.2 (no parameter twice) and §5.2 (a missing required parameter is
    invalid_request): oauthlib checked a repeated grant_type only for the code grant, and answered
    a missing one unsupported_grant_type."""
    first = _token(client, code_exchange).json()
    refresh = [("grant_type", "refresh_token"), ("grant_type", "refresh_token"), ("refresh_token", first["refresh_token"]),
               ("client_id", public_client["client_id"])]
    repeated = client.post("/token/", urlencode(refresh), content_type="application/x-www-form-urlencoded")
    _assert_error(repeated, 400, "invalid_request")
    assert repeated.json()["error_description"] == "Duplicate grant_type parameter."
    for body in ("", urlencode(refresh[2:])):
        missing = client.post("/token/", body, content_type="application/x-www-form-urlencoded")
        _assert_error(missing, 400, "invalid_request")
        assert missing.json()["error_description"] == "Missing grant_type parameter."
    assert _issued_access_tokens() == 1  # only the first exchange; the refresh token is still good
    assert client.post("/token/", urlencode(refresh[1:]), content_type="application/x-www-form-urlencoded").status_code == 200


def test_two_client_authentication_methods_in_one_request_are_invalid_request(client):
    """RFC 6749 §2.3: "The client MUST NOT use more than one authentication method in each request"."""
    from oauth_app.services import create_service_client

    app, secret = create_service_client("ci-two", ["code:read"])
    basic = "Basic " + base64.b64encode(f"{app.client_id}:{secret}".encode()).decode()
    both = client.post("/token/", {"grant_type": "client_credentials", "client_secret": secret}, HTTP_AUTHORIZATION=basic)
    _assert_error(both, 400, "invalid_request")
    assert "one way" in both.json()["error_description"]
    assert client.post("/token/", {"grant_type": "client_credentials", "client_id": app.client_id}, HTTP_AUTHORIZATION=basic).status_code == 200
    assert client.post("/token/", {"grant_type": "client_credentials", "client_id": app.client_id, "client_secret": secret}).status_code == 200


@pytest.mark.parametrize(
    ("body", "content_type"),
    [(b'{"grant_type": "authorization_code"}', "application/json"), (b"\xff\xfe\x00", "application/x-www-form-urlencoded"),
     (b"grant_type=" + b"x" * 100_000, "application/x-www-form-urlencoded")],
)
def test_malformed_token_bodies_get_an_oauth_error_not_a_500(client, body, content_type):
    response = client.post("/token/", body, content_type=content_type)
    assert 400 <= response.status_code < 500
    assert "error" in response.json()
    assert _issued_access_tokens() == 0


def test_refresh_token_reuse_revokes_the_family(client, code_exchange, public_client):
    first = _token(client, code_exchange).json()
    refresh = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"], "client_id": public_client["client_id"]}
    assert _token(client, refresh).status_code == 200
    _assert_error(_token(client, refresh), 400, "invalid_grant")
    assert not get_refresh_token_model().objects.filter(revoked__isnull=True).exists()


def test_refresh_scope_escalation_is_refused(client, code_exchange, public_client):
    first = _token(client, code_exchange).json()
    response = _token(client, {"grant_type": "refresh_token", "refresh_token": first["refresh_token"],
                               "client_id": public_client["client_id"], "scope": "code:read index:admin"})
    _assert_error(response, 400, "invalid_scope")


def test_refresh_token_of_another_client_is_refused(client, code_exchange, register):
    first = _token(client, code_exchange).json()
    other = register().json()["client_id"]
    response = _token(client, {"grant_type": "refresh_token", "refresh_token": first["refresh_token"], "client_id": other})
    _assert_error(response, 400, "invalid_grant")


# --------------------------------------------------------------------------------------------
# Registration abuse (RFC 7591 §3.2.2) and the registration access token (RFC 7592).
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("metadata", "error"),
    [
        ({"redirect_uris": ["http://evil.example/cb"]}, "invalid_redirect_uri"),
        ({"redirect_uris": ["javascript:alert(1)"]}, "invalid_redirect_uri"),
        ({"redirect_uris": ["https://ok.example/cb#f"]}, "invalid_redirect_uri"),
        ({"token_endpoint_auth_method": "client_secret_post"}, "invalid_client_metadata"),
        ({"grant_types": ["client_credentials"]}, "invalid_client_metadata"),
        ({"response_types": ["token"]}, "invalid_client_metadata"),
    ],
)
def test_registration_abuse_is_refused(register, metadata, error):
    response = register(**metadata)
    assert response.status_code == 400
    assert response.json()["error"] == error
    assert not Application.objects.exists()


def test_registration_access_token_cannot_call_tools(register):
    from mcp_gateway.auth.bearer import InvalidToken, verify_access_token

    token = register().json()["registration_access_token"]
    with pytest.raises(InvalidToken):
        verify_access_token(token)


# --------------------------------------------------------------------------------------------
# Mix-up defence (RFC 9207) and metadata.
# --------------------------------------------------------------------------------------------

def test_authorization_response_carries_the_issuer(public_client, obtain_code):
    _, _, params = obtain_code(public_client["client_id"])
    assert params["iss"] == "http://127.0.0.1:8000"


def test_error_redirects_carry_the_issuer_too(client, person, public_client):
    client.force_login(person)
    response = client.get("/authorize/?" + urlencode({"response_type": "code", "client_id": public_client["client_id"],
                                                       "redirect_uri": REDIRECT_URI, "state": "s"}))
    query = parse_qs(urlsplit(response["Location"]).query)
    assert query["error"] == ["invalid_request"]
    assert query.get("iss") == ["http://127.0.0.1:8000"]


def test_nul_byte_in_the_authorization_request_is_a_400(client, person):
    client.force_login(person)
    response = client.get("/authorize/?" + urlencode({"response_type": "code", "client_id": "a\x00b", "state": "s"}))
    assert response.status_code == 400
    assert not get_grant_model().objects.exists()
