"""Local accounts: sign-in stages, TOTP enrolment and verification (django-otp), recovery codes,
admin scopes only after MFA, amr in tokens, rate limits, password reset, tier rules."""

from __future__ import annotations

import logging

import jwt
import pytest
from django.core import mail
from django.core.management import call_command

from mcp_gateway.auth.bearer import verify_access_token
from oauth_app.models import AuthEvent, TierRule
from oauth_app.scopes import tier_of
from oauth_app.profiles import ensure_profile
from oauth_app.services import create_or_update_account, person_for_verified_email

from tests.support.oauth import REDIRECT_URI, approve_consent, authorize_query, pkce_pair, redirect_params, totp_code

pytestmark = pytest.mark.django_db
PASSWORD = "s3cret-pass-word"


def sign_in(client, username="grace", password=PASSWORD, next_url="/account/"):
    return client.post("/login/", {"username": username, "password": password, "next": next_url})


def enrol(client, user) -> list[str]:
    page = client.get("/account/mfa/")
    assert page.status_code == 200 and b"<svg" in page.content
    done = client.post("/account/mfa/", {"code": totp_code(user)})
    assert done.status_code == 200
    return done.context["recovery_codes"]


def test_password_sign_in_without_mfa_records_pwd(client, person):
    response = sign_in(client)
    assert response.status_code == 302 and response["Location"] == "/account/"
    assert client.session["mcprag_amr"] == ["pwd"]


def test_email_address_works_as_username(client, person):
    assert sign_in(client, username="GRACE@example.com").status_code == 302


def test_wrong_password_stays_on_the_form(client, person):
    response = sign_in(client, password="nope")
    assert response.status_code == 200 and "_auth_user_id" not in client.session


def test_enrolled_person_must_give_a_code_before_being_signed_in(client, person):
    sign_in(client)
    recovery = enrol(client, person)
    assert len(recovery) == 10
    client.logout()
    first = sign_in(client)
    assert first["Location"] == "/login/verify/" and "_auth_user_id" not in client.session
    assert client.post("/login/verify/", {"code": "000000"}).status_code == 200
    assert "_auth_user_id" not in client.session
    done = client.post("/login/verify/", {"code": recovery[0]})
    assert done.status_code == 302 and client.session["mcprag_amr"] == ["pwd", "otp"]
    mfa_events = list(AuthEvent.objects.filter(kind__startswith="mfa_").order_by("pk").values_list("kind", "user", "error"))
    assert mfa_events == [("mfa_enrolled", person.pk, ""), ("mfa_failed", person.pk, "invalid_code"),
                          ("mfa_verified", person.pk, "")]
    assert not any(c in repr(list(AuthEvent.objects.values())) for c in recovery)  # codes are never stored
    client.logout()
    sign_in(client)
    # A recovery code works once.
    assert client.post("/login/verify/", {"code": recovery[0]}).status_code == 200
    assert "_auth_user_id" not in client.session


def test_wrong_enrolment_code_changes_nothing(client, person):
    sign_in(client)
    client.get("/account/mfa/")
    assert client.post("/account/mfa/", {"code": "000000"}).status_code == 400
    assert not ensure_profile(person).mfa_enrolled_at
    [event] = AuthEvent.objects.filter(kind__startswith="mfa_")
    assert (event.kind, event.user, event.error, event.detail) == ("mfa_failed", person, "invalid_code", {"stage": "enrolment"})


def _consent_scopes(client, client_id):
    _, challenge = pkce_pair()
    page = client.get(authorize_query(client_id, challenge, scope="code:read code:write index:admin"))
    return [s for s, _ in page.context["scope_items"]], page


def test_admin_scope_is_offered_only_after_mfa_and_the_token_carries_amr(client, public_client, django_user_model):
    admin, _ = create_or_update_account("root", email="root@example.com", password=PASSWORD, tier="admin")
    sign_in(client, "root")
    offered, page = _consent_scopes(client, public_client["client_id"])
    assert "index:admin" not in offered and page.context["needs_mfa"] == ["index:admin"]
    enrol(client, admin)  # confirming enrolment verifies a code: this session now has otp
    offered, page = _consent_scopes(client, public_client["client_id"])
    assert "index:admin" in offered
    verifier, challenge = pkce_pair()
    page = client.get(authorize_query(public_client["client_id"], challenge, scope="code:read index:admin"))
    form = page.context["form"]
    data = {name: (form.initial.get(name) or "") for name in form.fields}
    data.update(allow="Authorize", claims='{"amr": ["pwd", "otp", "hacked"]}')
    params = redirect_params(client.post(page.request["PATH_INFO"] + "?" + page.request["QUERY_STRING"], data))
    body = client.post("/token/", {"grant_type": "authorization_code", "code": params["code"], "redirect_uri": REDIRECT_URI,
                                   "client_id": public_client["client_id"], "code_verifier": verifier}).json()
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["amr"] == ["pwd", "otp"]
    assert "index:admin" in verify_access_token(body["access_token"]).scopes
    # The amr survives a refresh.
    refreshed = client.post("/token/", {"grant_type": "refresh_token", "refresh_token": body["refresh_token"],
                                        "client_id": public_client["client_id"]}).json()
    assert jwt.decode(refreshed["access_token"], options={"verify_signature": False})["amr"] == ["pwd", "otp"]


def test_allowing_a_request_whose_scopes_all_need_a_second_factor_issues_none_of_them(client, public_client):
    """Every requested scope withheld (``index:admin`` in a password-only sign-in): the empty scope
    left made oauthlib fall back to the request's own ``scope``, and the token carried index:admin."""
    create_or_update_account("root3", email="root3@example.com", password=PASSWORD, tier="admin")
    sign_in(client, "root3")
    _, challenge = pkce_pair()
    page = client.get(authorize_query(public_client["client_id"], challenge, scope="index:admin"))
    assert page.context["scope_items"] == [] and page.context["needs_mfa"] == ["index:admin"]
    params = redirect_params(approve_consent(client, page))
    assert "code" not in params
    assert (params["error"], params["state"]) == ("invalid_scope", "st-123") and params["iss"]


def test_posted_claims_cannot_forge_otp(client, public_client):
    create_or_update_account("root2", email="root2@example.com", password=PASSWORD, tier="admin")
    sign_in(client, "root2")
    verifier, challenge = pkce_pair()
    page = client.get(authorize_query(public_client["client_id"], challenge, scope="code:read index:admin"))
    form = page.context["form"]
    data = {name: (form.initial.get(name) or "") for name in form.fields}
    data.update(allow="Authorize", claims='{"amr": ["pwd", "otp"]}', scope="code:read index:admin")
    params = redirect_params(client.post(page.request["PATH_INFO"] + "?" + page.request["QUERY_STRING"], data))
    body = client.post("/token/", {"grant_type": "authorization_code", "code": params["code"], "redirect_uri": REDIRECT_URI,
                                   "client_id": public_client["client_id"], "code_verifier": verifier}).json()
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["amr"] == ["pwd"] and "index:admin" not in claims["scope"]
    assert "index:admin" not in verify_access_token(body["access_token"]).scopes


def test_failed_sign_ins_are_rate_limited_per_account_with_retry_after(client, person, settings):
    settings.MCPRAG_RATE_LIMITS = {**settings.MCPRAG_RATE_LIMITS, "login_failures_ip": (3, 300)}
    for _ in range(3):
        assert sign_in(client, password="wrong").status_code == 200
    refused = sign_in(client)  # even the right password waits
    assert refused.status_code == 429 and 0 < int(refused["Retry-After"]) <= 300
    assert "_auth_user_id" not in client.session


def test_successful_sign_ins_cost_no_account_budget(client, person, settings):
    settings.MCPRAG_RATE_LIMITS = {**settings.MCPRAG_RATE_LIMITS, "login_failures_ip": (2, 300), "login_failures": (2, 900),
                                   "login_account": (2, 300)}
    for _ in range(4):
        assert sign_in(client).status_code == 302
        client.logout()


def test_guessing_from_one_address_does_not_lock_the_account_elsewhere(client, person, settings):
    settings.MCPRAG_RATE_LIMITS = {**settings.MCPRAG_RATE_LIMITS, "login_failures_ip": (3, 300)}
    for _ in range(3):
        client.post("/login/", {"username": "grace", "password": "wrong", "next": "/account/"}, REMOTE_ADDR="203.0.113.9")
    attacker = client.post("/login/", {"username": "grace", "password": PASSWORD, "next": "/account/"}, REMOTE_ADDR="203.0.113.9")
    assert attacker.status_code == 429
    assert sign_in(client).status_code == 302  # the person, from their own address


def test_the_username_and_the_email_in_any_case_share_one_account_budget(client, person, settings):
    settings.MCPRAG_RATE_LIMITS = {**settings.MCPRAG_RATE_LIMITS, "login_failures_ip": (3, 300)}
    for typed in ("grace", "GRACE@example.com", "grace@EXAMPLE.com"):
        assert sign_in(client, username=typed, password="wrong").status_code == 200
    assert sign_in(client, username="Grace@Example.com").status_code == 429


def test_failures_from_many_addresses_hit_the_account_wide_budget(client, person, settings):
    settings.MCPRAG_RATE_LIMITS = {**settings.MCPRAG_RATE_LIMITS, "login_failures": (4, 900)}
    for n in range(4):
        client.post("/login/", {"username": "grace", "password": "wrong", "next": "/"}, REMOTE_ADDR=f"198.51.100.{n}")
    assert sign_in(client).status_code == 429


def test_password_reset_sends_an_email_with_a_working_link(client, person):
    response = client.post("/password-reset/", {"email": "grace@example.com"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1 and "grace@example.com" in mail.outbox[0].to
    link = next(line for line in mail.outbox[0].body.splitlines() if "/reset/" in line)
    path = link.split("testserver", 1)[1]
    form_page = client.get(path, follow=True)
    assert form_page.status_code == 200 and form_page.context["validlink"]
    done = client.post(form_page.redirect_chain[-1][0], {"new_password1": "another-Long-pass-42", "new_password2": "another-Long-pass-42"})
    assert done.status_code == 302
    assert sign_in(client, password="another-Long-pass-42").status_code == 302


def test_password_reset_requests_are_limited_per_address_typed(client, person, settings):
    """A flood of reset requests for one person sends a few emails, however the address is
    written and wherever the requests come from; an address without an account is refused alike."""
    settings.MCPRAG_RATE_LIMITS = {**settings.MCPRAG_RATE_LIMITS, "password_reset_account": (3, 900)}
    typed = ["grace@example.com", "GRACE@example.com", " Grace@Example.COM ", "grace@EXAMPLE.com", "grace@example.com"]
    answers = [client.post("/password-reset/", {"email": email}, REMOTE_ADDR=f"198.51.100.{n}") for n, email in enumerate(typed)]
    assert [a.status_code for a in answers] == [302, 302, 302, 429, 429]
    assert 0 < int(answers[-1]["Retry-After"]) <= 900 and "Too many attempts" in answers[-1].content.decode()
    assert len(mail.outbox) == 3
    unknown = [client.post("/password-reset/", {"email": "nobody@example.com"}, REMOTE_ADDR=f"203.0.113.{n}") for n in range(4)]
    assert [a.status_code for a in unknown] == [302, 302, 302, 429] and len(mail.outbox) == 3


def test_password_reset_requests_are_limited_per_client_address(client, person, settings):
    settings.MCPRAG_RATE_LIMITS = {**settings.MCPRAG_RATE_LIMITS, "password_reset_ip": (10, 900)}
    codes = [client.post("/password-reset/", {"email": f"someone{n}@example.com"}).status_code for n in range(10)]
    assert codes == [302] * 10
    refused = client.post("/password-reset/", {"email": "grace@example.com"})
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0 and mail.outbox == []
    assert client.post("/password-reset/", {"email": "grace@example.com"}, REMOTE_ADDR="192.0.2.77").status_code == 302
    assert len(mail.outbox) == 1


def test_twenty_reset_requests_send_a_few_emails_by_default(client, person, caplog):
    """The default limits; the address typed is never a cache key or a log line in clear."""
    from django.core.cache import caches
    from django.core.cache.backends.locmem import LocMemCache

    caplog.set_level(logging.DEBUG)
    codes = [client.post("/password-reset/", {"email": "grace@example.com"}).status_code for _ in range(20)]
    sent = codes.count(302)
    assert 0 < sent < 20 and codes == [302] * sent + [429] * (20 - sent)
    assert len(mail.outbox) == sent
    backend = caches["default"]
    if isinstance(backend, LocMemCache):
        keys = [str(key) for key in backend._cache]
    else:  # Redis (REDIS_URL)
        keys = [key.decode() for key in backend._cache.get_client(write=False).scan_iter("*")]
    assert keys and not any("grace" in key.lower() for key in keys)
    assert "grace@example.com" not in caplog.text.lower()


def test_tier_rules_decide_a_new_persons_tier(settings):
    settings.MCPRAG_DEVELOPER_DOMAINS = ["dev.example"]
    settings.MCPRAG_ADMIN_EMAILS = ["boss@dev.example"]
    TierRule.objects.create(pattern="@partner.example", tier="developer")
    TierRule.objects.create(pattern="ops@partner.example", tier="admin")
    assert tier_of(person_for_verified_email("a@dev.example")) == "developer"
    assert tier_of(person_for_verified_email("boss@dev.example")) == "admin"
    assert tier_of(person_for_verified_email("b@partner.example")) == "developer"
    assert tier_of(person_for_verified_email("ops@partner.example")) == "admin"
    assert tier_of(person_for_verified_email("c@elsewhere.example")) == "public"


def test_set_tier_command_changes_the_next_check(person, client, public_client, obtain_code):
    code, verifier, _ = obtain_code(public_client["client_id"], scope="code:read code:write")
    token = client.post("/token/", {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI,
                                    "client_id": public_client["client_id"], "code_verifier": verifier}).json()["access_token"]
    assert "code:write" in verify_access_token(token).scopes
    call_command("set_tier", "grace@example.com", "public")
    assert verify_access_token(token).scopes == {"code:read"}


def test_account_and_enrolment_pages_are_never_stored_by_a_cache(client, person):
    """Enrolment shows the TOTP secret and recovery codes; no browser or proxy may keep them."""
    client.force_login(person)
    for url in ("/account/", "/account/mfa/"):
        response = client.get(url)
        assert response.status_code == 200
        assert "no-store" in response["Cache-Control"], url
    done = client.post("/account/mfa/", {"code": totp_code(person)})
    assert done.status_code == 200 and "no-store" in done["Cache-Control"]


def test_without_a_way_to_send_mail_password_reset_is_off_and_says_so(client, person, settings):
    """An https deployment without EMAIL_HOST (MCPRAG_PASSWORD_RESET off) makes no reset links:
    the console backend would print them, token included, to the log."""
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    settings.MCPRAG_PASSWORD_RESET = False
    assert "Forgot your password?" in client.get("/login/").content.decode()
    assert 'href="/password-reset/"' not in client.get("/login/").content.decode()
    for response in (client.get("/password-reset/"), client.post("/password-reset/", {"email": "grace@example.com"})):
        assert response.status_code == 404
        assert "Password reset is not available here" in response.content.decode()
    assert mail.outbox == []
    uid = urlsafe_base64_encode(force_bytes(person.pk))
    token = default_token_generator.make_token(person)  # e.g. a link printed before the upgrade
    assert client.get(f"/reset/{uid}/{token}/", follow=True).status_code == 404
    assert client.get("/password-reset/sent/").status_code == 404


def test_wrong_enrolment_code_keeps_the_secret_and_the_right_one_then_works(client, person):
    sign_in(client)
    first = client.get("/account/mfa/")
    secret = first.context["secret"]
    again = client.post("/account/mfa/", {"code": "000000"})
    assert again.status_code == 400 and again.context["secret"] == secret  # nothing to re-scan
    assert "That code did not match" in again.content.decode()
    throttled = client.post("/account/mfa/", {"code": totp_code(person)})  # at once: django-otp's 1 s throttle
    assert throttled.context["secret"] == secret and "wait 1 second" in throttled.content.decode()
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice.objects.filter(user=person).update(throttling_failure_timestamp=None)  # as if the second had passed
    done = client.post("/account/mfa/", {"code": totp_code(person)})
    assert done.status_code == 200 and len(done.context["recovery_codes"]) == 10


def test_after_a_wrong_sign_in_code_the_page_says_how_long_to_wait(client, person):
    sign_in(client)
    enrol(client, person)
    client.logout()
    sign_in(client)
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice.objects.filter(user=person).update(last_t=-1)  # the enrolment code may be used again in this test
    wrong = client.post("/login/verify/", {"code": "000000"}).content.decode()
    assert "That code is not valid" in wrong and "You can try again in 1 second." in wrong
    early = client.post("/login/verify/", {"code": totp_code(person)})
    assert "_auth_user_id" not in client.session and "wait 1 second" in early.content.decode()
    assert "not valid" not in early.content.decode()
    TOTPDevice.objects.filter(user=person).update(throttling_failure_timestamp=None)
    assert client.post("/login/verify/", {"code": totp_code(person)}).status_code == 302


@pytest.mark.parametrize(("next_url", "words"), [
    ("/console/audit/", "Sign in to open the operator console."),
    ("/admin/", "Sign in to open the operator console."),
    ("/account/agents/", "Sign in to manage your account"),
    ("/authorize/?client_id=nobody&response_type=code", "An application asked to use mcprag on your behalf."),
])
def test_sign_in_page_says_why_from_where_the_person_came(client, next_url, words):
    from urllib.parse import quote

    html = client.get(f"/login/?next={quote(next_url)}").content.decode()
    assert words in html
    if not next_url.startswith("/authorize"):
        assert "An application asked" not in html


def test_sign_in_page_names_the_application(client, public_client):
    html = client.get(f"/login/?next=/authorize/%3Fclient_id%3D{public_client['client_id']}").content.decode()
    assert "“Test Agent” asked to use mcprag on your behalf." in html


def test_replacing_an_enrolled_authenticator_takes_a_code_from_it_first(client, person):
    """A session signed in with the password alone (from before the enrolment, or stolen) must not
    swap in its own device: that would pass the console's multi-factor gate and lock the owner out."""
    from django.test import Client
    from django_otp.plugins.otp_totp.models import TOTPDevice

    sign_in(client)  # session A: password only, before the owner enrols
    owner = Client()
    sign_in(owner)
    enrol(owner, person)
    device = TOTPDevice.objects.get(user=person, confirmed=True)
    for response in (client.get("/account/mfa/"), client.post("/account/mfa/", {"code": "123456"})):
        assert response.status_code == 302
        assert response["Location"] == "/account/mfa/verify/?next=%2Faccount%2Fmfa%2F"
    assert list(TOTPDevice.objects.filter(user=person)) == [device] and "otp" not in client.session["mcprag_amr"]
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1)  # the owner's code may be used once more
    verified = client.post("/account/mfa/verify/", {"code": totp_code(person), "next": "/account/mfa/"})
    assert verified.status_code == 302 and verified["Location"] == "/account/mfa/"
    assert client.get("/account/mfa/").status_code == 200  # now the person may replace it


def test_a_sign_in_waiting_for_its_code_ends_with_a_password_change_or_after_ten_minutes(client, person, monkeypatch):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from oauth_app.flows import login as login_flow

    sign_in(client)
    enrol(client, person)
    client.logout()

    def code_now():
        TOTPDevice.objects.filter(user=person).update(last_t=-1, throttling_failure_count=0, throttling_failure_timestamp=None)
        return client.post("/login/verify/", {"code": totp_code(person)})

    assert sign_in(client)["Location"] == "/login/verify/"
    person.set_password("a-new-pass-word-9")
    person.save()
    assert code_now()["Location"] == "/login/" and "_auth_user_id" not in client.session
    assert sign_in(client, password="a-new-pass-word-9")["Location"] == "/login/verify/"
    real = login_flow.time
    later = real.time() + login_flow.PENDING_SECONDS + 1
    monkeypatch.setattr(login_flow, "time", type("Clock", (), {"time": staticmethod(lambda: later)}))
    assert code_now()["Location"] == "/login/" and "_auth_user_id" not in client.session
    monkeypatch.setattr(login_flow, "time", real)
    assert sign_in(client, password="a-new-pass-word-9")["Location"] == "/login/verify/"
    done = code_now()
    assert done.status_code == 302 and done["Location"] == "/account/" and "_auth_user_id" in client.session
