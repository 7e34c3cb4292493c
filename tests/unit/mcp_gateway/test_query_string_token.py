"""A bearer token in the URL query string is refused (400 ``invalid_request``, RFC 6750 §3.1; MCP
authorization: tokens MUST NOT be in the query string) and, when it is a live token of this
server, revoked: the URL is in access logs now (RFC 6750 §5.3). Through the real ASGI app with
real issued tokens."""

from __future__ import annotations

import asyncio
import hashlib
import logging

import pytest
from oauth2_provider.models import get_access_token_model, get_refresh_token_model

from mcp_gateway.transports.streamable_http import StreamableHTTPGateway
from tests.support.asgi_mcp import Response, post_mcp

pytestmark = pytest.mark.django_db(transaction=True)


def _post(token: str | None, query_string: bytes) -> Response:
    async def main():
        response = Response()
        scope, receive = post_mcp(token, query_string=query_string)
        await asyncio.wait_for(StreamableHTTPGateway()(scope, receive, response.send), timeout=20)
        return response

    return asyncio.run(main())


def _live(token: str) -> bool:
    return get_access_token_model().objects.filter(token_checksum=hashlib.sha256(token.encode()).hexdigest()).exists()


def test_a_live_token_in_the_query_string_is_refused_and_revoked(token, caplog):
    caplog.set_level(logging.INFO)
    refresh_tokens = get_refresh_token_model().objects.count()
    response = _post(None, b"access_token=" + token.encode())
    assert response.status == 400
    assert response.result()["error"] == "invalid_request"
    assert "revoked" in response.result()["error_description"]
    assert not _live(token)
    assert _post(token, b"").status == 401  # the header no longer works either
    assert get_refresh_token_model().objects.count() == refresh_tokens  # the client can still refresh
    assert token not in caplog.text and token[-20:] not in caplog.text  # logged by id, never by value


def test_something_else_in_the_query_string_is_refused_and_nothing_revoked(token, issue_token):
    other = issue_token()
    forged = other[:-4] + ("AAAA" if not other.endswith("AAAA") else "BBBB")  # a bad signature
    for value in (b"abc", forged.encode()):
        response = _post(token, b"access_token=" + value)
        assert response.status == 400 and "revoked" not in response.result()["error_description"]
    assert _live(token) and _live(other)
    assert _post(token, b"").status == 200
