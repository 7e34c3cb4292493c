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
