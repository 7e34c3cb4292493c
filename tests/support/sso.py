"""Single sign-on test helpers: the ``oidc_provider`` fixture (a real OpenID Connect provider on
loopback, :mod:`tests.support.oidc_provider`) and :func:`idp_sign_in`, a person signing in at it."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx2
import pytest

from tests.support.oidc_provider.server import Provider, start

#: The redirect URIs the provider's client allows: Django's test client, and e2e servers' own.
TESTSERVER_CALLBACK = "http://testserver/login/sso/callback/"


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory):
    provider = start(tmp_path_factory.mktemp("oidc-provider"), [TESTSERVER_CALLBACK])
    try:
        yield provider
    finally:
        provider.stop()


def oidc_settings(provider: Provider, **overrides) -> dict:
    """``MCPRAG_OIDC`` for ``provider``, as ``mcprag_site.settings`` would build it."""
    return {"ISSUER": provider.issuer, "CLIENT_ID": provider.client_id, "CLIENT_SECRET": provider.client_secret,
            "SCOPES": "openid email profile", "NAME": "Corp SSO", "RULES": [], "MFA_AMR": [], "TRUST_EMAIL": False,
            **overrides}


def idp_sign_in(provider: Provider, authorization_url: str, username: str) -> str:
    """Follow ``authorization_url`` at the provider as ``username`` (its own sign-in form, then
    its authorization endpoint); return the URL the provider redirects back to."""
    with httpx2.Client(follow_redirects=False, timeout=10) as browser:
        answer = browser.get(authorization_url)
        assert answer.status_code == 302, answer.text
        login_url = urljoin(authorization_url, answer.headers["location"])
        page = browser.get(login_url)
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        next_value = parse_qs(urlsplit(login_url).query)["next"][0]
        answer = browser.post(login_url, data={"username": username, "password": provider.password(username),
                                               "csrfmiddlewaretoken": csrf, "next": next_value})
        assert answer.status_code == 302, answer.text
        answer = browser.get(urljoin(login_url, answer.headers["location"]))
        assert answer.status_code == 302, answer.text
        return answer.headers["location"]
