"""RFC 9068 JWT access tokens, signing-key rotation and the JWKS document."""

from __future__ import annotations

import jwt
import pytest
from django.core.management import call_command

from oauth_app.models import SigningKey

from tests.support.oauth import REDIRECT_URI

pytestmark = pytest.mark.django_db


@pytest.fixture
def issue_token(client, public_client, obtain_code):
    def issue(**extra):
        code, verifier, _ = obtain_code(public_client["client_id"], **extra)
        response = client.post("/token/", {
            "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI,
            "client_id": public_client["client_id"], "code_verifier": verifier,
        })
        assert response.status_code == 200, response.content
        return response.json()

    return issue


def _verify(client, token: str) -> dict:
    jwks = client.get("/.well-known/jwks.json").json()
    kid = jwt.get_unverified_header(token)["kid"]
    key = next(jwt.PyJWK(k).key for k in jwks["keys"] if k["kid"] == kid)
    return jwt.decode(token, key, algorithms=["RS256"], audience="http://127.0.0.1:8000/mcp", issuer="http://127.0.0.1:8000")


def test_access_token_is_an_at_jwt_with_the_rfc9068_claims(client, issue_token, person, public_client):
    body = issue_token()
    assert jwt.get_unverified_header(body["access_token"])["typ"] == "at+jwt"
    claims = _verify(client, body["access_token"])
    assert claims["sub"] == str(person.pk)
    assert claims["client_id"] == public_client["client_id"]
    assert claims["scope"] == "code:read"
    assert claims["aud"] == "http://127.0.0.1:8000/mcp"
    assert 0 < claims["exp"] - claims["iat"] <= 3600
    assert len(claims["jti"]) >= 16
    # The refresh token stays opaque.
    assert body["refresh_token"].count(".") != 2


def test_metadata_publishes_the_jwks_uri(client):
    doc = client.get("/.well-known/oauth-authorization-server").json()
    assert doc["jwks_uri"].endswith("/.well-known/jwks.json")


def test_rotation_signs_with_the_new_key_and_keeps_the_old_one_published(client, issue_token):
    old = issue_token()["access_token"]
    old_kid = jwt.get_unverified_header(old)["kid"]
    call_command("rotate_signing_key")
    new = issue_token()["access_token"]
    assert jwt.get_unverified_header(new)["kid"] != old_kid
    published = {k["kid"] for k in client.get("/.well-known/jwks.json").json()["keys"]}
    assert old_kid in published
    _verify(client, old)  # tokens signed before the rotation still verify
    _verify(client, new)


def test_private_keys_are_encrypted_at_rest(issue_token):
    issue_token()
    row = SigningKey.objects.get()
    assert "PRIVATE KEY" not in row.private_key_encrypted
    assert "d" not in row.public_jwk  # the published JWK has no private part
