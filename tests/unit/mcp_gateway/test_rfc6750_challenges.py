"""RFC 6750 §3 challenges from ``/mcp``, through the real ASGI app: a request without credentials
gets a challenge with no error information (§3.1), a bad token ``invalid_token`` with a
description; both point at the protected-resource metadata (RFC 9728 §5.1)."""

from __future__ import annotations

import asyncio

import pytest

from mcp_gateway.transports.streamable_http import StreamableHTTPGateway
from tests.support.asgi_mcp import Response, post_mcp

pytestmark = pytest.mark.django_db(transaction=True)


def _post(token: str | None) -> Response:
    async def main():
        response = Response()
        scope, receive = post_mcp(token)
        await asyncio.wait_for(StreamableHTTPGateway()(scope, receive, response.send), timeout=20)
        return response

    return asyncio.run(main())


def test_no_credentials_get_a_challenge_without_error_information():
    response = _post(None)
    challenge = response.headers["www-authenticate"]
    assert response.status == 401
    assert challenge.startswith("Bearer ") and 'resource_metadata="' in challenge
    assert "error" not in challenge  # neither error= nor error_description=
    assert "error" not in response.result()


def test_a_bad_token_gets_invalid_token_with_a_description():
    response = _post("not-a-jwt")
    challenge = response.headers["www-authenticate"]
    assert response.status == 401
    assert 'error="invalid_token"' in challenge and "error_description=" in challenge
    assert response.result()["error"] == "invalid_token"
