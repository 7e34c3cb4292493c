"""A JSON-RPC message on /mcp whose ``id`` is not a string or an integer is an Invalid Request
(400, ``-32600``; MCP "Messages": requests MUST carry a string or integer id, never null), not a
notification that gets a silent 202. Through the real ASGI app with a real issued token."""

from __future__ import annotations

import pytest

from mcp_gateway.models import ToolCall
from tests.support.asgi_mcp import TOOL_CALL, answer as _post

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("bad_id", [{}, [], None, 1.5, True, {"a": 1}])
def test_a_message_with_an_id_that_is_not_a_string_or_integer_is_an_invalid_request(token, bad_id):
    response = _post(token, {**TOOL_CALL, "id": bad_id})
    assert response.status == 400
    assert response.result()["error"]["code"] == -32600
    assert ToolCall.objects.count() == 0  # nothing ran


@pytest.mark.parametrize("good_id", [0, 7, -3, "abc", ""])
def test_string_and_integer_ids_are_served(token, good_id):
    response = _post(token, {**TOOL_CALL, "id": good_id})
    assert response.status == 200 and response.result()["id"] == good_id
