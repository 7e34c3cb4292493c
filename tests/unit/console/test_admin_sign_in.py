"""The Django admin signs people in only through the project's sign-in page (rate limited, with
its TOTP step) and opens only for what the console opens for: an active staff account and, with
MCPRAG_CONSOLE_REQUIRE_MFA on, a TOTP-verified session."""

from __future__ import annotations

from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit

import pytest
from oauth_app.models import TierRule

from tests.support.oauth import totp_code as _code

pytestmark = pytest.mark.django_db
PASSWORD = "adm1n-Pass-word-9c"
ADD_RULE = "/admin/oauth_app/tierrule/add/"


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_superuser("root", "root@example.com", PASSWORD)


def _signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def _path_and_next(response) -> tuple[str, str | None]:
    assert response.status_code == HTTPStatus.FOUND, response.status_code
    location = urlsplit(response["Location"])
    return location.path, parse_qs(location.query).get("next", [None])[0]




def test_admin_login_serves_no_form_and_sends_to_the_sign_in_page(client):
    assert _path_and_next(client.get("/admin/login/?next=/admin/oauth_app/tierrule/")) == (
        "/login/", "/admin/oauth_app/tierrule/")
    assert _path_and_next(client.get("/admin/")) == ("/admin/login/", "/admin/")


def test_admin_login_never_checks_a_password(client, staff):
    for _ in range(40):
        client.post("/admin/login/", {"username": "root", "password": "wrong", "next": "/admin/"})
    answer = client.post("/admin/login/", {"username": "root", "password": PASSWORD, "next": "/admin/"})
    assert _path_and_next(answer) == ("/login/", "/admin/")
    assert not _signed_in(client)


def test_wrong_passwords_for_the_admin_are_throttled_at_the_sign_in_page(client, staff):
    sign_in, next_url = _path_and_next(client.get("/admin/login/?next=/admin/"))
    statuses = [client.post(sign_in, {"username": "root", "password": "wrong", "next": next_url}).status_code
                for _ in range(11)]
    assert statuses[:10] == [HTTPStatus.OK] * 10  # the form again, with an error
    assert statuses[10] == HTTPStatus.TOO_MANY_REQUESTS
    refused = client.post(sign_in, {"username": "root", "password": PASSWORD, "next": next_url})
    assert refused.status_code == HTTPStatus.TOO_MANY_REQUESTS and refused["Retry-After"]
    assert not _signed_in(client)


def test_password_only_staff_session_cannot_open_the_admin_or_post_a_change(client, staff, settings):
    settings.MCPRAG_CONSOLE_REQUIRE_MFA = True
    assert _path_and_next(client.post("/login/", {"username": "root", "password": PASSWORD, "next": "/admin/"})) == (
        "/admin/", None)
    assert _signed_in(client)
    login_path, next_url = _path_and_next(client.get("/admin/"))
    assert (login_path, next_url) == ("/admin/login/", "/admin/")
    assert _path_and_next(client.get(f"{login_path}?next={next_url}")) == ("/account/mfa/", "/admin/")
    answer = client.post(ADD_RULE, {"pattern": "@evil.example", "tier": "admin"})
    assert _path_and_next(answer) == ("/admin/login/", ADD_RULE)
    assert not TierRule.objects.exists()


def test_after_a_totp_code_the_same_session_opens_the_admin_and_posts_a_change(client, staff, settings):
    settings.MCPRAG_CONSOLE_REQUIRE_MFA = True
    client.post("/login/", {"username": "root", "password": PASSWORD, "next": "/admin/"})
    client.get("/account/mfa/?next=/admin/")
    assert client.post("/account/mfa/", {"code": _code(staff)}).context["next"] == "/admin/"
    assert client.get("/admin/").status_code == HTTPStatus.OK
    assert client.post(ADD_RULE, {"pattern": "@example.org", "tier": "developer"}).status_code == HTTPStatus.FOUND
    assert TierRule.objects.get().pattern == "@example.org"


def test_enrolled_operator_without_a_code_this_session_is_sent_to_verify(staff, enrolled_without_code):
    client = enrolled_without_code(staff)
    login_path, next_url = _path_and_next(client.get("/admin/oauth_app/tierrule/"))
    assert _path_and_next(client.get(f"{login_path}?next={next_url}")) == (
        "/account/mfa/verify/", "/admin/oauth_app/tierrule/")


def test_signed_in_person_who_is_not_staff_gets_403(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("ada", "ada@example.com", PASSWORD))
    login_path, next_url = _path_and_next(client.get("/admin/"))
    client.raise_request_exception = False
    assert client.get(f"{login_path}?next={next_url}").status_code == HTTPStatus.FORBIDDEN
