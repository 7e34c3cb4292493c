"""One AuthEvent per authorization-server event added by ``oauth_app.signals``, with the right fields:
sign-in success and failure, token issued, token refreshed, token revoked at ``/revoke_token/``."""

from __future__ import annotations

import base64

import pytest

from oauth_app.models import Application, AuthEvent
from oauth_app.services import create_service_client


pytestmark = pytest.mark.django_db
PASSWORD = "s3cret-pass-word"  # the ``person`` fixture's


def _events(kind):
    return list(AuthEvent.objects.filter(kind=kind))


def test_password_sign_in_records_one_sign_in_event(client, person):
    response = client.post("/login/", {"username": "grace", "password": PASSWORD, "next": "/account/"}, REMOTE_ADDR="203.0.113.7")
    assert response.status_code == 302
    [event] = _events("sign_in")
    assert (event.user, event.client_id, event.ip, event.error) == (person, "", "203.0.113.7", "")


def test_failed_sign_in_names_the_account_but_never_the_attempt(client, person):
    client.post("/login/", {"username": "grace", "password": "Wrong-guess-123", "next": "/account/"})
    [event] = _events("sign_in_failed")
    assert (event.user, event.error, event.detail) == (person, "invalid_credentials", {"known_account": True})
    assert not _events("sign_in")


def test_failed_sign_in_for_an_unknown_name_stores_nothing_typed(client, db):
    client.post("/login/", {"username": "hunter2-typed-in-the-wrong-box", "password": "x", "next": "/account/"})
    [event] = _events("sign_in_failed")
    assert event.user is None and event.detail == {"known_account": False}
    assert "hunter2" not in repr(AuthEvent.objects.values().get())


def test_code_exchange_records_token_issued(tokens, person, public_client):
    pair = tokens()
    [event] = _events("token_issued")
    assert (event.user, event.client_id) == (person, public_client["client_id"])
    assert event.detail["grant_type"] == "authorization_code" and event.detail["scope"] == "code:read"
    assert isinstance(event.detail["access_token_id"], int)
    assert pair["access_token"] not in repr(event.detail)


def test_refresh_records_token_refreshed_and_not_issued_or_revoked(client, tokens, public_client):
    pair = tokens()
    AuthEvent.objects.all().delete()
    response = client.post("/token/", {"grant_type": "refresh_token", "refresh_token": pair["refresh_token"],
                                       "client_id": public_client["client_id"]})
    assert response.status_code == 200
    assert [e.kind for e in AuthEvent.objects.all()] == ["token_refreshed"]
    assert AuthEvent.objects.get().detail["grant_type"] == "refresh_token"


def test_client_credentials_records_token_issued_without_a_person(client):
    app, secret = create_service_client("ci", ["code:read"])
    basic = "Basic " + base64.b64encode(f"{app.client_id}:{secret}".encode()).decode()
    assert client.post("/token/", {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=basic).status_code == 200
    [event] = _events("token_issued")
    assert (event.user, event.client_id, event.detail["grant_type"]) == (None, app.client_id, "client_credentials")


@pytest.mark.parametrize("which", ["access_token", "refresh_token"])
def test_revocation_endpoint_records_one_token_revoked(client, tokens, person, public_client, which):
    pair = tokens()
    AuthEvent.objects.all().delete()
    response = client.post("/revoke_token/", {"token": pair[which], "token_type_hint": which,
                                              "client_id": public_client["client_id"]}, REMOTE_ADDR="198.51.100.4")
    assert response.status_code == 200
    [event] = AuthEvent.objects.all()
    assert (event.kind, event.user, event.client_id, event.ip) == ("token_revoked", person, public_client["client_id"], "198.51.100.4")
    assert event.detail["endpoint"] == "revoke_token"
    # DOT revokes the pair either way (RFC 7009 §2.1 "MAY"): one row lists both ids.
    assert len(event.detail["access_token_ids"]) == len(event.detail["refresh_token_ids"]) == 1


def test_revoking_an_unknown_token_records_nothing(client, public_client):
    response = client.post("/revoke_token/", {"token": "not-a-token", "client_id": public_client["client_id"]})
    assert response.status_code == 200  # RFC 7009 §2.2
    assert not _events("token_revoked")


def test_revoke_agent_still_writes_exactly_one_token_revoked(tokens, person, public_client):
    from oauth_app.services import revoke_agent

    tokens()
    revoke_agent(person, Application.objects.get(client_id=public_client["client_id"]))
    [event] = _events("token_revoked")
    assert event.detail == {"access_tokens": 1, "reason": "agent revoked"}


def test_deleting_tokens_outside_the_revocation_endpoint_is_not_a_revocation_event(tokens, person):
    from oauth2_provider.models import get_access_token_model

    tokens()
    get_access_token_model().objects.filter(user=person).delete()  # e.g. cleartokens
    assert not _events("token_revoked")


def test_each_event_is_written_once_per_request_for_a_full_flow(client, person, tokens, public_client):
    """Sign-in, consent, code exchange, refresh, revocation: one row each, in order."""
    AuthEvent.objects.all().delete()
    client.logout()
    client.post("/login/", {"username": "grace", "password": PASSWORD, "next": "/account/"})
    pair = tokens()
    refreshed = client.post("/token/", {"grant_type": "refresh_token", "refresh_token": pair["refresh_token"],
                                        "client_id": public_client["client_id"]}).json()
    client.post("/revoke_token/", {"token": refreshed["access_token"], "client_id": public_client["client_id"]})
    kinds = list(AuthEvent.objects.order_by("at", "id").values_list("kind", flat=True))
    # obtain_code signs in again with force_login (a second sign_in) before consenting.
    assert kinds == ["sign_in", "sign_in", "consent_granted", "token_issued", "token_refreshed", "token_revoked"]


@pytest.mark.django_db(transaction=True)
def test_revocation_through_the_asgi_handler_records_one_event(tokens, person, public_client):
    """Daphne serves Django through its ASGI handler, where request_started reaches sync receivers
    from a task of its own: the revocation scope must still reach the view."""
    import asyncio

    from django.test import AsyncClient

    pair = tokens()
    AuthEvent.objects.all().delete()

    async def revoke():
        return await AsyncClient().post("/revoke_token/", {"token": pair["access_token"], "client_id": public_client["client_id"]})

    assert asyncio.run(revoke()).status_code == 200
    [event] = AuthEvent.objects.all()
    assert (event.kind, event.user, event.detail["endpoint"]) == ("token_revoked", person, "revoke_token")
