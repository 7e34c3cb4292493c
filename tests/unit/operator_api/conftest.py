"""Operator-API fixtures: tokens bound to the API resource, issued through the real token endpoint."""

from __future__ import annotations

import base64

import pytest
from django.conf import settings

from oauth_app.flows import mfa
from oauth_app.services import create_or_update_account, create_service_client
from tests.support.oauth import REDIRECT_URI, approve_consent, authorize_query, pkce_pair, redirect_params, totp_code


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


@pytest.fixture
def api_url():
    return settings.MCPRAG_API_URL


@pytest.fixture
def service_token(client, api_url):
    """``issue(scopes, resource=API)``: a new service client with ``scopes`` and a client-credentials
    token for it; returns ``(application, access_token)``."""

    def issue(scopes=("console:admin",), resource: str | None = "api", name: str = "ci"):
        app, secret = create_service_client(name, list(scopes))
        data = {"grant_type": "client_credentials"}
        if resource:
            data["resource"] = api_url if resource == "api" else resource
        response = client.post("/token/", data, HTTP_AUTHORIZATION=basic(app.client_id, secret))
        assert response.status_code == 200, response.content
        return app, response.json()["access_token"]

    return issue


@pytest.fixture
def api(client, service_token):
    """A Django test client speaking to the API with a service client's console:admin token."""

    app, token = service_token()

    class Api:
        application = app
        access_token = token

        def get(self, path, **params):
            return client.get(path, params, HTTP_AUTHORIZATION=f"Bearer {token}")

        def post(self, path, body=None):
            return client.post(path, body or {}, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")

        def delete(self, path, body=None):
            return client.delete(path, body or {}, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")

    return Api()


@pytest.fixture
def operator(db):
    user, _ = create_or_update_account("olga", email="olga@example.com", password="op-Pass-4f1c9e-word", tier="public")
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    return user


@pytest.fixture
def person_token(client, public_client, api_url):
    """``issue(user, totp=True, scope="console:admin")``: sign ``user`` in (with a TOTP code when
    asked), approve consent for the API resource, exchange the code; returns the token response."""

    def issue(user, *, totp: bool = True, scope: str = "console:admin"):
        client.force_login(user)
        if totp:
            client.get("/account/mfa/")
            client.post("/account/mfa/", {"code": totp_code(user)})  # enrols; the session now has "otp"
            assert mfa.is_enrolled(user)
        verifier, challenge = pkce_pair()
        page = client.get(authorize_query(public_client["client_id"], challenge, scope=scope, resource=api_url))
        assert page.status_code == 200, page.content[:500]
        params = redirect_params(approve_consent(client, page))
        response = client.post("/token/", {"grant_type": "authorization_code", "code": params["code"],
                                           "redirect_uri": REDIRECT_URI, "client_id": public_client["client_id"],
                                           "code_verifier": verifier})
        assert response.status_code == 200, response.content
        client.logout()
        return response.json()

    return issue


@pytest.fixture
def eager_celery(settings):
    """Index jobs run in-process on commit (even when REDIS_URL makes Celery non-eager); no model."""
    from mcprag_site.celery import app

    settings.MCPRAG_EMBEDDINGS = "none"
    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before
