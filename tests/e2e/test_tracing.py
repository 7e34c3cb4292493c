"""OpenTelemetry traces from a real server: with ``OTEL_EXPORTER_OTLP_ENDPOINT`` set, the SDK's
span for a tool call reaches an OTLP/HTTP receiver on loopback (decoded with OpenTelemetry's own
protobuf definitions), continues the trace the client sent in ``_meta``, names the service
``mcprag`` and carries no argument of the call."""

from __future__ import annotations

import asyncio
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx2
import pytest
from mcp.client import Client
from mcp.client.streamable_http import streamable_http_client
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from tests.support.live_server import make_live_server
from tests.support.sdk_auth import create_service_client

pytestmark = pytest.mark.e2e

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_SPAN = "00f067aa0ba902b7"
QUERY = "tariff_for_zanzibar_route"


class _Receiver(BaseHTTPRequestHandler):
    bodies: list[bytes] = []

    def do_POST(self):  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.path == "/v1/traces":
            type(self).bodies.append(body)
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.end_headers()
        self.wfile.write(b"")

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def collector():
    _Receiver.bodies = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()


@pytest.fixture(scope="module")
def traced_server(tmp_path_factory, collector):
    server = make_live_server(tmp_path_factory.mktemp("tracing"))
    source = server.workdir / "src"
    source.mkdir()
    (source / "tariffs.py").write_text("def tariff_for(code):\n    return TARIFFS[code]\n")
    server.env.update(MCPRAG_EMBEDDINGS="none", OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{collector.server_port}",
                      OTEL_BSP_SCHEDULE_DELAY="100")
    server.env.pop("OTEL_SERVICE_NAME", None)
    server.manage("index_repo", str(source), "--name", "tariffs")
    server.credentials = create_service_client(server, "trace-probe", "code:read")
    server.start()
    yield server
    server.stop()


def _spans():
    for body in list(_Receiver.bodies):
        request = ExportTraceServiceRequest.FromString(body)
        for resource_spans in request.resource_spans:
            service = {a.key: a.value.string_value for a in resource_spans.resource.attributes}.get("service.name")
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    yield service, span


def test_a_tool_call_is_exported_as_a_span_of_the_callers_trace(traced_server):
    server = traced_server
    token = httpx2.post(f"{server.base_url}/token/", auth=server.credentials, timeout=60,
                        data={"grant_type": "client_credentials", "scope": "code:read", "resource": server.mcp_url}
                        ).json()["access_token"]

    async def call():
        async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=60) as http:
            async with Client(streamable_http_client(server.mcp_url, http_client=http), mode="legacy") as client:
                result = await client.call_tool("search_code", {"query": QUERY},
                                                meta={"traceparent": f"00-{TRACE_ID}-{PARENT_SPAN}-01"})
                assert not result.is_error

    asyncio.run(call())
    deadline = time.monotonic() + 30
    found = []
    while time.monotonic() < deadline and not found:
        found = [(service, span) for service, span in _spans() if span.name == "tools/call search_code"]
        time.sleep(0.2)
    assert found, f"no tools/call span among {[s.name for _, s in _spans()]}"
    service, span = found[0]
    assert service == "mcprag"
    assert span.trace_id.hex() == TRACE_ID and span.parent_span_id.hex() == PARENT_SPAN
    assert all(QUERY.encode() not in body for body in _Receiver.bodies)  # spans carry names and ids, not arguments
