"""Retrieval tools over real HTTP: a service client (client credentials) indexes a repository as
a background job (a real Celery worker when REDIS_URL is set) with progress notifications, then
searches it and asks why the results ranked as they did."""

from __future__ import annotations

import pytest


from tests.support.sdk_auth import call_tool, create_service_client, service_token

pytestmark = [pytest.mark.e2e, pytest.mark.anyio]


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture
def admin_token(live_server_e2e):
    scope = "code:read index:admin"
    client_id, secret = create_service_client(live_server_e2e, "e2e-indexer", scope)
    return service_token(live_server_e2e, client_id, secret, scope)


async def test_index_repository_search_and_explain_over_http(live_server_e2e, admin_token, tmp_path):
    server = live_server_e2e
    source = tmp_path / "ledger"
    (source / "ledger").mkdir(parents=True)
    (source / "ledger" / "rates.py").write_text(
        "def convert_currency(amount, rate):\n    '''Convert an amount with an exchange rate.'''\n    return amount * rate\n"
    )
    (source / "ledger" / "book.py").write_text("from .rates import convert_currency\n\n\ndef post_entry(book, entry):\n    book.append(entry)\n")
    events = []

    async def progress(done, total, message):
        events.append((done, total, message))

    indexed = await call_tool(server, admin_token, "index_repository", {"name": "ledger", "source": str(source), "wait": 240},
                                 progress_callback=progress)
    assert not indexed.is_error, indexed.content
    assert indexed.structured_content["status"] == "complete", server.log()[-3000:]
    assert indexed.structured_content["files_done"] == 2
    assert events, "no progress notification arrived"

    found = await call_tool(server, admin_token, "search_code", {"query": "convert money with an exchange rate", "repository": "ledger"})
    assert not found.is_error, found.content
    assert found.structured_content["hits"][0]["symbol"] == "convert_currency"

    explained = await call_tool(server, admin_token, "explain_ranking", {"query": "compute the date of Easter", "repository": "dateutil"})
    assert not explained.is_error, explained.content
    top = explained.structured_content["results"][0]
    assert top["path"] == "easter.py" and top["signals"]["lexical"]["rank"] is not None
    assert "score =" in explained.structured_content["formula"]


async def test_bad_input_over_http_is_a_one_line_tool_error(live_server_e2e, admin_token):
    result = await call_tool(live_server_e2e, admin_token, "search_code", {"query": "x", "repository": "no-such-repo"})
    assert result.is_error and "no-such-repo" in result.content[0].text and "Traceback" not in result.content[0].text


async def test_code_navigation_over_http(live_server_e2e, admin_token):
    """file_outline, find_definition and find_references on the real dateutil package, through the SDK client."""
    server = live_server_e2e
    outline = await call_tool(server, admin_token, "file_outline", {"repository": "dateutil", "path": "easter.py"})
    assert not outline.is_error, outline.content
    assert "easter" in [s["name"] for s in outline.structured_content["symbols"]]
    # parser/__init__.py re-exports parse from ._parser: the usage site decides which definition is meant
    found = await call_tool(server, admin_token, "find_definition",
                               {"symbol": "parse", "repository": "dateutil", "path": "parser/__init__.py", "line": 2})
    assert not found.is_error, found.content
    assert [(d["path"], d["qualified_name"]) for d in found.structured_content["definitions"]] == [("parser/_parser.py", "parse")]
    refs = await call_tool(server, admin_token, "find_references", {"symbol": "tz._common._tzinfo", "repository": "dateutil"})
    assert not refs.is_error, refs.content
    uses = {(f["path"], r["line"]) for f in refs.structured_content["files"] for r in f["references"]}
    assert ("tz/tz.py", 22) in uses and ("tz/_common.py", 267) in uses  # the import, and a subclass in its own module
    assert not any(path == "rrule.py" for path, _ in uses)  # rrule's self._tzinfo is an attribute, not this class


@pytest.mark.parametrize(("tool", "arguments", "words"), [
    ("find_definition", {"symbol": "parse", "repository": "no-such-repo"}, "no-such-repo"),
    ("find_definition", {"symbol": "x" * 500}, "at most 200"),
    ("find_references", {"symbol": "tz._common._tzinfo", "repository": "dateutil", "page": 500}, "past the end"),
    ("file_outline", {"repository": "dateutil", "path": "no/such/file.py"}, "no/such/file.py"),
])
async def test_navigation_bad_input_over_http_is_a_plain_tool_error(live_server_e2e, admin_token, tool, arguments, words):
    result = await call_tool(live_server_e2e, admin_token, tool, arguments)
    text = result.content[0].text
    assert result.is_error and words in text and "\n" not in text
    assert "Traceback" not in text and "pydantic" not in text
