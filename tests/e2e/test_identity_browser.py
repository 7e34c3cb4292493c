"""Sign-in and consent in a real browser (headless Chromium via Playwright) against the real server:
Stytch magic-link sign-in through consent, TOTP enrolment then an admin-scope consent, and a
public-tier person who is never offered ``index:admin``. Screenshots land in tests/artifacts/."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx2
import pytest

from tests.support import fake_stytch
from tests.support.browser import browser_page, screenshot
from tests.support.fake_stytch import FakeStytch
from tests.support.live_server import make_live_server

pytestmark = pytest.mark.e2e
CALLBACK = "http://127.0.0.1:9/browser-callback"


def _register(base_url: str) -> str:
    response = httpx2.post(f"{base_url}/register/", json={
        "client_name": "Browser Test Agent", "redirect_uris": [CALLBACK], "token_endpoint_auth_method": "none"})
    return response.json()["client_id"]


def _authorize_url(base_url: str, client_id: str, scope: str) -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    query = urlencode({"response_type": "code", "client_id": client_id, "redirect_uri": CALLBACK, "state": "b1",
                       "scope": scope, "code_challenge": challenge, "code_challenge_method": "S256"})
    return f"{base_url}/authorize/?{query}", verifier


def _catch_callback(page) -> dict:
    """Answer the agent's loopback callback inside the browser and record its query."""
    seen: dict = {}

    def handle(route):
        seen.update({k: v[0] for k, v in parse_qs(urlsplit(route.request.url).query).items()})
        route.fulfill(status=200, content_type="text/html", body="<p>agent received the code</p>")

    page.route(f"{CALLBACK}**", handle)
    return seen


def _exchange(base_url, client_id, code, verifier) -> dict:
    return httpx2.post(f"{base_url}/token/", data={"grant_type": "authorization_code", "code": code,
                                                   "redirect_uri": CALLBACK, "client_id": client_id,
                                                   "code_verifier": verifier}).json()


@pytest.fixture(scope="module")
def stytch_server(tmp_path_factory):
    with FakeStytch() as fake:
        server = make_live_server(tmp_path_factory.mktemp("stytch-server"))
        server.env.update(STYTCH_PROJECT_ID=fake_stytch.PROJECT_ID, STYTCH_SECRET=fake_stytch.SECRET,
                          STYTCH_API_BASE_URL=fake.base_url, MCPRAG_DEVELOPER_DOMAINS="example.com")
        server.start()
        server.fake = fake
        try:
            yield server
        finally:
            server.stop()


def test_magic_link_sign_in_through_consent_in_a_browser(stytch_server):
    server = stytch_server
    client_id = _register(server.base_url)
    url, verifier = _authorize_url(server.base_url, client_id, "code:read code:write")
    with browser_page() as page:
        callback = _catch_callback(page)
        page.goto(url)
        page.wait_for_selector("#email-form")
        screenshot(page, "identity-01-magic-link-email-form")
        page.fill("#id_email", "ada.lovelace@example.com")
        page.click("#email-form button[type=submit]")
        page.wait_for_selector("text=Check your email")
        screenshot(page, "identity-02-check-your-email")
        link = server.fake.state.last_email("ada.lovelace@example.com").url
        page.goto(link)
        page.wait_for_selector("#authorizationForm")
        assert "Browser Test Agent" in page.content()
        assert "Generate code and send feedback" in page.content()  # developer tier from the domain rule
        screenshot(page, "identity-03-consent-after-magic-link")
        page.click("button[name=allow]")
        deadline = time.monotonic() + 10
        while "code" not in callback and time.monotonic() < deadline:
            page.wait_for_timeout(100)
    assert callback["state"] == "b1" and callback["iss"] == server.base_url
    token = _exchange(server.base_url, client_id, callback["code"], verifier)
    assert set(token["scope"].split()) == {"code:read", "code:write"}


def _sign_in(page, base_url, username, password):
    page.goto(f"{base_url}/login/?next=/account/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("#login-form button[type=submit]")


def _totp_now(secret_base32: str) -> str:
    from django_otp.oath import totp

    padded = secret_base32 + "=" * (-len(secret_base32) % 8)
    return f"{totp(base64.b32decode(padded)):06d}"


def test_mfa_enrolment_then_admin_scope_consent(live_server_e2e):
    server = live_server_e2e
    password = secrets.token_urlsafe(12)
    server.manage("create_account", "operator", "--email", "operator@example.com", f"--password={password}", "--tier", "admin")
    client_id = _register(server.base_url)
    with browser_page() as page:
        _sign_in(page, server.base_url, "operator", password)
        url, _ = _authorize_url(server.base_url, client_id, "code:read index:admin")
        page.goto(url)
        page.wait_for_selector("#authorizationForm")
        assert "Manage repositories" not in page.inner_text("ul.scopes")
        assert page.is_visible("#needs-mfa")
        screenshot(page, "identity-04-admin-consent-before-mfa")
        page.goto(f"{server.base_url}/account/mfa/")
        page.wait_for_selector("#qr svg")
        screenshot(page, "identity-05-mfa-enrolment-qr")
        page.fill("#id_code", _totp_now(page.inner_text("#totp-secret").strip()))
        page.click("#enrol-form button[type=submit]")
        page.wait_for_selector("#recovery-codes")
        assert len(page.query_selector_all("#recovery-codes li")) == 10
        screenshot(page, "identity-06-mfa-recovery-codes")
        page.goto(url)
        page.wait_for_selector("#authorizationForm")
        assert "Manage repositories and index jobs" in page.inner_text("ul.scopes")
        screenshot(page, "identity-07-admin-consent-after-mfa")


def test_public_tier_person_is_never_offered_index_admin(live_server_e2e):
    server = live_server_e2e
    password = secrets.token_urlsafe(12)
    server.manage("create_account", "visitor", "--email", "visitor@example.org", f"--password={password}", "--tier", "public")
    client_id = _register(server.base_url)
    with browser_page() as page:
        _sign_in(page, server.base_url, "visitor", password)
        url, _ = _authorize_url(server.base_url, client_id, "code:read code:write index:admin")
        page.goto(url)
        page.wait_for_selector("#authorizationForm")
        offered = page.inner_text("ul.scopes")
        assert "Search and read the code" in offered
        assert "index:admin" not in offered and "code:write" not in offered
        screenshot(page, "identity-08-public-tier-consent")
