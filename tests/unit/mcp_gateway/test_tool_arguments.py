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


@pytest.mark.parametrize(("tool", "arguments", "expected"), [
    ("grep", {"pattern": "def", "glob": "*.go"},
     "grep: invalid arguments: 'glob' is not an argument of this tool (did you mean path_glob?)."),
    ("search_code", {"query": "token", "repo": "shop"},
     "search_code: invalid arguments: 'repo' is not an argument of this tool (did you mean repository?)."),
    ("read_file", {"repository": "r", "path": "p", "start": 5, "end": 6},
     "read_file: invalid arguments: 'start' is not an argument of this tool (did you mean start_line?); "
     "'end' is not an argument of this tool (did you mean end_line?)."),
    # a whole word part of the name outranks a closer spelling (end_line is nearer to 'line' by difflib)
    ("read_file", {"repository": "r", "path": "p", "line": 5},
     "read_file: invalid arguments: 'line' is not an argument of this tool (did you mean start_line?)."),
    ("health_check", {"verbose": True}, "health_check: invalid arguments: 'verbose' is not an argument of this tool."),
])
def test_an_argument_the_tool_does_not_take_is_refused_naming_the_one_meant(tool, arguments, expected):
    """pydantic ignored unknown arguments: grep with glob='*.go' answered matches in every file."""
    result = call(tool, arguments)
    assert result.is_error
    text = result.content[0].text
    assert text.startswith(expected.removesuffix(".")) and " Its arguments: " in text


def test_every_input_schema_admits_only_the_arguments_it_names():
    async def go():
        async with Client(build_server(default_caller=READER, transport="test")) as client:
            return (await client.list_tools()).tools

    tools = asyncio.run(go())
    assert tools and all(t.input_schema.get("additionalProperties") is False for t in tools)


@pytest.mark.parametrize("value", [1e308, "1" * 5000, 2.5, "ten"])
def test_a_number_that_is_not_a_whole_number_in_range_gets_the_range(value):
    result = call("search_code", {"query": "token", "max_results": value})
    assert result.is_error
    assert result.content[0].text == "search_code: invalid arguments: max_results must be a whole number from 1 to 50."


@pytest.mark.parametrize(("tool", "arguments", "expected"), [
    ("generate_code", {"description": "x " * 50_000, "language": "python"},
     "generate_code: invalid arguments: description must be at most 2,000 characters long."),
    ("submit_feedback", {"query": "x " * 50_000, "repository": "r", "path": "p", "rating": 5},
     "submit_feedback: invalid arguments: query must be at most 2,000 characters long."),
])
def test_long_texts_that_are_searched_get_the_search_limit(tool, arguments, expected):
    """They were refused deep inside, as 'the search query is 100,000 characters long' and as
    'empty or has no searchable words'."""
    writer = Caller(user_id=None, username="dev", client_id="agent-d", scopes=frozenset({"code:read", "code:write"}), tier="developer")

    async def go():
        async with Client(build_server(default_caller=writer, transport="test")) as client:
            return await client.call_tool(tool, arguments)

    result = asyncio.run(go())
    assert result.is_error and result.content[0].text == expected


def test_a_list_too_short_is_said_as_its_lower_bound():
    """It was said as the upper one: paths=[] got 'paths must have at most 5000 items'."""
    admin = Caller(user_id=None, username="admin", client_id="agent-a", scopes=frozenset({"code:read", "index:admin"}), tier="admin")

    async def go():
        async with Client(build_server(default_caller=admin, transport="test")) as client:
            return await client.call_tool("index_changed_files", {"name": "shop", "paths": []})

    result = asyncio.run(go())
    assert result.is_error and result.content[0].text == "index_changed_files: invalid arguments: paths must have at least 1 item."


@pytest.mark.parametrize(("tool", "arguments", "expected"), [
    ("read_file", {"repository": "r", "path": "p", "start_line": True},
     "read_file: invalid arguments: start_line must be a whole number of at least 1."),
    ("read_file", {"repository": "r", "path": "p", "end_line": False},
     "read_file: invalid arguments: end_line must be a whole number of at least 1."),
    ("search_code", {"query": "token", "max_results": True, "page": False},
     "search_code: invalid arguments: max_results must be a whole number from 1 to 50; page must be a whole number from 1 to 20."),
    ("find_definition", {"symbol": "f", "line": True},
     "find_definition: invalid arguments: line must be a whole number from 1 to 10,000,000."),
])
def test_a_boolean_is_not_a_whole_number(tool, arguments, expected):
    """pydantic's lax mode read JSON true as 1 and false as 0: read_file start_line=true read line 1."""
    result = call(tool, arguments)
    assert result.is_error and result.content[0].text == expected


def test_a_boolean_argument_still_takes_a_boolean():
    result = call("search_code", {"query": "token", "max_results": 0, "exclude_tests": True})
    assert result.content[0].text == "search_code: invalid arguments: max_results must be a whole number from 1 to 50."


@pytest.mark.parametrize("value", [1, 0, 1.0, "true", "false", "yes", "off", "1"])
def test_a_boolean_argument_takes_only_true_or_false(value):
    """pydantic's lax mode read 1, "true", "yes" or "off" as a boolean, so grep ran with a guessed
    regex flag instead of telling the agent its argument was not a JSON boolean."""
    result = call("grep", {"pattern": "def", "regex": value})
    assert result.is_error
    assert result.content[0].text == "grep: invalid arguments: regex must be true or false."


@pytest.mark.parametrize(("tool", "arguments", "expected"), [
    ("search_code", {"query": "token", "exclude_tests": "yes", "max_results": True},
     "search_code: invalid arguments: exclude_tests must be true or false; max_results must be a whole number from 1 to 50."),
    ("grep", {"pattern": "def", "case_sensitive": "maybe"}, "grep: invalid arguments: case_sensitive must be true or false."),
    ("grep", {"pattern": "def", "whole_word": [1]}, "grep: invalid arguments: whole_word must be true or false."),
    ("grep", {"pattern": "def", "regex": None}, "grep: invalid arguments: regex must be true or false."),
    ("find_references", {"symbol": "f", "include_definition": 2},
     "find_references: invalid arguments: include_definition must be true or false."),
])
def test_a_value_that_is_not_a_boolean_is_said_in_plain_words(tool, arguments, expected):
    """pydantic's own refusals ("maybe", [1], null) are worded like the lax-mode ones: no
    "unable to interpret input", no documentation link."""
    result = call(tool, arguments)
    assert result.is_error and result.content[0].text == expected


@pytest.mark.parametrize("value", [True, False])
def test_a_boolean_argument_takes_true_and_false(value):
    result = call("grep", {"pattern": "def", "regex": value})
    assert not result.is_error


def test_rejected_values_are_not_echoed_back():
    secret_like = "x" * 50_000
    result = call("search_code", {"query": "token", "max_results": secret_like})
    text = result.content[0].text
    assert result.is_error and "max_results" in text
    assert secret_like[:40] not in text and "pydantic" not in text and "http" not in text
    assert len(text) < 300
