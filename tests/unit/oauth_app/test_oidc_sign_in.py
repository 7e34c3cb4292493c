"""OpenID Connect single sign-on against a real provider on loopback (django-oauth-toolkit's
OIDC provider in a second Django site, tests/support/oidc_provider/): discovery, PKCE, nonce,
the ID-token checks, accounts matched by verified email, claim rules, and the provider's MFA
claims for the admin tier. The browser's part at the provider is plain HTTP (its sign-in form)."""

from __future__ import annotations

from urllib.parse import parse_qs, quote, urlsplit

import jwt
import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache

from oauth_app.models import AuthEvent, Profile
from oauth_app.services import create_or_update_account
from tests.support.oauth import REDIRECT_URI, approve_consent, authorize_query, pkce_pair, redirect_params
from tests.support.sso import idp_sign_in, oidc_settings

pytestmark = pytest.mark.django_db

RULES = [
    {"claim": "groups", "value": "mcprag-admins", "tier": "admin"},
    {"claim": "groups", "value": "engineering", "tier": "developer"},
    {"claim": "groups", "value": "payments", "groups": ["payments"]},
]


@pytest.fixture(autouse=True)
def sso(settings, oidc_provider):
    settings.MCPRAG_OIDC = oidc_settings(oidc_provider, RULES=RULES)
    return settings


def _callback(client, provider, username, next_url="/account/"):
    start = client.get(f"/login/sso/?next={quote(next_url)}")
    assert start.status_code == 302, start.content[:300]
    back = idp_sign_in(provider, start["Location"], username)
    assert back.startswith("http://testserver/login/sso/callback/?")
    parts = urlsplit(back)
    return client.get(f"{parts.path}?{parts.query}")


def test_start_sends_pkce_s256_nonce_and_state_to_the_discovered_endpoint(client, oidc_provider):
    start = client.get("/login/sso/?next=/account/")
    assert start.status_code == 302
    location = urlsplit(start["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == f"{oidc_provider.issuer}/authorize/"
    query = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert query["response_type"] == "code" and query["client_id"] == oidc_provider.client_id
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
    assert len(query["nonce"]) >= 32 and len(query["state"]) >= 32
    assert query["redirect_uri"] == "http://testserver/login/sso/callback/"
    assert "openid" in query["scope"].split()


def test_sign_in_through_consent_to_a_token_with_rules_applied(client, oidc_provider):
    verifier, challenge = pkce_pair()
    pending = client.get(authorize_query(public := _register(client), challenge))
    assert pending.status_code == 302 and pending["Location"].startswith("/login/")
    page = client.get(pending["Location"])
    assert b'id="sso-sign-in"' in page.content and b"Sign in with Corp SSO" in page.content
    landed = _callback(client, oidc_provider, "linus", page.context["next"])
    assert landed.status_code == 302 and landed["Location"].startswith("/authorize/")
    params = redirect_params(approve_consent(client, client.get(landed["Location"])))
    token = client.post("/token/", {"grant_type": "authorization_code", "code": params["code"], "redirect_uri": REDIRECT_URI,
                                    "client_id": public, "code_verifier": verifier}).json()
    claims = jwt.decode(token["access_token"], options={"verify_signature": False})
    assert claims["amr"] == ["sso"]
    profile = Profile.objects.get(user__email="linus@corp.example")
    assert profile.tier == "developer"  # rule "engineering" → developer
    assert AuthEvent.objects.filter(kind=AuthEvent.Kind.SIGN_IN, user=profile.user).exists()


def _register(client) -> str:
    import json

    body = {"client_name": "Agent", "redirect_uris": [REDIRECT_URI], "token_endpoint_auth_method": "none"}
    return client.post("/register/", data=json.dumps(body), content_type="application/json").json()["client_id"]


def test_existing_account_is_matched_by_verified_email_in_any_case(client, oidc_provider, django_user_model):
    user, _ = create_or_update_account("ken-local", email="ken@corp.example", password="pw-123-long-enough")
    landed = _callback(client, oidc_provider, "ken")  # the provider says Ken@Corp.Example
    assert landed.status_code == 302 and landed["Location"] == "/account/"
    assert client.session["_auth_user_id"] == str(user.pk)
    assert django_user_model.objects.filter(email__iexact="ken@corp.example").count() == 1


def test_unverified_email_is_refused_and_no_account_is_made(client, oidc_provider, django_user_model):
    page = _callback(client, oidc_provider, "mallory")
    assert page.status_code == 400 and b"did not confirm your email address" in page.content
    assert not django_user_model.objects.filter(email__iexact="mallory@corp.example").exists()
    assert "_auth_user_id" not in client.session
    event = AuthEvent.objects.filter(kind=AuthEvent.Kind.SIGN_IN_FAILED).latest("id")
    assert event.error == "email_not_verified" and event.detail["method"] == "sso"


def test_trusted_email_setting_accepts_a_provider_without_email_verified(client, oidc_provider, sso):
    sso.MCPRAG_OIDC = {**sso.MCPRAG_OIDC, "TRUST_EMAIL": True}
    assert _callback(client, oidc_provider, "mallory").status_code == 302


def test_groups_are_joined_and_left_by_the_rules(client, oidc_provider):
    _callback(client, oidc_provider, "grace")
    user = Profile.objects.get(user__email="grace@corp.example").user
    Group.objects.get_or_create(name="hand-managed")[0].user_set.add(user)
    assert set(user.groups.values_list("name", flat=True)) == {"payments", "hand-managed"}
    oidc_provider.update("grace", groups=["mcprag-admins"])
    try:
        client.logout()
        _callback(client, oidc_provider, "grace")
    finally:
        oidc_provider.update("grace", groups=["mcprag-admins", "payments"])
    assert set(user.groups.values_list("name", flat=True)) == {"hand-managed"}  # the rule's group left, the operator's kept


def test_a_tier_rule_that_stops_matching_lowers_the_tier(client, oidc_provider):
    _callback(client, oidc_provider, "linus")
    assert Profile.objects.get(user__email="linus@corp.example").tier == "developer"
    oidc_provider.update("linus", groups=[])
    try:
        client.logout()
        _callback(client, oidc_provider, "linus")
    finally:
        oidc_provider.update("linus", groups=["engineering"])
    assert Profile.objects.get(user__email="linus@corp.example").tier == "public"


def _admin_token(client, provider, username):
    public = _register(client)
    verifier, challenge = pkce_pair()
    pending = client.get(authorize_query(public, challenge, scope="code:read index:admin"))
    landed = _callback(client, provider, username, client.get(pending["Location"]).context["next"])
    assert landed.status_code == 302, landed.content[:300]
    if not landed["Location"].startswith("/authorize/"):
        return landed, None
    page = client.get(landed["Location"])
    params = redirect_params(approve_consent(client, page))
    token = client.post("/token/", {"grant_type": "authorization_code", "code": params["code"], "redirect_uri": REDIRECT_URI,
                                    "client_id": public, "code_verifier": verifier}).json()
    return landed, token


def test_provider_mfa_counts_for_admin_scopes_only_when_the_operator_trusts_it(client, oidc_provider, sso):
    # Not trusted (default): grace is admin by rule, but her token carries no index:admin.
    _, token = _admin_token(client, oidc_provider, "grace")
    assert token["scope"].split() == ["code:read"]
    client.logout()
    sso.MCPRAG_OIDC = {**sso.MCPRAG_OIDC, "MFA_AMR": ["mfa", "hwk"]}
    _, token = _admin_token(client, oidc_provider, "grace")
    assert sorted(token["scope"].split()) == ["code:read", "index:admin"]
    claims = jwt.decode(token["access_token"], options={"verify_signature": False})
    assert claims["amr"] == ["sso", "mfa"]


def test_provider_without_mfa_claim_still_needs_mcprag_totp_when_enrolled(client, oidc_provider, sso):
    from oauth_app.flows import mfa
    from tests.support.oauth import totp_code

    sso.MCPRAG_OIDC = {**sso.MCPRAG_OIDC, "MFA_AMR": ["mfa"]}
    _callback(client, oidc_provider, "linus")
    user = Profile.objects.get(user__email="linus@corp.example").user
    mfa.start_enrolment(user)
    mfa.confirm_enrolment(user, totp_code(user))
    client.logout()
    landed = _callback(client, oidc_provider, "linus")  # amr ["pwd"]: not multi-factor
    assert landed["Location"] == "/login/verify/"
    assert "_auth_user_id" not in client.session


def test_replayed_callback_is_refused_without_a_trace(client, oidc_provider):
    start = client.get("/login/sso/")
    back = urlsplit(idp_sign_in(oidc_provider, start["Location"], "linus"))
    assert client.get(f"{back.path}?{back.query}").status_code == 302
    client.logout()
    replay = client.get(f"{back.path}?{back.query}")
    assert replay.status_code == 400 and b"already used" in replay.content


def test_id_token_for_another_client_is_refused(client, oidc_provider, sso):
    sso.MCPRAG_OIDC = {**sso.MCPRAG_OIDC}
    start = client.get("/login/sso/")
    back = urlsplit(idp_sign_in(oidc_provider, start["Location"], "linus"))
    # The code was issued to our client; if mcprag expected another audience the ID token must fail.
    from oauth_app import sso as sso_module

    original = sso_module.OIDCBackend._verify_jws

    def other_audience(self, payload, key):
        self.OIDC_RP_CLIENT_ID, real = "someone-else", self.OIDC_RP_CLIENT_ID
        try:
            return original(self, payload, key)
        finally:
            self.OIDC_RP_CLIENT_ID = real

    sso_module.OIDCBackend._verify_jws = other_audience
    try:
        page = client.get(f"{back.path}?{back.query}")
    finally:
        sso_module.OIDCBackend._verify_jws = original
    assert page.status_code == 400 and "_auth_user_id" not in client.session


def test_provider_refusal_and_unreachable_provider_are_pages_not_traces(client, oidc_provider, sso):
    client.get("/login/sso/")
    refused = client.get("/login/sso/callback/?error=access_denied&state=whatever")
    assert refused.status_code == 400 and b"did not sign you in" in refused.content
    cache.clear()
    sso.MCPRAG_OIDC = {**sso.MCPRAG_OIDC, "ISSUER": "http://127.0.0.1:9/nothing"}
    down = client.get("/login/sso/")
    assert down.status_code == 503 and b"Sign-in is unavailable" in down.content


def test_discovery_refuses_a_document_naming_another_issuer(settings, oidc_provider):
    """OpenID Connect Discovery §4.3: the document's issuer must be the one configured."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from oauth_app.sso import SSOUnavailable, provider_config

    real = json.loads(__import__("httpx2").get(f"{oidc_provider.issuer}/.well-known/openid-configuration").text)

    class Impostor(BaseHTTPRequestHandler):
        def do_GET(self):
            body = json.dumps({**real, "issuer": "https://idp.attacker.example"}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Impostor)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        settings.MCPRAG_OIDC = oidc_settings(oidc_provider, ISSUER=f"http://127.0.0.1:{server.server_port}/o")
        with pytest.raises(SSOUnavailable):
            provider_config()
    finally:
        server.shutdown()


def test_not_configured_means_404_and_no_button(client, settings):
    settings.MCPRAG_OIDC = {}
    assert client.get("/login/sso/").status_code == 404
    assert client.get("/login/sso/callback/?code=x&state=y").status_code == 404
    assert b"sso-sign-in" not in client.get("/login/").content


def test_password_sign_in_makes_no_call_to_the_provider(client, oidc_provider, sso):
    from tests.support.listener import counting_listener

    create_or_update_account("ada", email="ada@example.com", password="pw-123-long-enough")
    with counting_listener() as idp:
        sso.MCPRAG_OIDC = {**sso.MCPRAG_OIDC, "ISSUER": f"http://127.0.0.1:{idp.port}/o"}
        answer = client.post("/login/", {"username": "ada", "password": "pw-123-long-enough", "next": "/account/"})
        assert answer.status_code == 302 and answer["Location"] == "/account/"
        assert idp.wait_for(1, timeout=0.5) == 0
