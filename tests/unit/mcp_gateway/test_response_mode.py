"""Which POSTs to /mcp get a single JSON body and which an SSE stream (http_guard._needs_stream)."""

from __future__ import annotations

import pytest

from mcp_gateway.transports.http_guard import _needs_stream


@pytest.mark.parametrize(
    ("message", "streams"),
    [
        ({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "search_code", "arguments": {}}}, False),
        ({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}, False),
        ({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}}, False),
        # The client asked for progress: notifications may precede the response.
        ({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "index_repository", "_meta": {"progressToken": 3}}}, True),
        ({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "x", "_meta": {"progressToken": "t"}}}, True),
        # Anything not known to answer once keeps the stream (subscriptions, future methods).
        ({"jsonrpc": "2.0", "id": 1, "method": "subscriptions/listen", "params": {}}, True),
        ({"jsonrpc": "2.0", "method": "notifications/initialized"}, True),
        (None, True),
        ([], True),
        ("tools/call", True),
        ({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": "not an object"}, False),
    ],
)
def test_only_plain_single_answer_requests_skip_the_stream(message, streams):
    assert _needs_stream(message) is streams
