"""The code navigation tools over real HTTP with the official SDK client and a service client's
token: list the repositories and a directory, read a file, grep, and bad input as tool errors.
The server has indexed python-dateutil from the virtualenv (``conftest.py``)."""

from __future__ import annotations

import re

import pytest

from tests.support.e2e_server import THIRD_PARTY_NAME, THIRD_PARTY_SOURCE
from tests.support.sdk_auth import call_tool, create_service_client, service_token

pytestmark = [pytest.mark.e2e, pytest.mark.anyio]


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture
def reader_token(live_server_e2e):
    client_id, secret = create_service_client(live_server_e2e, "e2e-navigator", "code:read")
    return service_token(live_server_e2e, client_id, secret, "code:read")


async def test_list_read_and_grep_over_http(live_server_e2e, reader_token):
    server = live_server_e2e
    repos = await call_tool(server, reader_token, "list_repositories", {})
    assert not repos.is_error, repos.content
    dateutil = next(r for r in repos.structured_content["repositories"] if r["name"] == THIRD_PARTY_NAME)
    assert dateutil["languages"]["python"] > 10 and dateutil["chunks"] > 100

    tree = await call_tool(server, reader_token, "list_files", {"repository": THIRD_PARTY_NAME, "glob": "*.py"})
    paths = [e["path"] for e in tree.structured_content["entries"]]
    assert "easter.py" in paths and "parser" in paths and paths == sorted(paths, key=lambda p: p.split("/"))

    source = (THIRD_PARTY_SOURCE / "easter.py").read_text().split("\n")
    number = next(n for n, line in enumerate(source, 1) if line.startswith("def easter("))
    read = await call_tool(server, reader_token, "read_file", {"repository": THIRD_PARTY_NAME, "path": "easter.py",
                                                                  "start_line": number, "end_line": number + 2})
    assert read.structured_content["text"].split("\n") == source[number - 1 : number + 2]
    assert read.content[0].text.splitlines()[1] == f"{number}\tdef easter(year, method=EASTER_WESTERN):"

    found = await call_tool(server, reader_token, "grep", {"pattern": r"def easter\(", "regex": True, "repository": THIRD_PARTY_NAME})
    # a PostgreSQL without pg_trgm (CI's pgvector server) filters in the database instead
    assert found.structured_content["strategy"] in ("trigram", "database scan")
    assert [(m["path"], m["line"], m["column"]) for m in found.structured_content["matches"]] == [("easter.py", number, 1)]
    first, *notes = found.content[0].text.splitlines()  # a note follows where pg_trgm is missing
    assert re.fullmatch(rf"{THIRD_PARTY_NAME}:easter\.py:{number}:1:def easter\(year, method=EASTER_WESTERN\):", first)
    assert all(line.startswith("Note: ") for line in notes)


@pytest.mark.parametrize(("tool", "arguments", "words"), [
    ("read_file", {"repository": THIRD_PARTY_NAME, "path": "easter.py", "start_line": 100000}, ["start_line 100000 is past the end"]),
    ("read_file", {"repository": "no-such-repo", "path": "easter.py"}, ["no repository named 'no-such-repo'"]),
    ("list_files", {"repository": THIRD_PARTY_NAME, "depth": 99}, ["depth must be a whole number from 1 to 8"]),
    ("grep", {"pattern": "(unclosed", "regex": True}, ["cannot be used", "missing )"]),
    ("grep", {"pattern": "easter", "page": 50}, ["page 50 is past the end"]),
])
async def test_bad_input_over_http_is_a_plain_tool_error(live_server_e2e, reader_token, tool, arguments, words):
    result = await call_tool(live_server_e2e, reader_token, tool, arguments)
    text = result.content[0].text
    assert result.is_error and "\n" not in text.strip() and "Traceback" not in text and "pydantic" not in text
    for word in words:
        assert word in text, text
