"""Freshness end to end: a real server (and a Celery worker with Redis) indexes a ``file://`` git
repository; a push is announced by a signed GitHub delivery over real HTTP; the changed file is
then found by ``search_code`` through the official SDK client, citing the pushed commit, and
``list_commits``/``blame`` show it. A delivery with a bad signature is refused with 401."""

from __future__ import annotations

import time

import httpx2
import pytest

from tests.support.git_repos import Remote
from tests.support.sdk_auth import call_tool, create_service_client, service_token
from tests.support.webhook_sender import push_delivery

pytestmark = [pytest.mark.e2e, pytest.mark.anyio]

BOUND_S = 30


@pytest.fixture
def anyio_backend():
    return "asyncio"


async def test_push_webhook_to_searchable_over_http(live_server_e2e, tmp_path):
    server = live_server_e2e
    remote = Remote(tmp_path / "fresh", {"app/orders.py": "def place_order(cart):\n    return cart\n"})
    server.manage("index_repo", remote.url, "--name", "fresh-e2e")
    secret = server.manage("shell", "-c", "from codeindex import services; print(services.new_webhook_secret('fresh-e2e'))").stdout.strip().splitlines()[-1]
    client_id, client_secret = create_service_client(server, "e2e-fresh", "code:read")
    token = service_token(server, client_id, client_secret, "code:read")

    remote.commit("Add refunds", {"app/refunds.py": "def refund_kingfisher_order(order):\n    return -order.total\n"})
    head = remote.push()
    url = f"{server.base_url}/hooks/git/fresh-e2e/"
    async with httpx2.AsyncClient(timeout=60) as http:  # without Redis the sync runs inside the request
        forged_body, forged = push_delivery("github", secret + "x", after=head)
        refused = await http.post(url, content=forged_body, headers=forged)
        assert refused.status_code == 401
        started = time.monotonic()
        body, headers = push_delivery("github", secret, after=head)
        accepted = await http.post(url, content=body, headers=headers)
        assert accepted.status_code == 202, accepted.text
    while True:
        found = await call_tool(server, token, "search_code", {"query": "refund_kingfisher_order", "repository": "fresh-e2e"})
        hits = (found.structured_content or {}).get("hits") or []
        if hits and hits[0]["path"] == "app/refunds.py":
            break
        assert time.monotonic() - started < BOUND_S, (found.content, server.log()[-2000:])
        time.sleep(0.2)
    assert hits[0]["commit"] == head[:12] and f"fresh-e2e@{head[:12]}" in found.content[0].text
    commits = await call_tool(server, token, "list_commits", {"repository": "fresh-e2e"})
    assert [c["subject"] for c in commits.structured_content["commits"]] == ["Add refunds", "first commit"]
    blame = await call_tool(server, token, "blame", {"repository": "fresh-e2e", "path": "app/refunds.py", "start_line": 1, "end_line": 1})
    assert blame.structured_content["lines"][0]["commit"] == head
