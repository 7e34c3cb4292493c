"""RFC 7636 PKCE, S256 only: refused before the consent page, never a code."""

from __future__ import annotations

import pytest
from oauth2_provider.models import get_grant_model

from tests.support.oauth import authorize_query, pkce_pair, redirect_params

pytestmark = pytest.mark.django_db


def test_authorize_without_code_challenge_redirects_with_invalid_request_and_no_code(client, person, public_client):
    client.force_login(person)
    params = redirect_params(client.get(authorize_query(public_client["client_id"], None)))
    assert params["error"] == "invalid_request"
    assert params["state"] == "st-123"
    assert "code" not in params
    assert not get_grant_model().objects.exists()


@pytest.mark.parametrize("method", ["plain", None])
def test_plain_or_omitted_method_is_refused_before_consent(client, person, public_client, method):
    """An omitted method means ``plain`` (RFC 7636 §4.3), so it is refused exactly like ``plain``:
    the error names the one supported method, and no code is issued."""
    client.force_login(person)
    _, challenge = pkce_pair()
    url = authorize_query(public_client["client_id"], None, code_challenge=challenge, code_challenge_method=method)
    params = redirect_params(client.get(url))
    assert params["error"] == "invalid_request"
    assert '"S256"' in params["error_description"]
    assert params["state"] == "st-123"
    assert "code" not in params
    assert not get_grant_model().objects.exists()


def test_s256_challenge_shows_the_consent_page(client, person, public_client):
    client.force_login(person)
    _, challenge = pkce_pair()
    response = client.get(authorize_query(public_client["client_id"], challenge))
    assert response.status_code == 200
    assert b'id="authorizationForm"' in response.content
    assert b"Test Agent" in response.content


def test_wrong_code_verifier_gets_invalid_grant(client, public_client, obtain_code):
    code, _verifier, _ = obtain_code(public_client["client_id"])
    wrong, _ = pkce_pair()
    response = client.post("/token/", {
        "grant_type": "authorization_code", "code": code, "redirect_uri": "http://127.0.0.1:43110/callback",
        "client_id": public_client["client_id"], "code_verifier": wrong,
    })
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


@pytest.mark.parametrize("sent", [{}, {"code_verifier": ""}])
def test_missing_code_verifier_is_invalid_request_and_the_code_still_works(client, public_client, obtain_code, sent):
    """RFC 6749 §5.2: a missing required parameter is invalid_request; §3.2: one sent without a
    value is missing. An empty verifier was compared with the challenge and got invalid_grant."""
    code, verifier, _ = obtain_code(public_client["client_id"])
    exchange = {"grant_type": "authorization_code", "code": code, "redirect_uri": "http://127.0.0.1:43110/callback",
                "client_id": public_client["client_id"]}
    response = client.post("/token/", {**exchange, **sent})
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_request", "error_description": "Code verifier required."}
    assert client.post("/token/", {**exchange, "code_verifier": verifier}).status_code == 200


MALFORMED_VERIFIERS = {
    "42_chars": "a" * 42,
    "129_chars": "a" * 129,
    "huge": "a" * 5000,
    "punctuation": "a" * 42 + "!",
    "space_inside": "a" * 21 + " " + "a" * 21,
    "plus_and_slash": "a" * 41 + "+/",
    "padding": "a" * 42 + "=",
    "non_ascii_letters": "é" * 43,
}


@pytest.mark.parametrize("case", sorted(MALFORMED_VERIFIERS))
def test_malformed_code_verifier_is_invalid_request_and_the_code_still_works(client, public_client, obtain_code, case):
    """RFC 7636 §4.1: a verifier is 43-128 characters of A-Z a-z 0-9 - . _ ~; anything else is a
    malformed request (RFC 6749 §5.2, invalid_request), where it was compared with the challenge
    and got invalid_grant. The refusal comes before the code is looked up, so the code is left as
    it was: like a missing verifier (invalid_request too), it does not burn the code, and the
    client's exchange with its real verifier then succeeds."""
    code, verifier, _ = obtain_code(public_client["client_id"])
    exchange = {"grant_type": "authorization_code", "code": code, "redirect_uri": "http://127.0.0.1:43110/callback",
                "client_id": public_client["client_id"]}
    response = client.post("/token/", {**exchange, "code_verifier": MALFORMED_VERIFIERS[case]})
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_request",
        "error_description": "code_verifier must be 43-128 characters of A-Z a-z 0-9 - . _ ~ (RFC 7636 §4.1).",
    }
    assert response["Cache-Control"] == "no-store"
    assert client.post("/token/", {**exchange, "code_verifier": verifier}).status_code == 200


def test_malformed_code_verifier_is_refused_before_the_code_is_looked_up(client, public_client):
    """With a code that does not exist the answer is the same invalid_request, never invalid_grant:
    a malformed verifier tells nothing about the code it came with."""
    response = client.post("/token/", {
        "grant_type": "authorization_code", "code": "forged-code", "redirect_uri": "http://127.0.0.1:43110/callback",
        "client_id": public_client["client_id"], "code_verifier": "!",
    })
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


@pytest.mark.parametrize("length", [43, 128])
def test_well_formed_but_wrong_code_verifier_of_any_allowed_length_is_invalid_grant(client, public_client, obtain_code,
                                                                                   length):
    """RFC 7636 §4.6: a verifier that does not match the challenge is invalid_grant; every
    unreserved character, at both ends of the allowed length, is well-formed."""
    code, _verifier, _ = obtain_code(public_client["client_id"])
    wrong = ("AZaz09-._~" * 13)[:length]
    response = client.post("/token/", {
        "grant_type": "authorization_code", "code": code, "redirect_uri": "http://127.0.0.1:43110/callback",
        "client_id": public_client["client_id"], "code_verifier": wrong,
    })
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_unregistered_redirect_uri_shows_an_error_page_and_never_redirects(client, person, public_client):
    client.force_login(person)
    _, challenge = pkce_pair()
    url = authorize_query(public_client["client_id"], challenge, redirect_uri="https://evil.example/cb")
    response = client.get(url)
    assert response.status_code == 400
    assert "Location" not in response


MALFORMED_CHALLENGES = {
    "too_short": "abc",
    "punctuation": "!" * 43,
    "huge": "a" * 5000,
    "unreserved_but_not_base64url": "abc.def~" + "A" * 35,
    "plain_style_128_chars": "a" * 128,
    "padded": pkce_pair()[1] + "=",
    "44_chars": pkce_pair()[1] + "A",
    "non_canonical_last_char": "A" * 42 + "B",
    "space_inside": "A" * 20 + " " + "A" * 22,
}


@pytest.mark.parametrize("case", sorted(MALFORMED_CHALLENGES))
def test_malformed_s256_challenge_is_refused_before_consent(client, person, public_client, case):
    client.force_login(person)
    url = authorize_query(public_client["client_id"], MALFORMED_CHALLENGES[case])
    params = redirect_params(client.get(url))
    assert params["error"] == "invalid_request"
    assert "RFC 7636" in params["error_description"]
    assert params["state"] == "st-123"
    assert "code" not in params
    assert not get_grant_model().objects.exists()


def test_malformed_challenge_swapped_into_the_consent_post_is_refused(client, person, public_client):
    client.force_login(person)
    _, challenge = pkce_pair()
    page = client.get(authorize_query(public_client["client_id"], challenge))
    form = page.context["form"]
    data = {name: (form.initial.get(name) or "") for name in form.fields}
    data.update(allow="Authorize", code_challenge="abc")
    response = client.post(page.request["PATH_INFO"] + "?" + page.request["QUERY_STRING"], data)
    # The consent POST must match the request that rendered the form: an error page, no redirect.
    assert response.status_code == 400
    assert response.context["error"].error == "invalid_request"
    assert not get_grant_model().objects.exists()
