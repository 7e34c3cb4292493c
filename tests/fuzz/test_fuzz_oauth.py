"""Fuzzing the authorization server with hypothesis: malformed OAuth requests, huge and nested
payloads and invalid UTF-8 never produce a response ≥ 500, and a refused request stores nothing."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from oauth2_provider.models import get_access_token_model, get_grant_model, get_refresh_token_model

from oauth_app.models import Application

pytestmark = pytest.mark.django_db

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

oauth_keys = st.sampled_from([
    "grant_type", "code", "redirect_uri", "client_id", "client_secret", "code_verifier", "refresh_token", "scope",
    "resource", "token", "token_type_hint", "state", "response_type", "code_challenge", "code_challenge_method",
])
values = st.one_of(
    st.text(max_size=300),
    st.sampled_from(["authorization_code", "refresh_token", "client_credentials", "password", "implicit",
                     "https://other.example/mcp", "http://127.0.0.1:8000/mcp", "S256", "plain", "code", "token"]),
    st.text(alphabet="%&=+#\x00\ufffd\\\"'<>", max_size=50),
)
form_pairs = st.lists(st.tuples(oauth_keys, values), max_size=12)


def _nothing_issued():
    return (
        not get_access_token_model().objects.exclude(scope="oauth2_provider:registration").exists()
        and not get_refresh_token_model().objects.exists()
        and not get_grant_model().objects.exists()
    )


def _nested(depth: int) -> bytes:
    return b'{"a":[' * depth + b'"x"' + b"]}" * depth


@FUZZ
@given(pairs=form_pairs, endpoint=st.sampled_from(["/token/", "/revoke_token/", "/introspect/"]))
def test_form_endpoints_never_fail_with_a_server_error(client, pairs, endpoint):
    from urllib.parse import urlencode

    response = client.post(endpoint, urlencode(pairs), content_type="application/x-www-form-urlencoded")
    assert response.status_code < 500
    assert _nothing_issued()


@FUZZ
@given(body=st.one_of(st.binary(max_size=2000), st.binary(min_size=1, max_size=50).map(lambda b: b"\xff\xfe" + b)))
def test_raw_bytes_and_invalid_utf8_never_fail(client, body):
    for endpoint in ("/token/", "/register/", "/introspect/"):
        response = client.post(endpoint, body, content_type="application/x-www-form-urlencoded")
        assert response.status_code < 500
    assert _nothing_issued() and not Application.objects.exists()


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=60)),
    lambda children: st.one_of(st.lists(children, max_size=5), st.dictionaries(st.text(max_size=20), children, max_size=5)),
    max_leaves=30,
)


@FUZZ
@given(document=st.one_of(json_values, st.fixed_dictionaries({}, optional={
    "redirect_uris": json_values, "grant_types": json_values, "token_endpoint_auth_method": json_values,
    "client_name": json_values, "response_types": json_values, "logo_uri": json_values, "scope": json_values})))
def test_registration_with_arbitrary_json_never_fails_and_stores_only_valid_clients(client, document):
    response = client.post("/register/", json.dumps(document), content_type="application/json")
    assert response.status_code < 500
    if response.status_code != 201:
        assert not Application.objects.exists()
        Application.objects.all().delete()
    else:
        Application.objects.all().delete()


@pytest.mark.parametrize("payload", [
    _nested(5000),                                 # deeply nested
    b'{"redirect_uris": ["' + b"a" * 2_000_000 + b'"]}',  # huge
    b"[" * 100_000,                                # unbalanced
])
def test_huge_and_deeply_nested_registration_payloads(client, payload):
    response = client.post("/register/", payload, content_type="application/json")
    assert 400 <= response.status_code < 500
    assert not Application.objects.exists()


@FUZZ
@given(query=form_pairs)
def test_authorize_with_arbitrary_parameters_never_fails(client, django_user_model, query):
    from urllib.parse import urlencode

    user = django_user_model.objects.get_or_create(username="fuzz")[0]
    client.force_login(user)
    response = client.get("/authorize/?" + urlencode(query))
    assert response.status_code < 500
    assert not get_grant_model().objects.exists()
