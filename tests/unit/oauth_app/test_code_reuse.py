"""RFC 6749 §4.1.2 / OAuth 2.1 §4.1.3: a replayed authorization code is refused *and* revokes the
tokens issued from it — the access token, and the refresh token with every rotation of it."""

from __future__ import annotations

import base64
import datetime

import pytest
from django.utils import timezone

from oauth_app.models import AuthEvent, UsedAuthorizationCode
from oauth_app.services import create_service_client
from oauth_app.tasks import clear_expired_tokens

from tests.support.oauth import REDIRECT_URI

pytestmark = pytest.mark.django_db


@pytest.fixture
def exchange(client, public_client, obtain_code):
    code, verifier, _ = obtain_code(public_client["client_id"])
    return {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI,
            "client_id": public_client["client_id"], "code_verifier": verifier}


@pytest.fixture
def introspect(client):
    """Ask ``/introspect/`` (RFC 7662) as a service client whether a token is active."""
    app, secret = create_service_client("resource-server", ["token:introspect"])
    auth = "Basic " + base64.b64encode(f"{app.client_id}:{secret}".encode()).decode()

    def active(token: str) -> bool:
        response = client.post("/introspect/", {"token": token}, HTTP_AUTHORIZATION=auth)
        assert response.status_code == 200, response.content
        return response.json()["active"]

    return active


def _refresh(client, client_id, refresh_token):
    return client.post("/token/", {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client_id})


def test_replayed_code_is_refused_and_revokes_the_tokens_issued_from_it(client, exchange, introspect):
    first = client.post("/token/", exchange)
    assert first.status_code == 200, first.content
    tokens = first.json()
    assert introspect(tokens["access_token"])

    replay = client.post("/token/", exchange)
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"
    assert "no-store" in replay["Cache-Control"]

    assert not introspect(tokens["access_token"])
    refreshed = _refresh(client, exchange["client_id"], tokens["refresh_token"])
    assert refreshed.status_code == 400 and refreshed.json()["error"] == "invalid_grant"
    event = AuthEvent.objects.get(kind=AuthEvent.Kind.CODE_REUSE)
    assert event.client_id == exchange["client_id"] and event.user is not None
    assert exchange["code"] not in str(event.detail)


def test_replay_also_revokes_refresh_tokens_rotated_since(client, exchange, introspect):
    tokens = client.post("/token/", exchange).json()
    rotated = _refresh(client, exchange["client_id"], tokens["refresh_token"])
    assert rotated.status_code == 200
    rotated = rotated.json()

    assert client.post("/token/", exchange).json()["error"] == "invalid_grant"

    assert not introspect(rotated["access_token"])
    assert _refresh(client, exchange["client_id"], rotated["refresh_token"]).status_code == 400


def test_only_a_hash_of_the_used_code_is_kept_until_shortly_after_its_expiry(client, exchange):
    assert client.post("/token/", exchange).status_code == 200
    used = UsedAuthorizationCode.objects.get()
    assert exchange["code"] not in (used.code_hash, str(used.token_family))
    assert timezone.now() < used.expires_at <= timezone.now() + datetime.timedelta(hours=2)


def test_periodic_cleanup_forgets_used_codes_past_their_retention(client, exchange, public_client, obtain_code):
    assert client.post("/token/", exchange).status_code == 200
    code, verifier, _ = obtain_code(public_client["client_id"])
    assert client.post("/token/", {**exchange, "code": code, "code_verifier": verifier}).status_code == 200
    UsedAuthorizationCode.objects.filter(pk=UsedAuthorizationCode.objects.order_by("pk").first().pk).update(
        expires_at=timezone.now() - datetime.timedelta(seconds=1))
    clear_expired_tokens()
    assert UsedAuthorizationCode.objects.count() == 1


def test_an_unknown_code_revokes_nothing(client, exchange, introspect):
    tokens = client.post("/token/", exchange).json()
    response = client.post("/token/", {**exchange, "code": "never-issued"})
    assert response.json()["error"] == "invalid_grant"
    assert introspect(tokens["access_token"])
    assert not AuthEvent.objects.filter(kind=AuthEvent.Kind.CODE_REUSE).exists()


def test_a_replay_by_another_client_revokes_nothing(client, exchange, introspect, register):
    """The code is bound to its client (RFC 6749 §4.1.3); another client's attempt is just invalid."""
    tokens = client.post("/token/", exchange).json()
    other = register().json()["client_id"]
    response = client.post("/token/", {**exchange, "client_id": other})
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"
    assert introspect(tokens["access_token"])


@pytest.mark.django_db(transaction=True)
def test_two_racing_exchanges_of_one_code_leave_no_live_token(public_client, obtain_code):
    """Both exchanges pass validation before either deletes the grant; the second to record the
    used code revokes the first one's tokens and its own, and answers invalid_grant.

    PostgreSQL only: the test holds both requests at the used-code insert with a table lock."""
    import threading
    import time

    from django.db import connection, transaction
    from django.test import Client
    from oauth2_provider.models import get_access_token_model, get_refresh_token_model

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row and table locks")
    code, verifier, _ = obtain_code(public_client["client_id"])
    body = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI,
            "client_id": public_client["client_id"], "code_verifier": verifier}
    responses = []

    def exchange():
        from django.db import connection as thread_connection

        try:
            responses.append(Client().post("/token/", body))
        finally:
            thread_connection.close()

    table = UsedAuthorizationCode._meta.db_table
    threads = [threading.Thread(target=exchange) for _ in range(2)]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f'LOCK TABLE "{table}" IN ACCESS EXCLUSIVE MODE')
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            cursor.execute("SELECT count(*) FROM pg_locks WHERE relation = %s::regclass AND NOT granted", [table])
            if cursor.fetchone()[0] == 2:
                break
            time.sleep(0.05)
        else:
            pytest.fail("the two exchanges never reached the used-code insert")
    for thread in threads:
        thread.join(30)

    assert sorted(r.status_code for r in responses) == [200, 400]
    [refused] = [r for r in responses if r.status_code == 400]
    assert refused.json()["error"] == "invalid_grant" and "no-store" in refused["Cache-Control"]
    assert not get_access_token_model().objects.exclude(scope="oauth2_provider:registration").exists()
    assert not get_refresh_token_model().objects.filter(revoked__isnull=True).exists()
    assert AuthEvent.objects.get(kind=AuthEvent.Kind.CODE_REUSE).detail["concurrent"] is True


def test_tokens_revoked_before_the_response_is_written_get_invalid_grant_not_a_500(client, exchange):
    """The racing exchange that loses revokes the winner's tokens; it may do so after the winner
    saved them but before DOT re-reads the access token to write the 200. Simulated
    deterministically: when DOT deletes the grant, the loser's revocation runs."""
    from django.db.models.signals import post_delete
    from oauth2_provider.models import get_grant_model

    from oauth_app import code_reuse
    from oauth_app.models import Application

    application = Application.objects.get(client_id=exchange["client_id"])

    def concurrent_replay(sender, instance, **kwargs):
        assert code_reuse.revoke_replayed(exchange["code"], application, None, race=True)

    post_delete.connect(concurrent_replay, sender=get_grant_model(), weak=False)
    try:
        client.raise_request_exception = False
        response = client.post("/token/", exchange)
    finally:
        post_delete.disconnect(concurrent_replay, sender=get_grant_model())
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant" and "no-store" in response["Cache-Control"]
