"""Ctrl-C (SIGINT) and SIGTERM stop the server within seconds after any kind of request, under
daphne and under uvicorn, with every audit row written.

The SDK serves resources and prompts through AnyIO worker threads, which stop only when their
event loop's root task ends; under daphne that task was the gateway's background session manager,
which nothing ended, so the interpreter waited for the threads for ever
(:mod:`mcp_gateway.transports.lifecycle`). Sessions use the handshake protocol era ("legacy"),
where the calls run inside that background task.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time

import httpx2
import pytest
from mcp.client import Client
from mcp.client.streamable_http import streamable_http_client

from tests.support.sdk_auth import create_service_client
from tests.support.live_server import make_live_server

pytestmark = pytest.mark.e2e

EXIT_WITHIN_SECONDS = 5


@pytest.fixture(scope="module")
def stoppable_server(tmp_path_factory):
    """One database (migrated once, one file indexed) served by a new process in each test."""
    server = make_live_server(tmp_path_factory.mktemp("shutdown"))
    source = server.workdir / "src"
    source.mkdir()
    (source / "tariffs.py").write_text("def tariff_for(code):\n    return TARIFFS[code]\n")
    server.env["MCPRAG_EMBEDDINGS"] = "none"
    server.manage("index_repo", str(source), "--name", "tariffs", "--embeddings", "now")
    client_id, secret = create_service_client(server, "shutdown-probe", "code:read")
    server.credentials = (client_id, secret)
    yield server
    server.stop()


def _token(server) -> str:
    response = httpx2.post(f"{server.base_url}/token/", auth=server.credentials, timeout=30,
                           data={"grant_type": "client_credentials", "scope": "code:read", "resource": server.mcp_url})
    response.raise_for_status()
    return response.json()["access_token"]


async def _request(server, token: str, kind: str) -> None:
    async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=30) as http:
        async with Client(streamable_http_client(server.mcp_url, http_client=http), mode="legacy") as client:
            if kind == "tool":
                assert not (await client.call_tool("search_code", {"query": "tariff_for"})).is_error
            elif kind == "resource":
                read = await client.read_resource("repo://tariffs/tariffs.py")
                assert "tariff_for" in read.contents[0].text
            elif kind == "prompt":
                assert (await client.get_prompt("find_implementation", {"what": "tariffs"})).messages


def _tool_call_rows(server) -> int:
    out = server.manage("shell", "-c", "from mcp_gateway.models import ToolCall; print('rows', ToolCall.objects.count())")
    return int(out.stdout.split("rows", 1)[1].split()[0])


@pytest.mark.parametrize("server_kind", ["daphne", "uvicorn"])
@pytest.mark.parametrize(("kind", "signal_name"), [
    ("tool", "SIGINT"), ("resource", "SIGINT"), ("prompt", "SIGTERM"), ("sse", "SIGINT"),
])
def test_server_exits_promptly_after_a_request(stoppable_server, server_kind, kind, signal_name):
    server = stoppable_server
    rows_before = _tool_call_rows(server) if kind == "tool" else 0
    server.start(server_kind)
    try:
        token = _token(server)
        if kind == "sse":
            stream = httpx2.Client(headers={"Authorization": f"Bearer {token}"}, timeout=30)
            response = stream.send(stream.build_request("GET", f"{server.base_url}/sse"), stream=True)
            assert response.status_code == 200  # the stream stays open while the server stops
        else:
            asyncio.run(_request(server, token, kind))
        started = time.monotonic()
        server.process.send_signal(getattr(signal, signal_name))
        try:
            server.process.wait(EXIT_WITHIN_SECONDS)
        except subprocess.TimeoutExpired:
            pytest.fail(f"{server_kind} still running {EXIT_WITHIN_SECONDS} s after {signal_name} "
                        f"following a {kind} request:\n{server.log()[-3000:]}")
        assert time.monotonic() - started < EXIT_WITHIN_SECONDS
    finally:
        if kind == "sse":
            response.close()
            stream.close()
        if server.process.poll() is None:
            server.process.kill()
            server.process.wait()
    if kind == "tool":
        assert _tool_call_rows(server) == rows_before + 1  # the call's audit row was written before exit
