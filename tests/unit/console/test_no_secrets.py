"""No password, token, code, client secret or magic-link token ever lands in an audit row or a log line.

Runs real flows with known secret values — sign-in (and a wrong password), dynamic registration,
code exchange with PKCE, refresh, revocation, client credentials, tool calls whose arguments
carry a secret, a Stytch magic link — then scans every AuthEvent, ToolCall and OperatorAction row
and everything logged.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from urllib.parse import parse_qs, urlsplit

import pytest
from django.apps import apps
from django.urls import reverse
from mcp.client import Client

from mcp_gateway.auth.bearer import verify_access_token
from mcp_gateway.server import build_server
from oauth_app.services import create_service_client
from tests.support import fake_stytch
from tests.support.fake_stytch import FakeStytch

from tests.support.oauth import REDIRECT_URI, authorize_query, pkce_pair, redirect_params

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "s3cret-pass-word"  # the ``person`` fixture's
WRONG_PASSWORD = "Wr0ng-but-secret-guess"
ARGUMENT_SECRET = "sk-live-0123456789abcdef-do-not-log"


def _audit_text() -> str:
    rows = []
    for label in ("oauth_app.AuthEvent", "mcp_gateway.ToolCall", "console.OperatorAction"):
        rows += list(apps.get_model(label).objects.values())
    assert rows, "the flow wrote no audit rows at all"
    return json.dumps(rows, default=str)


def _assert_absent(secrets: dict[str, str], *haystacks: str) -> None:
    for name, value in secrets.items():
        assert value, name
        for probe in {value, value[:16]}:
            for haystack in haystacks:
                assert probe not in haystack, f"{name} leaked"


def _call_tool(caller, name, arguments):
    async def go():
        async with Client(build_server(default_caller=caller, transport="test")) as client:
            return await client.call_tool(name, arguments)

    return asyncio.run(go())


@pytest.fixture
def logs(caplog):
    """Everything logged at the deployed levels (root INFO), and mcprag's own modules down to DEBUG.

    (oauthlib and DOT log authorization codes at DEBUG; settings keep them at INFO.)
    """
    caplog.set_level(logging.INFO)
    for name in ("mcprag", "oauth_app", "mcp_gateway", "console", "codeindex"):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def test_oauth_flows_and_tool_calls_leave_no_secret_behind(client, person, register, operator_client, logs, capfd):
    secrets: dict[str, str] = {"password": PASSWORD, "wrong password": WRONG_PASSWORD, "tool argument": ARGUMENT_SECRET}
    client.post("/login/", {"username": "grace", "password": WRONG_PASSWORD, "next": "/account/"})
    client.post("/login/", {"username": "grace", "password": PASSWORD, "next": "/account/"})

    registered = register().json()
    secrets["registration access token"] = registered["registration_access_token"]
    client_id = registered["client_id"]
    verifier, challenge = pkce_pair()
    page = client.get(authorize_query(client_id, challenge, scope="code:read code:write"))
    data = {name: (page.context["form"].initial.get(name) or "") for name in page.context["form"].fields}
    params = redirect_params(client.post(page.request["PATH_INFO"] + "?" + page.request["QUERY_STRING"], {**data, "allow": "Authorize"}))
    secrets.update({"authorization code": params["code"], "PKCE verifier": verifier})
    pair = client.post("/token/", {"grant_type": "authorization_code", "code": params["code"], "redirect_uri": REDIRECT_URI,
                                   "client_id": client_id, "code_verifier": verifier}).json()
    refreshed = client.post("/token/", {"grant_type": "refresh_token", "refresh_token": pair["refresh_token"],
                                        "client_id": client_id}).json()
    secrets.update({"access token": pair["access_token"], "refresh token": pair["refresh_token"],
                    "refreshed access token": refreshed["access_token"], "refreshed refresh token": refreshed["refresh_token"]})

    caller = verify_access_token(refreshed["access_token"])
    assert not _call_tool(caller, "index_status", {}).is_error
    assert _call_tool(caller, "search_code", {"query": ARGUMENT_SECRET, "repository": "nope"}).is_error

    service, service_secret = create_service_client("ci", ["code:read"])
    secrets["client secret"] = service_secret
    basic = "Basic " + base64.b64encode(f"{service.client_id}:{service_secret}".encode()).decode()
    service_token = client.post("/token/", {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=basic).json()
    secrets["service access token"] = service_token["access_token"]
    client.post("/token/", {"grant_type": "client_credentials", "client_id": service.client_id, "client_secret": "bad-" + service_secret})

    client.post("/revoke_token/", {"token": refreshed["refresh_token"], "client_id": client_id})
    operator_client.post(reverse("console:agent-revoke", kwargs={"pk": service.pk}), {"reason": "rotate"})

    captured = capfd.readouterr()
    _assert_absent(secrets, _audit_text(), logs.text, captured.out, captured.err)
    kinds = set(apps.get_model("oauth_app.AuthEvent").objects.values_list("kind", flat=True))
    assert {"sign_in", "sign_in_failed", "registration", "consent_granted", "token_issued", "token_refreshed",
            "token_revoked"} <= kinds


def test_a_magic_link_sign_in_leaves_no_link_token_behind(client, settings, logs, capfd):
    with FakeStytch() as fake:
        settings.STYTCH_PROJECT_ID, settings.STYTCH_SECRET = fake_stytch.PROJECT_ID, fake_stytch.SECRET
        settings.STYTCH_API_BASE_URL, settings.MCPRAG_STYTCH_ENABLED = fake.base_url, True
        assert client.post("/login/", {"email": "marie@example.com", "next": "/account/"}).status_code == 200
        link = urlsplit(fake.state.last_email("marie@example.com").url)
        token = parse_qs(link.query)["token"][0]
        landed = client.get(link.path + "?" + link.query)
        assert landed.status_code == 302
    assert "_auth_user_id" in client.session
    captured = capfd.readouterr()
    _assert_absent({"magic-link token": token, "Stytch secret": fake_stytch.SECRET}, _audit_text(), logs.text, captured.out, captured.err)
