"""The resource server's token check (mcp_gateway.auth.bearer) against real issued tokens."""

from __future__ import annotations

import datetime
import hashlib
import io
import secrets
import time
import uuid

import jwt
import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models.signals import post_save
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from oauth2_provider.models import get_access_token_model

from mcp_gateway.auth.bearer import InvalidToken, verify_access_token
from oauth_app.keys import active_key
from oauth_app.services import set_tier

pytestmark = pytest.mark.django_db


def test_valid_token_gives_the_caller_with_tier_scopes(token, person, public_client):
    caller = verify_access_token(token)
    assert caller.user_id == person.pk
    assert caller.client_id == public_client["client_id"]
    assert caller.scopes == {"code:read", "code:write"}


def test_lowering_the_tier_narrows_the_very_next_check(token, person):
    set_tier(person, "public")
    assert verify_access_token(token).scopes == {"code:read"}


def test_revoked_token_is_refused_immediately(token):
    get_access_token_model().objects.filter(token_checksum=hashlib.sha256(token.encode()).hexdigest()).delete()
    with pytest.raises(InvalidToken, match="revoked"):
        verify_access_token(token)


def test_disabled_person_is_refused(token, person):
    person.is_active = False
    person.save()
    with pytest.raises(InvalidToken, match="disabled"):
        verify_access_token(token)


def _forge(claims_update: dict, *, key_pem=None, kid=None, typ="at+jwt", alg="RS256"):
    key = active_key()
    now = int(time.time())
    claims = {"iss": "http://127.0.0.1:8000", "sub": "1", "aud": "http://127.0.0.1:8000/mcp", "client_id": "c",
              "scope": "code:read", "iat": now, "exp": now + 60, "jti": uuid.uuid4().hex}
    claims.update(claims_update)
    return jwt.encode(claims, key_pem or key.private_pem, algorithm=alg, headers={"kid": kid or key.kid, "typ": typ})


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"claims_update": {"exp": int(time.time()) - 10}}, "expired"),
        ({"claims_update": {"iss": "https://evil.example"}}, "invalid"),
        ({"claims_update": {"aud": "https://other.example/mcp"}}, "not issued for this resource"),
        ({"claims_update": {}, "typ": "JWT"}, "RFC 9068"),
        ({"claims_update": {}, "kid": "unknown-kid"}, "not signed by this server"),
    ],
)
def test_forged_or_foreign_jwts_are_refused(db, kwargs, message):
    with pytest.raises(InvalidToken, match=message):
        verify_access_token(_forge(**kwargs))


def test_token_signed_with_another_key_is_refused(db):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    with pytest.raises(InvalidToken, match="invalid"):
        verify_access_token(_forge({}, key_pem=other))


def test_hs256_token_using_the_public_key_as_secret_is_refused(db):
    """Algorithm confusion: only RS256 is accepted."""
    with pytest.raises(InvalidToken):
        verify_access_token(_forge({}, key_pem=b"k" * 32, alg="HS256"))


def test_expired_row_is_refused_even_with_a_valid_signature(token):
    get_access_token_model().objects.filter(token_checksum=hashlib.sha256(token.encode()).hexdigest()).update(expires=timezone.now() - datetime.timedelta(seconds=1))
    with pytest.raises(InvalidToken, match="expired"):
        verify_access_token(token)


def test_a_token_verified_once_is_still_refused_once_its_signing_key_is_withdrawn(token, monkeypatch):
    from mcp_gateway.auth import bearer
    from oauth_app.models import SigningKey

    assert verify_access_token(token)  # signature verified and remembered
    kid = jwt.get_unverified_header(token)["kid"]
    SigningKey.objects.filter(kid=kid).update(retired_at=timezone.now() - datetime.timedelta(days=30))
    monkeypatch.setattr(bearer, "_keys_loaded_at", 0.0)  # the minute-long key cache has run out
    with pytest.raises(InvalidToken):
        verify_access_token(token)


def test_a_remembered_signature_does_not_outlive_the_jwt_exp(token, person):
    from oauth2_provider.models import set_token_value

    row = get_access_token_model().objects.get(token_checksum=hashlib.sha256(token.encode()).hexdigest())
    short = _forge({"sub": str(person.pk), "client_id": row.application.client_id, "exp": int(time.time()) + 2})
    twin = get_access_token_model()(user=person, application=row.application, scope="code:read", resource=row.resource,
                                    expires=timezone.now() + datetime.timedelta(days=1))  # the row would allow it
    set_token_value(twin, short)
    twin.save()
    assert verify_access_token(short).user_id == person.pk  # verified and remembered
    time.sleep(3)
    with pytest.raises(InvalidToken, match="expired"):
        verify_access_token(short)


def test_the_person_groups_come_with_the_caller(token, person):
    from django.contrib.auth.models import Group

    person.groups.add(Group.objects.create(name="payments"), Group.objects.create(name="infra"))
    caller = verify_access_token(token)
    assert caller.groups == {"payments", "infra"}
    assert caller.scopes == {"code:read", "code:write"}  # one row per group, one Caller


def _key_set_reads(queries) -> int:
    return sum(1 for q in queries.captured_queries if "signingkey" in q["sql"].lower())


def test_made_up_kids_read_the_key_set_at_most_once_per_interval(token):
    from mcp_gateway.auth import bearer

    verify_access_token(token)  # the key set is loaded
    forged = [_forge({}, kid=secrets.token_hex(8)) for _ in range(100)]
    started = time.monotonic()
    with CaptureQueriesContext(connection) as queries:
        for raw in forged:
            with pytest.raises(InvalidToken, match="not signed by this server"):
                verify_access_token(raw)
    elapsed = time.monotonic() - started
    assert _key_set_reads(queries) <= int(elapsed / bearer._UNKNOWN_KID_REFRESH_SECONDS) + 1


def test_a_key_rotated_in_by_another_process_is_accepted_within_the_interval(token, issue_token):
    from mcp_gateway.auth import bearer
    from oauth_app.models import SigningKey

    verify_access_token(token)  # the key set is loaded, with the current key only
    # Rotate as `manage.py rotate_signing_key` does in another process: this one hears nothing of it.
    assert post_save.disconnect(sender=SigningKey, dispatch_uid="mcp_gateway.bearer.new_signing_key")
    try:
        call_command("rotate_signing_key", stdout=io.StringIO())
    finally:
        post_save.connect(bearer._forget_key_set, sender=SigningKey, dispatch_uid="mcp_gateway.bearer.new_signing_key")
    fresh = issue_token()
    assert jwt.get_unverified_header(fresh)["kid"] != jwt.get_unverified_header(token)["kid"]
    started = time.monotonic()
    while True:
        try:
            verify_access_token(fresh)
            break
        except InvalidToken:
            assert time.monotonic() - started < bearer._UNKNOWN_KID_REFRESH_SECONDS + 0.5
            time.sleep(0.1)
    assert verify_access_token(token)  # the retired key still verifies the tokens it signed


def test_a_key_rotated_in_this_process_is_accepted_at_once(token, issue_token):
    verify_access_token(token)
    call_command("rotate_signing_key", stdout=io.StringIO())
    assert verify_access_token(issue_token())
