"""The rough paths a person walks into, in a real browser (Debian's Chromium via Playwright)
against the real server, at 1280 px and at 390 px (a phone):

* a 2,000-character agent name on the consent page: the page stays 390 px wide and Allow can be tapped;
* a form sent after the session ended: a styled "session expired" page that leads back to the page;
* a wrong TOTP code during enrolment: the same secret stays, the wait is said, the right code then works;
* ``/admin/`` is styled (its stylesheet loads with status 200);
* screenshots of every page at both widths in ``tests/artifacts/pages/`` (git-ignored).
"""

from __future__ import annotations

import base64
import time
from urllib.parse import urlencode

import httpx2
import pytest

from tests.support.browser import ARTIFACTS, browser_page
from tests.support.people import create_person, sign_in

pytestmark = pytest.mark.e2e
CALLBACK = "http://127.0.0.1:9/pages-e2e"
WIDE, PHONE = {"width": 1280, "height": 900}, {"width": 390, "height": 844}
SHOTS = ARTIFACTS / "pages"


def shoot(page, name: str) -> None:
    """Full-page screenshots of the current page at 1280 and 390 px."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    before = page.viewport_size
    for label, size in (("1280", WIDE), ("390", PHONE)):
        page.set_viewport_size(size)
        page.screenshot(path=str(SHOTS / f"{name}-{label}.png"), full_page=True)
    page.set_viewport_size(before)


def page_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def register(server, name: str) -> str:
    response = httpx2.post(f"{server.base_url}/register/", json={
        "client_name": name, "redirect_uris": [CALLBACK], "token_endpoint_auth_method": "none"})
    assert response.status_code == 201, response.text
    return response.json()["client_id"]


def authorize_url(server, client_id: str) -> str:
    return f"{server.base_url}/authorize/?" + urlencode({
        "response_type": "code", "client_id": client_id, "redirect_uri": CALLBACK, "state": "s", "scope": "code:read",
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "code_challenge_method": "S256"})


@pytest.fixture(scope="module")
def operator(live_server_e2e):
    return "ophelia", create_person(live_server_e2e, "ophelia", "public", operator=True)


def test_a_2000_character_agent_name_keeps_allow_tappable_at_390_px(live_server_e2e):
    server = live_server_e2e
    password = create_person(server, "lena", "public")
    client_id = register(server, "Agent " + "verylongname" * 166)  # 2,000 characters, no space after the first word
    with browser_page() as page:
        page.set_viewport_size(PHONE)
        page.route(f"{CALLBACK}**", lambda route: route.fulfill(status=200, body="back at the agent"))
        sign_in(page, server, "lena", password, "/account/")
        page.goto(authorize_url(server, client_id))
        assert page.is_visible("#client-name")
        assert page_width(page) <= PHONE["width"], "the consent page scrolls sideways"
        allow = page.locator("#authorizationForm button[name=allow]")
        box = allow.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"] and box["height"] >= 40
        # Nothing covers it: the element at its centre is the button itself.
        assert page.evaluate("([x, y]) => document.elementFromPoint(x, y).name", [box["x"] + box["width"] / 2,
                                                                                   box["y"] + box["height"] / 2 - page.evaluate("window.scrollY")]) in ("allow", None)
        title = page.get_attribute("#client-name", "title")
        assert len(title) == 255 and title.endswith("…")  # cut visibly at registration
        shoot(page, "consent-long-name")
        allow.scroll_into_view_if_needed()
        allow.click()
        page.wait_for_url(f"{CALLBACK}**")
        assert "code=" in page.url


def test_a_form_sent_after_the_session_ended_leads_back_to_its_page(live_server_e2e, operator):
    server = live_server_e2e
    create_person(server, "pat", "public")
    with browser_page() as page:
        page.set_viewport_size(WIDE)
        sign_in(page, server, *operator, "/console/people/")
        page.click("#people a:text-is('pat')")
        person_page = page.url
        page.fill("#id_reason", "Moving to the platform team")
        page.context.clear_cookies()  # the session (and its CSRF cookie) ended, e.g. expired overnight
        page.click("#tier-form button[type=submit]")
        page.wait_for_selector("#session-expired")
        assert page.inner_text("h1") == "Your session expired"
        assert "CSRF" not in page.content()
        shoot(page, "session-expired")
        page.click("#go-back")
        page.wait_for_url(f"{server.base_url}/login/**")
        assert "Sign in to open the operator console." in page.inner_text("#sign-in-reason")
        page.fill("#id_username", operator[0])
        page.fill("#id_password", operator[1])
        page.click("#login-form button[type=submit]")
        page.wait_for_url(person_page)  # the page the form was on, not a blank 405
        assert page.is_visible("#tier-form")


def _totp(secret: str) -> str:
    from django_otp.oath import totp

    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    return f"{totp(key, step=30, t0=0, digits=6):06d}"


def test_a_wrong_totp_code_during_enrolment_keeps_the_secret(live_server_e2e):
    server = live_server_e2e
    password = create_person(server, "tariq", "public")
    with browser_page() as page:
        page.set_viewport_size(WIDE)
        sign_in(page, server, "tariq", password, "/account/mfa/")
        secret = page.inner_text("#totp-secret")
        page.fill("#id_code", "000000" if _totp(secret) != "000000" else "111111")
        page.click("#enrol-form button[type=submit]")
        page.wait_for_selector("#enrol-error")
        assert "did not match" in page.inner_text("#enrol-error")
        assert page.inner_text("#totp-secret") == secret  # nothing to scan again
        shoot(page, "mfa-wrong-code")
        for _ in range(5):  # right after a wrong one, django-otp's throttle may still hold: the page says the wait
            page.fill("#id_code", _totp(secret))
            page.click("#enrol-form button[type=submit]")
            page.wait_for_load_state()
            if not page.is_visible("#enrol-error"):
                break
            assert "wait" in page.inner_text("#enrol-error") and page.inner_text("#totp-secret") == secret
            time.sleep(1.2)
        assert page.is_visible("#recovery-codes") or "two-factor" in page.inner_text("main").lower()
        assert not page.is_visible("#enrol-error")


def test_admin_is_styled(live_server_e2e, operator):
    server = live_server_e2e
    with browser_page() as page:
        page.set_viewport_size(WIDE)
        sign_in(page, server, *operator, "/console/")
        styles = []
        page.on("response", lambda r: styles.append((r.url, r.status)) if r.url.endswith(".css") else None)
        page.goto(f"{server.base_url}/admin/")
        page.wait_for_load_state("networkidle")
        admin_css = [(url, status) for url, status in styles if "/static/admin/css/" in url]
        assert admin_css and all(status == 200 for _, status in admin_css), styles
        header = page.evaluate("getComputedStyle(document.querySelector('#header')).backgroundColor")
        assert header not in ("rgba(0, 0, 0, 0)", "transparent")  # the admin's stylesheet applied
        shoot(page, "admin")


def test_every_page_at_both_widths(live_server_e2e, operator):
    """Screenshots of each page at 1280 and 390 px; the console's list pages never scroll sideways
    at 390 px (their tables become cards) and every list page has an h1 and a skip link."""
    server = live_server_e2e
    register(server, "Cursor")
    register(server, "Cursor")
    with browser_page() as page:
        page.set_viewport_size(WIDE)
        page.goto(f"{server.base_url}/")
        assert page.is_visible("text=Sign in")
        shoot(page, "home-signed-out")
        sign_in(page, server, *operator, "/console/")
        pages = {
            "home": "/", "account": "/account/", "account-agents": "/account/agents/", "overview": "/console/",
            "overview-24h": "/console/?range=24h", "overview-90d": "/console/?range=90d", "people": "/console/people/",
            "agents": "/console/agents/", "audit-tool-calls": "/console/audit/?client=Cursor",
            "audit-auth-events": "/console/audit/auth-events/", "audit-operator-actions": "/console/audit/operator-actions/",
            "audit-bad-dates": "/console/audit/?since=2025-02-31", "repositories": "/console/repositories/",
            "jobs": "/console/jobs/", "mfa-enrol": "/account/mfa/",
        }
        for name, path in pages.items():
            response = page.goto(f"{server.base_url}{path}")
            assert response.status == 200, (name, response.status)
            shoot(page, name)
            if path.startswith("/console/"):
                assert page.locator("h1").count() >= 1, name
                assert page.locator("a.skip-link[href='#main']").count() == 1, name
                page.set_viewport_size(PHONE)
                assert page_width(page) <= PHONE["width"], (name, page_width(page))
                page.set_viewport_size(WIDE)
        page.goto(f"{server.base_url}/")
        assert page.is_visible("#open-console")
        page.goto(f"{server.base_url}/account/")
        assert page.is_visible("#open-console")
        page.click("header form button[type=submit]")  # sign out
        page.wait_for_selector("#sign-in-again")
        shoot(page, "signed-out")
