"""Stytch email magic-link sign-in and Stytch TOTP, with the real Stytch SDK talking to a local fake
Stytch API (tests/support/fake_stytch.py): send → outbox → callback → signed in → consent → token."""

from __future__ import annotations

from urllib.parse import parse_qs, quote, urlsplit

import httpx2

import jwt
import pytest

from oauth_app.models import AuthEvent, Profile
from tests.support import fake_stytch
from tests.support.fake_stytch import FakeStytch

from tests.support.oauth import REDIRECT_URI, authorize_query, pkce_pair, redirect_params

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def fake():
    with FakeStytch() as server:
        yield server


@pytest.fixture(autouse=True)
def stytch_settings(settings, fake):
    settings.STYTCH_PROJECT_ID = fake_stytch.PROJECT_ID
    settings.STYTCH_SECRET = fake_stytch.SECRET
    settings.STYTCH_API_BASE_URL = fake.base_url
    settings.MCPRAG_STYTCH_ENABLED = True


def _start_authorize(client, client_id):
    verifier, challenge = pkce_pair()
    response = client.get(authorize_query(client_id, challenge))
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    return verifier, response["Location"]


def _click(client, email_link):
    parts = urlsplit(email_link)
    return client.get(parts.path + "?" + parts.query)


def test_magic_link_sign_in_through_consent_to_a_token(client, fake, public_client):
    verifier, login_url = _start_authorize(client, public_client["client_id"])
    page = client.get(login_url)
    assert b'id="email-form"' in page.content and b'type="password"' not in page.content
    next_url = page.context["next"]
    sent = client.post("/login/", {"email": "Marie@Example.com", "next": next_url})
    assert sent.status_code == 200 and b"Check your email" in sent.content
    email = fake.state.last_email("marie@example.com")
    assert email.url.startswith("http://testserver/login/magic-link/?")
    # The SDK sent a PKCE challenge, never the verifier.
    sent_call = [c for c in fake.state.calls if c[0].endswith("login_or_create")][-1][1]
    assert sent_call["code_challenge"] and "code_verifier" not in sent_call

    landed = _click(client, email.url)
    assert landed.status_code == 302 and landed["Location"].startswith("/authorize/")
    consent = client.get(landed["Location"])
    assert consent.status_code == 200 and b'id="authorizationForm"' in consent.content
    form = consent.context["form"]
    data = {name: (form.initial.get(name) or "") for name in form.fields}
    data["allow"] = "Authorize"
    params = redirect_params(client.post(landed["Location"], data))
    token = client.post("/token/", {"grant_type": "authorization_code", "code": params["code"], "redirect_uri": REDIRECT_URI,
                                    "client_id": public_client["client_id"], "code_verifier": verifier}).json()
    claims = jwt.decode(token["access_token"], options={"verify_signature": False})
    assert claims["amr"] == ["email"]
    profile = Profile.objects.get(user__email="marie@example.com")
    assert profile.stytch_user_id.startswith("user-test-")


def test_send_page_does_not_reveal_whether_an_account_exists(client, fake, django_user_model):
    django_user_model.objects.create_user("known", email="known@example.com")
    known = client.post("/login/", {"email": "known@example.com", "next": "/account/"})
    unknown = client.post("/login/", {"email": "nobody-here@example.com", "next": "/account/"})
    strip = lambda r: r.content.decode().replace("known@example.com", "X").replace("nobody-here@example.com", "X")  # noqa: E731
    assert known.status_code == unknown.status_code == 200
    assert strip(known) == strip(unknown)


def test_reused_link_is_refused_with_a_clear_page(client, fake):
    client.post("/login/", {"email": "reuse@example.com", "next": "/account/"})
    link = fake.state.last_email("reuse@example.com").url
    assert _click(client, link).status_code == 302
    client.logout()
    client.post("/login/", {"email": "other@example.com", "next": "/account/"})  # a pending verifier again
    again = _click(client, link)
    assert again.status_code == 400
    assert b"cannot be used" in again.content and b"Get a new link" in again.content


def test_expired_link_is_refused(client, fake):
    client.post("/login/", {"email": "late@example.com", "next": "/account/"})
    email = fake.state.last_email("late@example.com")
    fake.expire(email.token)
    response = _click(client, email.url)
    assert response.status_code == 400
    assert "_auth_user_id" not in client.session
    assert AuthEvent.objects.filter(kind="sign_in_failed", error="magic_link_rejected").count() == 1
    assert email.token not in repr(list(AuthEvent.objects.values()))


def test_link_opened_in_another_browser_is_refused(client, fake):
    from django.test import Client

    client.post("/login/", {"email": "twobrowsers@example.com", "next": "/account/"})
    link = fake.state.last_email("twobrowsers@example.com").url
    other = Client()
    assert _click(other, link).status_code == 400


def test_forged_token_is_refused(client, fake):
    client.post("/login/", {"email": "forge@example.com", "next": "/account/"})
    response = client.get("/login/magic-link/?stytch_token_type=magic_links&token=forged")
    assert response.status_code == 400
    [event] = AuthEvent.objects.filter(kind="sign_in_failed")
    assert (event.user, event.error, event.detail) == (None, "magic_link_rejected", {"method": "email"})
    assert "forged" not in repr(AuthEvent.objects.values().get())  # the link's token is never stored


def test_stytch_unreachable_gives_a_clear_page_not_a_500(client, settings):
    settings.STYTCH_API_BASE_URL = "http://127.0.0.1:9/"
    response = client.post("/login/", {"email": "x@example.com", "next": "/account/"})
    assert response.status_code == 503
    assert b"Sign-in is unavailable" in response.content


def test_stytch_totp_enrolment_then_sign_in_needs_the_code(client, fake):
    client.post("/login/", {"email": "totp@example.com", "next": "/account/"})
    assert _click(client, fake.state.last_email("totp@example.com").url).status_code == 302
    page = client.get("/account/mfa/")
    assert page.status_code == 200 and b"<svg" in page.content
    assert len(page.context["recovery_codes"]) == 5
    recovery = page.context["recovery_codes"][0]
    assert client.post("/account/mfa/", {"code": "000000"}).status_code == 400
    assert client.post("/account/mfa/", {"code": fake_stytch.TOTP_CODE}).status_code == 200
    client.logout()

    client.post("/login/", {"email": "totp@example.com", "next": "/account/"})
    landed = _click(client, fake.state.last_email("totp@example.com").url)
    assert landed["Location"] == "/login/verify/"
    assert "_auth_user_id" not in client.session
    assert client.post("/login/verify/", {"code": "999999"}).status_code == 200
    assert "_auth_user_id" not in client.session
    done = client.post("/login/verify/", {"code": recovery})
    assert done.status_code == 302 and client.session["mcprag_amr"] == ["email", "otp"]


def test_oauth_sign_in_beside_magic_links_through_consent_to_a_token(client, fake, public_client, settings):
    """Stytch OAuth (here "Google"): the sign-in page offers it beside the email form; the round
    trip through Stytch runs with PKCE and comes back signed in as the verified email's person."""
    settings.STYTCH_PUBLIC_TOKEN = fake_stytch.PUBLIC_TOKEN
    settings.MCPRAG_STYTCH_OAUTH_PROVIDERS = [{"slug": "google", "label": "Google"}, {"slug": "github", "label": "GitHub"}]
    fake.state.oauth_email = "Olivia@Example.com"
    verifier, login_url = _start_authorize(client, public_client["client_id"])
    page = client.get(login_url)
    assert b'id="email-form"' in page.content and b"Continue with Google" in page.content and b"Continue with GitHub" in page.content
    start = client.get(f"/login/oauth/google/?next={quote(page.context['next'])}")
    assert start.status_code == 302 and start["Location"].startswith(fake.base_url + "v1/public/oauth/google/start?")
    back = httpx2.get(start["Location"], follow_redirects=False)  # the browser at Stytch (and the provider)
    started = [c for c in fake.state.calls if c[0].endswith("/google/start")][-1][1]
    assert started["code_challenge"] and started["login_redirect_url"] == "http://testserver/login/oauth/callback/"
    parts = urlsplit(back.headers["location"])
    landed = client.get(f"{parts.path}?{parts.query}")
    assert landed.status_code == 302 and landed["Location"].startswith("/authorize/")
    consent = client.get(landed["Location"])
    form = consent.context["form"]
    data = {name: (form.initial.get(name) or "") for name in form.fields}
    data["allow"] = "Authorize"
    params = redirect_params(client.post(landed["Location"], data))
    token = client.post("/token/", {"grant_type": "authorization_code", "code": params["code"], "redirect_uri": REDIRECT_URI,
                                    "client_id": public_client["client_id"], "code_verifier": verifier}).json()
    assert jwt.decode(token["access_token"], options={"verify_signature": False})["amr"] == ["sso"]
    assert Profile.objects.get(user__email="olivia@example.com").stytch_user_id.startswith("user-test-")
    # The token works once, and only in the browser that started: a replay is refused.
    assert client.get(f"{parts.path}?{parts.query}").status_code == 400


def test_oauth_provider_not_enabled_is_404_and_another_browser_cannot_finish(client, fake, settings):
    from django.test import Client

    settings.STYTCH_PUBLIC_TOKEN = fake_stytch.PUBLIC_TOKEN
    settings.MCPRAG_STYTCH_OAUTH_PROVIDERS = [{"slug": "google", "label": "Google"}]
    assert client.get("/login/oauth/github/").status_code == 404
    start = client.get("/login/oauth/google/")
    back = urlsplit(httpx2.get(start["Location"], follow_redirects=False).headers["location"])
    assert Client().get(f"{back.path}?{back.query}").status_code == 400  # no verifier in that browser
