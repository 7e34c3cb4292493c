"""Operator actions on a person: suspend, sign out everywhere, reset two-factor, revoke all tokens.
Each is one ``console.services`` function that records an ``OperatorAction``."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from oauth2_provider.models import get_access_token_model

from console import services
from console.models import OperatorAction
from mcp_gateway.auth.bearer import InvalidToken, verify_access_token

pytestmark = pytest.mark.django_db


def _signed_in(person) -> Client:
    browser = Client()
    browser.force_login(person)
    return browser


def test_suspend_signs_out_refuses_tokens_and_is_recorded(operator_client, operator, person, tokens):
    token = tokens()["access_token"]
    elsewhere = _signed_in(person)
    url = reverse("console:person-action", kwargs={"pk": person.pk})
    assert operator_client.post(url, {"action": "suspend"}).status_code == HTTPStatus.BAD_REQUEST  # a reason is required
    response = operator_client.post(url, {"action": "suspend", "reason": "left the company"})
    assert response.status_code == HTTPStatus.FOUND
    person.refresh_from_db()
    assert not person.is_active
    assert elsewhere.get("/account/agents/").status_code == HTTPStatus.FOUND  # signed out
    with pytest.raises(InvalidToken):
        verify_access_token(token)
    action = OperatorAction.objects.get(kind="person_suspended")
    assert (action.person, action.operator, action.reason) == (person, operator, "left the company")
    operator_client.post(url, {"action": "reinstate"})
    person.refresh_from_db()
    assert person.is_active and OperatorAction.objects.filter(kind="person_reinstated").exists()


def test_sign_out_everywhere_ends_only_their_sessions(operator, person):
    _signed_in(person), _signed_in(person)
    mine = _signed_in(operator)
    action = services.sign_out_everywhere(operator, person, "lost laptop")
    assert action.detail["sessions"] == 2 and action.kind == "person_signed_out"
    assert Session.objects.count() == 1 and mine.get(reverse("console:overview")).status_code == HTTPStatus.OK


def test_sign_out_everywhere_also_ends_a_sign_in_waiting_for_its_second_factor(operator, person):
    from django.test import Client

    from oauth_app.flows import mfa
    from tests.support.oauth import totp_code

    mfa.start_enrolment(person)
    assert mfa.confirm_enrolment(person, totp_code(person))
    person.set_password("pending-pass-word-1")
    person.save()
    waiting = Client()
    assert waiting.post("/login/", {"username": person.username, "password": "pending-pass-word-1"})["Location"] == "/login/verify/"
    action = services.sign_out_everywhere(operator, person, "lost laptop")
    assert action.detail["sessions"] == 1
    assert waiting.get("/login/verify/")["Location"] == "/login/"


def test_revoke_all_tokens(operator, person, tokens):
    token = tokens()["access_token"]
    action = services.revoke_all_tokens(operator, person, "token leaked")
    assert (action.kind, action.detail["agents"], action.detail["access_tokens"]) == ("tokens_revoked", 1, 1)
    assert not get_access_token_model().objects.filter(user=person).exists()
    with pytest.raises(InvalidToken):
        verify_access_token(token)


def test_reset_two_factor(operator, person):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from oauth_app.flows import mfa
    from tests.support.oauth import totp_code

    mfa.start_enrolment(person)
    assert mfa.confirm_enrolment(person, totp_code(person))
    assert mfa.is_enrolled(person)
    with pytest.raises(ValueError):
        services.reset_two_factor(operator, person, "")
    action = services.reset_two_factor(operator, person, "lost phone")
    assert not mfa.is_enrolled(person) and not TOTPDevice.objects.filter(user=person).exists()
    assert action.kind == "mfa_reset" and action.detail["devices"] == 2


def test_an_operator_cannot_suspend_themself(operator_client, operator):
    response = operator_client.post(reverse("console:person-action", kwargs={"pk": operator.pk}),
                                    {"action": "suspend", "reason": "oops"})
    assert response.status_code == HTTPStatus.BAD_REQUEST and "cannot suspend yourself" in response.content.decode()
    operator.refresh_from_db()
    assert operator.is_active
