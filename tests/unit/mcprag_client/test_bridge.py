"""``mcprag bridge``: a client that closes stdin right after its requests still gets every answer
(the real bridge, piped, is in tests/e2e/test_cli_client.py)."""

from __future__ import annotations

import anyio
import mcp_types as types
import pytest
from mcp.shared.message import SessionMessage

from mcprag_client.bridge import answer_before_eof


def _request(request_id):
    return SessionMessage(types.JSONRPCRequest(jsonrpc="2.0", id=request_id, method="tools/call", params={}))


async def _piped(timeout: float, answer: bool):
    """Requests 1 and 2 piped in, 2 cancelled by the agent, input closed; the bridge answers
    request 1 if ``answer``. What the bridge's server reads, and when its input ends (seconds)."""
    client_writes, read_stream = anyio.create_memory_object_stream(10)
    write_stream, client_reads = anyio.create_memory_object_stream(10)
    cancelled = types.JSONRPCNotification(jsonrpc="2.0", method="notifications/cancelled", params={"requestId": 2})
    for item in (_request(1), _request(2), SessionMessage(cancelled)):
        await client_writes.send(item)
    await client_writes.aclose()
    async with answer_before_eof(read_stream, write_stream, timeout=timeout) as (reads, writes):
        read = [(await reads.receive()).message for _ in range(3)]
        if answer:
            await writes.send(SessionMessage(types.JSONRPCResponse(jsonrpc="2.0", id=1, result={})))
        started = anyio.current_time()
        with pytest.raises(anyio.EndOfStream):
            await reads.receive()
        ended_after = anyio.current_time() - started
        await writes.aclose()
    return read, ended_after, client_reads.receive_nowait().message if answer else None


def test_the_end_of_input_waits_for_the_answers_of_running_requests():
    read, ended_after, answered = anyio.run(_piped, 30.0, True)
    assert [getattr(m, "method", None) for m in read] == ["tools/call", "tools/call", "notifications/cancelled"]
    assert ended_after < 5  # at request 1's answer (request 2 was cancelled), not at the timeout
    assert isinstance(answered, types.JSONRPCResponse) and answered.id == 1  # the answer reached the agent


def test_the_end_of_input_waits_no_longer_than_the_timeout_and_says_so(capsys):
    _, ended_after, _ = anyio.run(_piped, 0.5, False)
    assert 0.4 < ended_after < 5
    assert "gave up waiting 0.5 s for the answers to 1 request(s) still running" in capsys.readouterr().err
