"""Arguments outside a tool's input schema get one plain line naming each argument and what it
must be: no pydantic model name, no documentation link, and nothing the caller sent echoed back."""

from __future__ import annotations

import asyncio

import pytest
from mcp.client import Client

from mcp_gateway.auth.identity import Caller
from mcp_gateway.server import build_server

pytestmark = pytest.mark.django_db(transaction=True)

READER = Caller(user_id=None, username="reader", client_id="agent-r", scopes=frozenset({"code:read"}), tier="public")


def call(tool: str, arguments: dict):
    async def go():
        async with Client(build_server(default_caller=READER, transport="test")) as client:
            return await client.call_tool(tool, arguments)

    return asyncio.run(go())


@pytest.mark.parametrize(("arguments", "expected"), [
    ({"query": "token", "max_results": 0}, "search_code: invalid arguments: max_results must be a whole number from 1 to 50."),
    ({"query": "token", "page": 99}, "search_code: invalid arguments: page must be a whole number from 1 to 20."),
    ({"query": "token", "max_tokens": 10}, "search_code: invalid arguments: max_tokens must be a whole number from 200 to 20,000."),
    ({"query": "token", "detail_level": "tiny"}, "search_code: invalid arguments: detail_level must be 'compact' or 'full'."),
    ({"query": "x" * 1_000_000}, "search_code: invalid arguments: query must be at most 2,000 characters long."),
    ({"query": "token", "exclude_paths": ["a"] * 11}, "search_code: invalid arguments: exclude_paths must have at most 10 items."),
    ({"query": "token", "path_glob": "[unclosed"},
     "Error executing tool search_code: the path glob '[unclosed' cannot be used: the '[' at position 1 has no closing ']'"),
    ({}, "search_code: invalid arguments: query is required."),
    ({"query": 5}, "search_code: invalid arguments: query must be a valid string."),
])
def test_invalid_arguments_are_named_in_plain_words(arguments, expected):
    result = call("search_code", arguments)
    assert result.is_error
    assert result.content[0].text == expected


@pytest.mark.parametrize(("tool", "arguments", "expected"), [
    ("find_references", {"symbol": "x" * 300}, "find_references: invalid arguments: symbol must be at most 200 characters long."),
    ("file_outline", {"repository": "r", "path": "p" * 5000}, "file_outline: invalid arguments: path must be at most 4,096 characters long."),
    ("find_definition", {"symbol": "f", "line": 0}, "find_definition: invalid arguments: line must be a whole number from 1 to 10,000,000."),
])
def test_navigation_tools_say_what_an_argument_must_be(tool, arguments, expected):
    result = call(tool, arguments)
    assert result.is_error and result.content[0].text == expected


def test_rejected_values_are_not_echoed_back():
    secret_like = "x" * 50_000
    result = call("search_code", {"query": "token", "max_results": secret_like})
    text = result.content[0].text
    assert result.is_error and "max_results" in text
    assert secret_like[:40] not in text and "pydantic" not in text and "http" not in text
    assert len(text) < 300
