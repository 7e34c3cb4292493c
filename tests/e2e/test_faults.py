"""Fault tests against the real server: Redis unreachable, PostgreSQL restarted.

Each test stops by itself and touches only loopback services. The PostgreSQL test really restarts
the local cluster (``pg_ctlcluster``); it runs only when DATABASE_URL names PostgreSQL.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time

import httpx2
import pytest

from tests.support.live_server import free_port, make_live_server
from tests.support.load import mint_tokens

pytestmark = pytest.mark.e2e
HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json", "MCP-Protocol-Version": "2025-11-25"}
CALL = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "index_status", "arguments": {}}}


def _call(server, token):
    return httpx2.post(server.mcp_url, json=CALL, headers={**HEADERS, "Authorization": f"Bearer {token}"}, timeout=30)


def test_redis_down_tool_calls_are_still_served(tmp_path):
    closed = free_port()  # nothing listens here: Redis is "down"
    server = make_live_server(tmp_path)
    server.env["REDIS_URL"] = f"redis://127.0.0.1:{closed}/0"
    server.env["MCPRAG_EMBEDDINGS"] = "none"
    token = mint_tokens(server.env, 1)[0]
    server.start()
    try:
        responses = [_call(server, token) for _ in range(5)]
        assert [r.status_code for r in responses] == [200] * 5, responses[-1].text
        assert '"isError":false' in responses[-1].text.replace(" ", "")
        ready = httpx2.get(f"{server.base_url}/readyz")
        assert ready.status_code == 503 and ready.json()["failing"] == ["redis"]
        log = server.log()
        assert log.count("Rate-limit store unavailable") == 1  # logged once, not per request
    finally:
        server.stop()


def _revoke_in_database(database_url: str, token: str) -> None:
    """Delete the token's row from another process, as DOT's ``revoke`` does."""
    import hashlib

    import psycopg

    checksum = hashlib.sha256(token.encode()).hexdigest()
    with psycopg.connect(database_url.replace("postgres://", "postgresql://", 1)) as db:
        db.execute("UPDATE oauth2_provider_refreshtoken SET access_token_id = NULL WHERE access_token_id IN "
                   "(SELECT id FROM oauth2_provider_accesstoken WHERE token_checksum = %s)", [checksum])
        db.execute("DELETE FROM oauth2_provider_accesstoken WHERE token_checksum = %s", [checksum])


def _pg_cluster() -> tuple[str, str] | None:
    if not os.environ.get("DATABASE_URL", "").startswith("postgres") or not shutil.which("pg_ctlcluster"):
        return None
    versions = os.listdir("/etc/postgresql") if os.path.isdir("/etc/postgresql") else []
    return (sorted(versions)[-1], "main") if versions else None


@pytest.mark.skipif(_pg_cluster() is None, reason="needs the local PostgreSQL cluster (DATABASE_URL=postgres://…)")
def test_postgresql_restart_is_survived_without_restarting_the_server(tmp_path):
    version, cluster = _pg_cluster()
    server = make_live_server(tmp_path)
    server.env["MCPRAG_EMBEDDINGS"] = "none"
    token = mint_tokens(server.env, 1)[0]
    server.start()
    try:
        assert _call(server, token).status_code == 200
        subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, cluster, "restart", "-m", "fast"],
                       check=True, capture_output=True, timeout=120)
        deadline = time.monotonic() + 60
        while subprocess.run(["pg_isready", "-h", "127.0.0.1", "-q"]).returncode != 0 and time.monotonic() < deadline:
            time.sleep(0.5)
        statuses = []
        for _ in range(6):
            statuses.append(_call(server, token).status_code)
            time.sleep(0.2)
        # Every request after the restart is served: stale connections are replaced, not reused.
        assert statuses == [200] * 6, (statuses, server.log()[-3000:])
        assert server.process.poll() is None
        # And a revocation still counts: the token-row cache dropped everything when its listening
        # connection was cut, and hears changes again (or reads the database until it does).
        _revoke_in_database(server.env["DATABASE_URL"], token)
        deadline = time.monotonic() + 5
        while (status := _call(server, token).status_code) == 200 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert status == 401, server.log()[-3000:]
    finally:
        server.stop()
        # The restart also cut this test process's own connections: drop them so the tests that
        # follow reconnect instead of finding a closed connection.
        from django.db import connections

        connections.close_all()
