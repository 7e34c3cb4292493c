"""Credentials that clients put in URLs stay out of the server's access log: a real uvicorn with
its access log on, real requests. A live access token sent in the query string is also revoked."""

from __future__ import annotations

import subprocess
import sys

import httpx2
import pytest

from tests.support.live_server import _own_database_url, free_port
from tests.support.load import HEADERS, mint_tokens, server_env, start_uvicorn, stop

pytestmark = pytest.mark.e2e

INIT = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}


def test_tokens_in_urls_are_redacted_from_the_access_log_and_a_live_one_is_revoked(tmp_path):
    database_url, drop = _own_database_url(tmp_path)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = server_env(base, database_url, MCPRAG_EMBEDDINGS="none")
    log_path = tmp_path / "uvicorn.log"
    try:
        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput"], env=env, check=True, capture_output=True,
                       timeout=600)
        (token,) = mint_tokens(env, 1)
        server = start_uvicorn("mcprag_site.asgi:application", port, env, workers=1, log_path=log_path, access_log=True)
        try:
            exposed = httpx2.post(f"{base}/mcp?access_token={token}", json=INIT, headers=HEADERS)
            assert exposed.status_code == 400 and "revoked" in exposed.json()["error_description"]
            again = httpx2.post(f"{base}/mcp", json=INIT, headers={**HEADERS, "Authorization": f"Bearer {token}"})
            assert again.status_code == 401
            httpx2.get(f"{base}/login/magic-link/?stytch_token_type=magic_links&token=MAGIC-secret-42")
            httpx2.get(f"{base}/reset/MQ/reset-secret-77/")
        finally:
            stop(server)
        log = log_path.read_text(errors="replace")
        assert "POST /mcp?access_token=[redacted]" in log  # the access log is on, and redacted
        assert token not in log and token.split(".")[2] not in log
        assert "MAGIC-secret-42" not in log and "reset-secret-77" not in log
        assert "/reset/MQ/[redacted]/" in log
    finally:
        drop()
