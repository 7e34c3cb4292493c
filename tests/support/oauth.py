"""OAuth helpers and fixtures that drive the authorization server through Django's test client.

A pytest plugin (registered in ``tests/conftest.py``), so the oauth_app, console and gateway
tests share one copy: ``person`` (a developer with a password), ``register``/``public_client``
(RFC 7591 dynamic registration of a public client), ``obtain_code`` (sign in, consent, return
an authorization code with its PKCE verifier) and ``mcp_url``; plus the plain helpers
``pkce_pair``, ``authorize_query`` and ``redirect_params``, imported by the tests that need them.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.conf import settings

from oauth_app.services import create_or_update_account

REDIRECT_URI = "http://127.0.0.1:43110/callback"


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


@pytest.fixture
def person(db):
    user, _ = create_or_update_account("grace", email="grace@example.com", password="s3cret-pass-word", tier="developer")
    return user


@pytest.fixture
def register(client):
    def register(**metadata):
        body = {"client_name": "Test Agent", "redirect_uris": [REDIRECT_URI], "token_endpoint_auth_method": "none"}
        body.update(metadata)
        return client.post("/register/", data=json.dumps(body), content_type="application/json")

    return register


@pytest.fixture
def public_client(register):
    response = register()
    assert response.status_code == 201, response.content
    return response.json()


def authorize_query(client_id: str, challenge: str | None, **extra) -> str:
    params = {"response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT_URI, "state": "st-123", "scope": "code:read"}
    if challenge is not None:
        params.update(code_challenge=challenge, code_challenge_method="S256")
    params.update(extra)
    return "/authorize/?" + urlencode({k: v for k, v in params.items() if v is not None}, doseq=True)


def redirect_params(response) -> dict:
    assert response.status_code == 302, (response.status_code, response.content[:500])
    location = response["Location"]
    assert location.startswith(REDIRECT_URI), location
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def approve_consent(client, page):
    """Post the consent page's form back with **Allow**, as the person's browser would."""
    form = page.context["form"]
    data = {name: (form.initial.get(name) or "") for name in form.fields}
    data["allow"] = "Authorize"
    return client.post(page.request["PATH_INFO"] + "?" + page.request["QUERY_STRING"], data)


@pytest.fixture
def obtain_code(client, person):
    """Sign ``person`` in, approve consent through the form, return (code, verifier, params)."""

    def obtain(client_id: str, **extra):
        client.force_login(person)
        verifier, challenge = pkce_pair()
        page = client.get(authorize_query(client_id, challenge, **extra))
        assert page.status_code == 200, page.content[:500]
        params = redirect_params(approve_consent(client, page))
        return params["code"], verifier, params

    return obtain


@pytest.fixture
def mcp_url():
    return settings.MCPRAG_MCP_URL


def totp_code(user) -> str:
    """The current code of ``user``'s newest TOTP device (confirmed or being enrolled)."""
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user).order_by("-id").first()
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"
