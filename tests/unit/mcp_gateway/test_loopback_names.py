"""On a loopback server, ``localhost`` and ``127.0.0.1`` name the same resource: the metadata
(RFC 9728 §3.3), the challenge's ``resource_metadata`` and RFC 8707 ``resource`` all follow the
loopback name the client used; a real host keeps exact matching."""

from __future__ import annotations

import asyncio

import pytest
from django.conf import settings as django_settings

from mcp_gateway.transports.streamable_http import StreamableHTTPGateway
from tests.support.asgi_mcp import Response, post_mcp
from tests.support.oauth import REDIRECT_URI, approve_consent, authorize_query, pkce_pair, redirect_params

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = django_settings.MCPRAG_PUBLIC_URL  # http://127.0.0.1:8000 in tests
PORT = ORIGIN.rsplit(":", 1)[1]


@pytest.mark.parametrize("host", [f"localhost:{PORT}", f"127.0.0.1:{PORT}", f"[::1]:{PORT}"])
def test_metadata_names_the_resource_as_the_client_did(client, host):
    document = client.get("/.well-known/oauth-protected-resource/mcp", HTTP_HOST=host).json()
    assert document["resource"] == f"http://{host}/mcp"
    assert document["authorization_servers"] == [ORIGIN]  # one issuer, whatever the name


def test_challenge_points_at_the_metadata_under_the_clients_name():
    async def main():
        response = Response()
        scope, receive = post_mcp(None)
        scope["headers"] = [(b"host", f"localhost:{PORT}".encode()) if k == b"host" else (k, v) for k, v in scope["headers"]]
        await asyncio.wait_for(StreamableHTTPGateway()(scope, receive, response.send), timeout=20)
        return response

    challenge = asyncio.run(main()).headers["www-authenticate"]
    assert f'resource_metadata="http://localhost:{PORT}/.well-known/oauth-protected-resource/mcp"' in challenge


def test_a_token_asked_for_the_localhost_resource_works_at_the_gateway(client, person, public_client):
    from tests.support.asgi_mcp import answer

    client.force_login(person)
    verifier, challenge = pkce_pair()
    resource = f"http://localhost:{PORT}/mcp"
    page = client.get(authorize_query(public_client["client_id"], challenge, resource=resource))
    params = redirect_params(approve_consent(client, page))
    token = client.post("/token/", {"grant_type": "authorization_code", "code": params["code"], "redirect_uri": REDIRECT_URI,
                                    "client_id": public_client["client_id"], "code_verifier": verifier, "resource": resource})
    assert token.status_code == 200, token.content
    assert answer(token.json()["access_token"], {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}).status == 200


def test_other_ports_and_real_hosts_stay_exact(client):
    from oauth_app.resource_indicators import is_this_resource

    assert not is_this_resource(f"http://localhost:{int(PORT) + 1}/mcp")
    assert not is_this_resource(f"https://localhost:{PORT}/mcp")
    assert not is_this_resource(f"http://localhost.example.com:{PORT}/mcp")
    verifier, challenge = pkce_pair()
    assert client.get(authorize_query("x", challenge, resource=f"http://evil.example:{PORT}/mcp")).status_code in (302, 400)
