"""Drive many concurrent MCP sessions against a running gateway (load test and bench/).

Each session speaks JSON-RPC over Streamable HTTP the way a stateless client does: ``initialize``
(2025-11-25), then ``tools/call`` in a loop until the deadline. Requests and latencies are
counted per status, so a test can assert "zero 5xx" and compare counts with audit rows.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx2

ROOT = Path(__file__).resolve().parents[2]
HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json",
           "MCP-Protocol-Version": "2025-11-25"}

MINT_TOKENS = """
import datetime, json, time, uuid, jwt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone
from oauth2_provider.models import get_access_token_model, get_application_model, set_token_value
from oauth_app.keys import active_key
from oauth_app.resource_indicators import mcp_resource
from oauth_app.services import set_tier
App = get_application_model(); AT = get_access_token_model()
user, _ = get_user_model().objects.get_or_create(username="load-tester", defaults={"email": "load@example.com"})
set_tier(user, "developer")
key = active_key(); now = int(time.time()); tokens = []
for n in range(__COUNT__):
    app = App.objects.create(name=f"load agent {n}", client_type="public", authorization_grant_type="authorization-code",
                             redirect_uris="http://127.0.0.1/cb")
    claims = dict(iss=settings.MCPRAG_ISSUER, sub=str(user.pk), aud=mcp_resource(), client_id=app.client_id,
                  scope="code:read code:write", iat=now, exp=now + 3600, jti=uuid.uuid4().hex)
    token = jwt.encode(claims, key.private_pem, algorithm="RS256", headers=dict(kid=key.kid, typ="at+jwt"))
    at = AT(user=user, application=app, scope="code:read code:write", resource=[mcp_resource()],
            expires=timezone.now() + datetime.timedelta(hours=1))
    set_token_value(at, token)
    at.save()
    tokens.append(token)
print("TOKENS " + json.dumps(tokens))
"""


def mint_tokens(env: dict, count: int) -> list[str]:
    """``count`` access tokens for as many clients (one person), signed by the server's own key."""
    out = subprocess.run([sys.executable, "manage.py", "shell", "-c", MINT_TOKENS.replace("__COUNT__", str(int(count)))], cwd=ROOT,
                         env=env, capture_output=True, text=True, check=True, timeout=600).stdout
    return json.loads(next(line for line in out.splitlines() if line.startswith("TOKENS "))[7:])


def start_uvicorn(app: str, port: int, env: dict, workers: int, log_path: Path, access_log: bool = False,
                  cwd: Path = ROOT) -> subprocess.Popen:
    """Serve an ASGI app with uvicorn from ``cwd`` (this checkout by default) and wait until it
    answers (``access_log``: log each request at INFO into ``log_path``)."""
    log = open(log_path, "wb")
    logging = ["--log-level", "info"] if access_log else ["--no-access-log", "--log-level", "warning"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
         "--lifespan", "off", *logging, "--timeout-keep-alive", "30"],
        cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{app} exited: {log_path.read_text(errors='replace')[-3000:]}")
        try:
            httpx2.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
            return proc
        except httpx2.HTTPError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError(f"{app} did not start")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()


@dataclass
class LoadStats:
    statuses: dict = field(default_factory=dict)
    latencies_ms: list = field(default_factory=list)
    tool_calls: int = 0
    errors: list = field(default_factory=list)
    seconds: float = 0.0

    def count(self, status: int) -> None:
        self.statuses[status] = self.statuses.get(status, 0) + 1

    @property
    def server_errors(self) -> int:
        return sum(n for s, n in self.statuses.items() if s >= 500)

    def percentile(self, p: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]

    @property
    def rps(self) -> float:
        return self.tool_calls / self.seconds if self.seconds else 0.0

    def summary(self) -> str:
        return (f"{self.tool_calls} calls in {self.seconds:.1f} s = {self.rps:.1f}/s; p50 {self.percentile(50):.1f} ms, "
                f"p99 {self.percentile(99):.1f} ms; statuses {dict(sorted(self.statuses.items()))}")


def _result_of(response: httpx2.Response) -> dict | None:
    text = response.text
    if response.headers.get("content-type", "").startswith("text/event-stream"):
        for line in text.splitlines():
            if line.startswith("data:"):
                message = json.loads(line[5:])
                if "result" in message or "error" in message:
                    return message
        return None
    return json.loads(text) if text else None


async def _session(client: httpx2.AsyncClient, url: str, token: str, tool: str, arguments: dict, deadline: float,
                   stats: LoadStats) -> None:
    headers = {**HEADERS, "Authorization": f"Bearer {token}"}
    init = {"jsonrpc": "2.0", "id": 0, "method": "initialize",
            "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "load", "version": "1"}}}
    response = await client.post(url, json=init, headers=headers)
    stats.count(response.status_code)
    n = 0
    while time.monotonic() < deadline:
        n += 1
        call = {"jsonrpc": "2.0", "id": n, "method": "tools/call", "params": {"name": tool, "arguments": arguments}}
        started = time.perf_counter()
        try:
            response = await client.post(url, json=call, headers=headers)
        except httpx2.HTTPError as exc:
            stats.errors.append(exc.__class__.__name__)
            continue
        stats.latencies_ms.append((time.perf_counter() - started) * 1000)
        stats.count(response.status_code)
        stats.tool_calls += 1
        if response.status_code == 200:
            message = _result_of(response)
            if not message or "result" not in message or message["result"].get("isError"):
                stats.errors.append("tool error or no result")


async def run_load(url: str, tokens: list[str], *, sessions: int, seconds: float, tool: str = "health_check",
                   arguments: dict | None = None) -> LoadStats:
    """``sessions`` concurrent sessions (token ``i % len(tokens)``) calling ``tool`` for ``seconds``."""
    stats = LoadStats()
    limits = httpx2.Limits(max_connections=sessions + 10, max_keepalive_connections=sessions + 10)
    async with httpx2.AsyncClient(timeout=httpx2.Timeout(60), limits=limits) as client:
        started = time.monotonic()
        deadline = started + seconds
        await asyncio.gather(*[
            _session(client, url, tokens[i % len(tokens)], tool, arguments or {}, deadline, stats) for i in range(sessions)
        ])
        stats.seconds = time.monotonic() - started
    return stats


def server_env(base_url: str, database_url: str, **extra) -> dict:
    env = dict(os.environ)
    env.update(MCPRAG_PUBLIC_URL=base_url, DATABASE_URL=database_url, PYTHONUNBUFFERED="1", **extra)
    return env


__all__ = ["mint_tokens", "start_uvicorn", "stop", "run_load", "LoadStats", "server_env", "statistics"]
