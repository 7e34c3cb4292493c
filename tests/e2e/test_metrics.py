"""``/metrics`` on a real uvicorn server with two worker processes in prometheus-client's
multiprocess mode: what each worker counted adds up in one scrape, the endpoint needs its own
bearer token, and the index-job and backlog series come from the database."""

from __future__ import annotations

import asyncio
import re

import httpx2
import pytest
from mcp.client import Client
from mcp.client.streamable_http import streamable_http_client
from prometheus_client.parser import text_string_to_metric_families

from tests.support.live_server import make_live_server
from tests.support.sdk_auth import create_service_client

pytestmark = pytest.mark.e2e

METRICS_TOKEN = "m" * 40
CALLS = 24


@pytest.fixture(scope="module")
def metered_server(tmp_path_factory):
    server = make_live_server(tmp_path_factory.mktemp("metrics"))
    source = server.workdir / "src"
    source.mkdir()
    (source / "tariffs.py").write_text("def tariff_for(code):\n    return TARIFFS[code]\n")
    shared = server.workdir / "prometheus"
    shared.mkdir()
    server.env.update(MCPRAG_EMBEDDINGS="none", MCPRAG_METRICS_TOKEN=METRICS_TOKEN, PROMETHEUS_MULTIPROC_DIR=str(shared))
    server.manage("index_repo", str(source), "--name", "tariffs")
    server.credentials = create_service_client(server, "metrics-probe", "code:read")
    server.shared_dir = shared
    server.start("uvicorn", workers=2)
    yield server
    server.stop()


def _samples(text: str) -> dict[tuple, float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


async def _call(server, token: str) -> None:
    # A new connection per call, so the two workers' accept loops both get some.
    async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=60) as http:
        async with Client(streamable_http_client(server.mcp_url, http_client=http), mode="legacy") as client:
            assert not (await client.call_tool("search_code", {"query": "tariff_for"})).is_error


def test_two_workers_add_up_in_one_scrape(metered_server):
    server = metered_server
    token = httpx2.post(f"{server.base_url}/token/", auth=server.credentials, timeout=60,
                        data={"grant_type": "client_credentials", "scope": "code:read", "resource": server.mcp_url}
                        ).json()["access_token"]

    async def calls():
        await asyncio.gather(*(_call(server, token) for _ in range(CALLS)))

    asyncio.run(calls())
    for _ in range(3):
        assert httpx2.post(server.mcp_url, json={}, timeout=30).status_code == 401
    for _ in range(2):
        assert httpx2.post(server.mcp_url, json={}, headers={"Authorization": "Bearer not.a.jwt"}, timeout=30).status_code == 401

    assert httpx2.get(f"{server.base_url}/metrics", timeout=30).status_code == 401
    wrong = httpx2.get(f"{server.base_url}/metrics", headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert wrong.status_code == 401 and wrong.headers["www-authenticate"] == 'Bearer realm="metrics"'
    scrape = httpx2.get(f"{server.base_url}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}, timeout=30)
    assert scrape.status_code == 200 and scrape.headers["content-type"].startswith("text/plain")
    samples = _samples(scrape.text)

    assert samples[("mcprag_tool_calls_total", (("outcome", "ok"), ("tool", "search_code")))] == CALLS
    assert samples[("mcprag_tool_call_duration_seconds_count", (("tool", "search_code"),))] == CALLS
    assert samples[("mcprag_bearer_refusals_total", (("reason", "missing"),))] == 3
    assert samples[("mcprag_bearer_refusals_total", (("reason", "malformed"),))] == 2
    assert samples[("mcprag_tokens_issued_total", (("grant_type", "client_credentials"),))] == 1
    assert samples[("mcprag_index_jobs", (("state", "complete"),))] == 1
    assert samples[("mcprag_index_job_duration_seconds_count", (("state", "complete"),))] == 1
    assert samples[("mcprag_embedding_backlog_chunks", ())] == 0  # MCPRAG_EMBEDDINGS=none: nothing to embed
    # Both workers recorded tool calls, and the scrape (answered by one of them) summed them.
    pids = {re.match(r"\w+_(\d+)\.db", p.name).group(1) for p in server.shared_dir.glob("*.db")}
    assert len(pids) >= 2, pids
