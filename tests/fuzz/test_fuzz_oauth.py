"""Fuzzing the authorization server with hypothesis: malformed OAuth requests, huge and nested
payloads, invalid UTF-8, NUL and other control characters never produce a response ≥ 500 on any
OAuth endpoint, and a refused request stores nothing. Run them on PostgreSQL too
(``DATABASE_URL=postgres://…``): it refuses NUL in text, where SQLite stores it."""

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
#: Text with C0 controls, DEL and NUL inside (PostgreSQL cannot store or compare a NUL).
controls = st.builds(
    lambda head, mid, tail: head + mid + tail,
    st.text(max_size=20),
    st.one_of(st.just("\x00"), st.text(alphabet=[chr(c) for c in range(0x20)] + ["\x7f"], min_size=1, max_size=5)),
    st.text(max_size=20),
)
values = st.one_of(
    st.text(max_size=300),
    controls,
    st.sampled_from(["authorization_code", "refresh_token", "client_credentials", "password", "implicit",
                     "https://other.example/mcp", "http://127.0.0.1:8000/mcp", "S256", "plain", "code", "token"]),
    st.text(alphabet="%&=+#\x00\ufffd\\\"'<>", max_size=50),
)
form_pairs = st.lists(st.tuples(st.one_of(oauth_keys, controls), values), max_size=12)


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


#: A plausible request of each kind, so a fuzzed parameter reaches the lookups behind it.
PLAUSIBLE = {"grant_type": "authorization_code", "code": "c" * 30, "refresh_token": "r" * 30, "client_id": "agent",
             "client_secret": "s" * 20, "code_verifier": "v" * 50, "redirect_uri": "http://127.0.0.1:43110/cb",
             "token": "t" * 30, "token_type_hint": "access_token", "scope": "code:read"}


@FUZZ
@given(endpoint=st.sampled_from(["/token/", "/revoke_token/", "/introspect/"]),
       grant=st.sampled_from(["authorization_code", "refresh_token", "client_credentials"]), field=oauth_keys, value=controls)
def test_control_characters_in_any_oauth_parameter_are_invalid_request(client, endpoint, grant, field, value):
    from urllib.parse import urlencode

    data = {**PLAUSIBLE, "grant_type": grant, field: value}
    response = client.post(endpoint, urlencode(data), content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400, response.content
    assert response.json()["error"] == "invalid_request"
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


def _basic(client_id: str, secret: str) -> str:
    import base64

    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode("utf-8", "surrogatepass")).decode()


@FUZZ
@given(pairs=form_pairs, client_id=st.one_of(controls, st.text(max_size=40)), secret=st.one_of(controls, st.text(max_size=40)),
       endpoint=st.sampled_from(["/token/", "/revoke_token/", "/introspect/"]))
def test_basic_client_credentials_with_control_characters_never_fail(client, pairs, client_id, secret, endpoint):
    from urllib.parse import urlencode

    response = client.post(endpoint, urlencode(pairs), content_type="application/x-www-form-urlencoded",
                           HTTP_AUTHORIZATION=_basic(client_id, secret))
    assert response.status_code < 500
    assert _nothing_issued()


metadata_strings = st.one_of(controls, st.text(max_size=40), st.just("https://agent.example/"))


@FUZZ
@given(document=st.fixed_dictionaries({"redirect_uris": st.just(["http://127.0.0.1:43110/cb"])}, optional={
    field: st.one_of(metadata_strings, st.lists(metadata_strings, max_size=3))
    for field in ("client_name", "software_id", "software_version", "client_uri", "logo_uri", "tos_uri", "policy_uri",
                  "contacts", "scope", "application_type", "token_endpoint_auth_method")}))
def test_registration_with_control_characters_never_fails(client, document):
    from django.core.cache import cache

    cache.clear()  # the registration rate limit counts every example
    response = client.post("/register/", json.dumps(document), content_type="application/json")
    assert response.status_code < 500
    if response.status_code != 201:
        assert response.json()["error"] in ("invalid_client_metadata", "invalid_redirect_uri")
        assert not Application.objects.exists()
    Application.objects.all().delete()


@pytest.fixture
def registered(db):
    from django.test import Client

    response = Client().post("/register/", json.dumps({"client_name": "Fuzz", "redirect_uris": ["http://127.0.0.1:43110/cb"]}),
                             content_type="application/json")
    return response.json()


@FUZZ
@given(client_id=st.one_of(controls, st.text(min_size=1, max_size=40).filter(lambda t: "/" not in t)),
       token=st.one_of(controls, st.text(max_size=40)), name=metadata_strings,
       method=st.sampled_from(["GET", "PUT", "DELETE", "POST"]))
def test_client_configuration_endpoint_with_control_characters_never_fails(client, registered, client_id, token, name, method):
    from urllib.parse import quote

    body = json.dumps({"client_name": name, "redirect_uris": ["http://127.0.0.1:43110/cb"]})
    for target, bearer in ((quote(client_id, safe=""), registered["registration_access_token"]),
                           (registered["client_id"], token)):
        response = client.generic(method, f"/register/{target}/", body, content_type="application/json",
                                  HTTP_AUTHORIZATION=f"Bearer {bearer}".encode("utf-8", "surrogatepass").decode("latin-1"))
        assert response.status_code < 500


@FUZZ
@given(pairs=form_pairs)
def test_consent_post_with_arbitrary_fields_never_fails(client, django_user_model, pairs):
    from urllib.parse import urlencode

    client.force_login(django_user_model.objects.get_or_create(username="fuzz")[0])
    response = client.post("/authorize/?" + urlencode(pairs), urlencode(pairs + [("allow", "Authorize")]),
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code < 500
    assert not get_grant_model().objects.exists()


@FUZZ
@given(pairs=st.lists(st.tuples(st.sampled_from(["username", "password", "email", "next", "token", "code"]), values), max_size=6),
       path=st.sampled_from(["/login/", "/login/verify/", "/password-reset/", "/login/magic-link/", "/admin/login/"]))
def test_sign_in_forms_with_control_characters_never_fail(client, pairs, path):
    from urllib.parse import urlencode

    assert client.post(path, urlencode(pairs), content_type="application/x-www-form-urlencoded").status_code < 500
    assert client.get(path + "?" + urlencode(pairs)).status_code < 500


@FUZZ
@given(pairs=form_pairs, path=st.sampled_from([
    "/.well-known/oauth-authorization-server", "/.well-known/openid-configuration", "/.well-known/jwks.json",
    "/.well-known/oauth-protected-resource", "/.well-known/oauth-protected-resource/mcp"]))
def test_metadata_documents_with_arbitrary_queries_never_fail(client, pairs, path):
    from urllib.parse import urlencode

    assert client.get(path + "?" + urlencode(pairs)).status_code < 500
