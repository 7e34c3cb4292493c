"""A request head over the server's limits gets an HTTP answer, against the real server (daphne).

Twisted's HTTP/1.1 parser under daphne takes one line of at most 16,384 bytes, 16,384 bytes of
request line and header fields in all, and 500 header fields. A header field over 16 KB closed the
connection without any response, and the other two limits answered a bare ``400 Bad Request``
with no body (:mod:`mcprag_site.request_head`). The probes go to ``/mcp`` (the gateway) and
``/token/`` (the authorization server): the head is refused before either sees the request.
The last two are raw sockets on purpose: they send a head slowly, as no HTTP client library does.
"""

from __future__ import annotations

import socket
import time
from urllib.parse import urlsplit

import httpx2
import pytest

from mcprag_site.request_head import LINGER_SECONDS

pytestmark = pytest.mark.e2e

ENDPOINTS = ["/mcp", "/token/"]

OVERSIZED_HEADS = {
    "one field of 20 KB": {"X-Padding": "a" * 20_000},
    "a 20 KB bearer token": {"Authorization": "Bearer " + "a" * 20_000},
    "one field of 1 MB": {"X-Padding": "a" * 1_000_000},
    "ten fields of 2 KB": {f"X-Padding-{i}": "a" * 2_000 for i in range(10)},
    "600 fields": {f"X-Field-{i}": "a" for i in range(600)},
}


def _post(server, path: str, headers: dict, client: httpx2.Client | None = None) -> httpx2.Response:
    send = client.post if client is not None else httpx2.post
    return send(f"{server.base_url}{path}", content=b"{}", headers={"Content-Type": "application/json", **headers}, timeout=30)


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize("head", sorted(OVERSIZED_HEADS))
def test_a_head_over_the_limits_gets_431_with_a_json_error(live_server_e2e, path, head):
    log_before = len(live_server_e2e.log())
    response = _post(live_server_e2e, path, OVERSIZED_HEADS[head])
    assert response.status_code == 431
    assert response.headers["content-type"] == "application/json"
    assert response.headers["connection"] == "close"
    assert response.json()["error"] == "request_header_fields_too_large"
    assert "16,384 bytes" in response.json()["error_description"] or "500 header fields" in response.json()["error_description"]
    new_log = live_server_e2e.log()[log_before:]
    assert "Traceback" not in new_log
    assert "request head refused with 431" in new_log
    # the server goes on serving
    assert httpx2.get(f"{live_server_e2e.base_url}/.well-known/oauth-authorization-server", timeout=30).status_code == 200


@pytest.mark.parametrize("path", ENDPOINTS)
def test_a_head_within_the_limits_reaches_the_application(live_server_e2e, path):
    """A 15 KB field is under every limit: the gateway's bearer check or the token endpoint answers."""
    response = _post(live_server_e2e, path, {"X-Padding": "a" * 15_000})
    assert response.status_code == (401 if path == "/mcp" else 400)
    assert "error" in response.json() or "error_description" in response.json()


def test_a_request_line_over_16_kb_gets_414(live_server_e2e):
    response = httpx2.get(f"{live_server_e2e.base_url}/mcp?padding={'a' * 20_000}", timeout=30)
    assert response.status_code == 414
    assert response.json() == {"error": "uri_too_long",
                               "error_description": "The request line is longer than 16,384 bytes."}


def test_the_limits_apply_to_each_request_of_a_kept_alive_connection(live_server_e2e):
    """Twisted counts the head's bytes per request: two heads of 10 KB on one connection are each
    within the limit, and the next one over it is refused on that connection."""
    with httpx2.Client() as client:
        for _ in range(2):
            assert _post(live_server_e2e, "/mcp", {"X-Padding": "a" * 10_000}, client).status_code == 401
        assert _post(live_server_e2e, "/mcp", {"X-Padding": "a" * 20_000}, client).status_code == 431


def _connect(server) -> socket.socket:
    address = urlsplit(server.base_url)
    connection = socket.create_connection((address.hostname, address.port), timeout=30)
    connection.sendall(f"POST /mcp HTTP/1.1\r\nHost: {address.netloc}\r\nX-Padding: ".encode() + b"a" * 20_000)
    time.sleep(0.5)  # the server has read the 20 KB field and answered by now
    return connection


def test_a_client_still_sending_its_head_can_finish_and_read_the_answer(live_server_e2e):
    """The server closes its side only for writing and reads on: a client whose head was still on
    the way (a slow link) finishes sending, then reads the 431. Closing at once made its next
    send fail (broken pipe or reset) before it read anything."""
    with _connect(live_server_e2e) as connection:
        for _ in range(20):
            connection.sendall(b"a" * 10_000)
            time.sleep(0.02)
        connection.sendall(b"\r\nContent-Length: 0\r\n\r\n")
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 431 Request Header Fields Too Large\r\n")
    assert answer.endswith(b"}")


def test_a_refused_client_that_keeps_sending_is_cut_off(live_server_e2e):
    """What a refused client still sends is dropped for at most LINGER_SECONDS; then the
    connection is aborted, so an endless head holds nothing for long."""
    with _connect(live_server_e2e) as connection:
        started = time.monotonic()
        with pytest.raises(OSError):  # broken pipe or connection reset, once the server aborts
            while time.monotonic() - started < LINGER_SECONDS + 10:
                connection.sendall(b"a" * 10_000)
                time.sleep(0.01)
        assert time.monotonic() - started < LINGER_SECONDS + 5
