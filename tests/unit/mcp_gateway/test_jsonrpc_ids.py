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


@pytest.mark.parametrize(("message", "words", "answer_id"), [
    (42, "must be a JSON object", None),
    (None, "must be a JSON object", None),
    ("tools/list", "must be a JSON object", None),
    ({"jsonrpc": "2.0", "id": 1}, "needs a method", 1),
    ({"jsonrpc": "1.0", "id": 1, "method": "tools/list"}, '"jsonrpc": "2.0"', 1),
    ({"id": 2, "method": "tools/list"}, '"jsonrpc": "2.0"', 2),
    ({"jsonrpc": "2.0", "id": 3, "method": 5}, "method must be a non-empty string", 3),
    ({"jsonrpc": "2.0", "id": 4, "method": "tools/list", "params": [1]}, "params must be a JSON object", 4),
])
def test_json_that_is_no_jsonrpc_message_is_an_invalid_request_in_plain_words(token, message, words, answer_id):
    response = _post(token, message)
    assert response.status == 400
    body = response.result()
    assert body["id"] == answer_id and body["error"]["code"] == -32600 and words in body["error"]["message"]
    assert "validation" not in str(body).lower() and "pydantic" not in str(body).lower()


@pytest.mark.parametrize("arguments", [["x"], "health", 5])
def test_tool_arguments_that_are_not_an_object_are_invalid_params_in_plain_words(token, arguments):
    response = _post(token, {**TOOL_CALL, "params": {"name": "health_check", "arguments": arguments}})
    assert response.status == 400
    body = response.result()
    assert body["id"] == 7 and body["error"]["code"] == -32602 and "arguments must be a JSON object" in body["error"]["message"]
    assert ToolCall.objects.count() == 0
