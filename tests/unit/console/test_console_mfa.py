"""With MCPRAG_CONSOLE_REQUIRE_MFA on, operators reach the console only in a TOTP-verified session."""

from __future__ import annotations

import pytest

from tests.support.oauth import totp_code as _code

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(django_user_model):
    return django_user_model.objects.create_user("op", email="op@example.com", password="pw-operator-123", is_staff=True)


def test_operator_without_mfa_is_sent_to_enrol_then_gets_in(client, operator, settings):
    settings.MCPRAG_CONSOLE_REQUIRE_MFA = True
    client.post("/login/", {"username": "op", "password": "pw-operator-123", "next": "/console/"})
    response = client.get("/console/")
    assert response.status_code == 302 and response["Location"].startswith("/account/mfa/?next=")
    client.get(response["Location"])
    done = client.post("/account/mfa/", {"code": _code(operator)})
    assert done.context["next"] == "/console/"
    assert client.get("/console/").status_code == 200


def test_enrolled_operator_in_a_password_only_session_must_verify(operator, enrolled_without_code):
    response = enrolled_without_code(operator).get("/console/")
    assert response.status_code == 302 and response["Location"].startswith("/account/mfa/verify/")


def test_without_the_setting_a_staff_session_is_enough(client, operator, settings):
    settings.MCPRAG_CONSOLE_REQUIRE_MFA = False
    client.force_login(operator)
    assert client.get("/console/").status_code == 200
