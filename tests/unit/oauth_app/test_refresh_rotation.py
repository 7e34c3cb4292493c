"""Refresh tokens are opaque, rotate on use, and a replayed one revokes the whole family."""

from __future__ import annotations

import pytest

from mcp_gateway.auth.bearer import InvalidToken, verify_access_token

from tests.support.oauth import REDIRECT_URI

pytestmark = pytest.mark.django_db


@pytest.fixture
def tokens(client, public_client, obtain_code):
    code, verifier, _ = obtain_code(public_client["client_id"])
    return client.post("/token/", {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI,
                                   "client_id": public_client["client_id"], "code_verifier": verifier}).json()


def _refresh(client, public_client, refresh_token, **extra):
    return client.post("/token/", {"grant_type": "refresh_token", "refresh_token": refresh_token,
                                   "client_id": public_client["client_id"], **extra})


def test_refresh_rotates_and_keeps_the_audience(client, public_client, tokens):
    response = _refresh(client, public_client, tokens["refresh_token"])
    assert response.status_code == 200, response.content
    fresh = response.json()
    assert fresh["refresh_token"] != tokens["refresh_token"]
    assert verify_access_token(fresh["access_token"]).scopes == {"code:read"}


def test_reusing_a_rotated_refresh_token_revokes_the_family(client, public_client, tokens):
    fresh = _refresh(client, public_client, tokens["refresh_token"]).json()
    replay = _refresh(client, public_client, tokens["refresh_token"])
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"
    # The whole family is gone: the newest refresh token and its access token too.
    assert _refresh(client, public_client, fresh["refresh_token"]).status_code == 400
    with pytest.raises(InvalidToken):
        verify_access_token(fresh["access_token"])


def test_refresh_with_a_foreign_resource_is_refused(client, public_client, tokens):
    response = _refresh(client, public_client, tokens["refresh_token"], resource="https://other.example/mcp")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_target"


def test_refresh_cannot_widen_the_scope(client, public_client, tokens):
    response = _refresh(client, public_client, tokens["refresh_token"], scope="code:read index:admin")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"


def test_refresh_reuse_is_an_audit_event(client, public_client, tokens):
    from oauth_app.models import AuthEvent

    _refresh(client, public_client, tokens["refresh_token"])
    _refresh(client, public_client, tokens["refresh_token"])
    event = AuthEvent.objects.get(kind=AuthEvent.Kind.REFRESH_REUSE)
    assert event.client_id == public_client["client_id"] and event.error == "invalid_grant"
    assert tokens["refresh_token"] not in str(event.detail)


def test_a_suspended_persons_refresh_token_gets_nothing_until_they_are_reinstated(client, public_client, tokens, person):
    type(person).objects.filter(pk=person.pk).update(is_active=False)  # as the console's "suspend" does
    refused = _refresh(client, public_client, tokens["refresh_token"])
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
    type(person).objects.filter(pk=person.pk).update(is_active=True)  # "reinstate": the token was kept
    assert _refresh(client, public_client, tokens["refresh_token"]).status_code == 200
