"""``manage.py mcp_stdio --client NAME``: which identity stdio serves, what it refuses, and that a
client which closes stdin right after its requests still gets every answer."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import anyio
import mcp_types as types
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone
from mcp.client import Client
from mcp.shared.message import SessionMessage

from mcp_gateway.auth.bearer import service_caller
from mcp_gateway.models import ToolCall
from mcp_gateway.server import build_server
from mcp_gateway.transports.stdio import (ServiceClientUnavailable, answer_before_eof, caller_for_service_client,
                                          route_logging_to_stderr)
from oauth_app.models import Application
from oauth_app.services import create_service_client

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_named_service_client_is_the_caller_with_its_allowed_scopes():
    app, _ = create_service_client("ci", ["code:read", "index:admin"])
    caller = caller_for_service_client("ci")
    assert caller.tier == "service" and caller.user_id is None and caller.client_id == app.client_id
    assert caller.scopes == {"code:read", "index:admin"}
    assert caller == service_caller(app)  # the same Caller as that client's bearer tokens get over HTTP
    assert caller_for_service_client(app.client_id) == caller


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("missing", "No service client named 'ci'"),
        ("disabled", "has been disabled"),
        ("twice", "Several service clients are named 'ci'"),
    ],
)
def test_unknown_disabled_or_ambiguous_clients_are_refused(setup, message):
    if setup != "missing":
        app, _ = create_service_client("ci", ["code:read"])
    if setup == "disabled":
        Application.objects.filter(pk=app.pk).update(disabled_at=timezone.now())
    if setup == "twice":  # as a database from before create_service_client refused a second "ci" may hold
        Application.objects.create(name="ci", client_type=app.client_type, authorization_grant_type=app.authorization_grant_type)
    with pytest.raises(ServiceClientUnavailable, match=message):
        caller_for_service_client("ci")
    with pytest.raises(CommandError, match=message):
        call_command("mcp_stdio", "--client", "ci")


def test_a_person_s_client_is_not_a_service_client(public_client):
    """A registered agent (authorization code) has no identity of its own to act as."""
    with pytest.raises(ServiceClientUnavailable):
        caller_for_service_client(public_client["client_id"])


def test_the_stdio_server_lists_what_the_service_client_may_call():
    create_service_client("writer", ["code:write"])

    async def names(caller):
        async with Client(build_server(default_caller=caller, transport="stdio")) as client:
            return [tool.name for tool in (await client.list_tools()).tools]

    assert "search_code" not in asyncio.run(names(caller_for_service_client("writer")))


def test_logging_to_stdout_is_moved_to_stderr():
    logger = logging.getLogger("mcprag.test.stdio")
    handler = logging.StreamHandler(sys.stdout)
    logger.addHandler(handler)
    try:
        route_logging_to_stderr()
        assert handler.stream is sys.stderr
    finally:
        logger.removeHandler(handler)


def test_a_second_service_client_of_the_same_name_is_refused():
    app, _ = create_service_client("ci", ["code:read"])
    with pytest.raises(ValueError, match=f"A service client named 'ci' exists already \\(client_id {app.client_id}\\)"):
        create_service_client("ci", ["code:read"])
    with pytest.raises(CommandError, match="exists already"):
        call_command("create_service_client", "ci", "--scopes", "code:read")
    assert Application.objects.filter(name="ci").count() == 1


def _database_url() -> str:
    """DATABASE_URL of the test database, for a subprocess (the transactional tests commit)."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{quote(db['USER'] or '')}:{quote(db['PASSWORD'] or '', safe='')}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


_PIPED = """\
"$PYTHON" manage.py mcp_stdio --client ci <<'EOF'
{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"ci-job","version":"0"}}}
{"jsonrpc":"2.0","method":"notifications/initialized"}
{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"list_repositories","arguments":{}}}
EOF
"""


def test_a_call_piped_in_before_stdin_closes_is_answered():
    """A CI job writes its requests and closes stdin at once: the call still runs to its answer
    (the SDK alone cancels it at the end of input and answers "Connection closed")."""
    create_service_client("ci", ["code:read"])
    env = {**os.environ, "PYTHON": sys.executable, "DATABASE_URL": _database_url()}
    done = subprocess.run(["/bin/sh", "-c", _PIPED], cwd=Path(__file__).resolve().parents[3], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    answers = {answer["id"]: answer for answer in map(json.loads, done.stdout.splitlines())}
    assert "error" not in answers[2], answers[2]
    assert answers[2]["result"]["isError"] is False
    assert answers[2]["result"]["structuredContent"] == {"repositories": []}
    assert list(ToolCall.objects.values_list("tool", "transport", "outcome")) == [("list_repositories", "stdio", "ok")]


def _request(request_id, method="tools/call"):
    return SessionMessage(types.JSONRPCRequest(jsonrpc="2.0", id=request_id, method=method, params={}))


async def _piped(timeout: float, answer: bool):
    """Requests 1 and 2 piped in, 2 cancelled by the client, input closed; the server asks the
    client something, then answers request 1 if ``answer``. What the server reads, and when its
    input ends (seconds)."""
    client_writes, read_stream = anyio.create_memory_object_stream(10)
    write_stream, client_reads = anyio.create_memory_object_stream(10)
    cancelled = types.JSONRPCNotification(jsonrpc="2.0", method="notifications/cancelled", params={"requestId": 2})
    for item in (_request(1), _request(2), SessionMessage(cancelled)):
        await client_writes.send(item)
    await client_writes.aclose()
    read = []
    async with answer_before_eof(read_stream, write_stream, timeout=timeout) as (reads, writes):
        read += [(await reads.receive()).message for _ in range(3)]
        await writes.send(_request("sampling", "sampling/createMessage"))
        read.append((await reads.receive()).message)  # the client cannot answer: the wrapper does
        if answer:
            await writes.send(SessionMessage(types.JSONRPCResponse(jsonrpc="2.0", id=1, result={})))
        started = anyio.current_time()
        with pytest.raises(anyio.EndOfStream):
            await reads.receive()
        ended_after = anyio.current_time() - started
        await writes.aclose()
    return read, ended_after


def test_the_end_of_input_waits_for_the_answers_of_running_requests():
    read, ended_after = anyio.run(_piped, 30.0, True)
    assert [getattr(m, "method", None) for m in read[:3]] == ["tools/call", "tools/call", "notifications/cancelled"]
    assert isinstance(read[3], types.JSONRPCError) and read[3].id == "sampling"
    assert ended_after < 5  # at request 1's answer (request 2 was cancelled), not at the timeout


def test_the_end_of_input_waits_no_longer_than_the_timeout_and_says_so(capsys):
    _, ended_after = anyio.run(_piped, 0.5, False)
    assert 0.4 < ended_after < 5
    assert "gave up waiting 0.5 s for the answers to 1 request(s) still running" in capsys.readouterr().err
