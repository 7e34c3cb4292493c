"""The ``mcprag`` command end to end, as real subprocesses against the real server.

``mcprag login --no-browser`` prints the authorization URL; :class:`HeadlessPerson` plays the
browser through mcprag's real sign-in and consent pages, and its final redirect (to the CLI's
loopback listener) is requested like a browser would. Then ``search``, ``tools``, ``call``,
``status``, the stdio ``bridge`` (driven by the SDK's stdio client), silent refresh after the
access token expires, the one-line errors, and ``logout`` revoking at the server.

Every test checks that no token ever appears in the CLI's stdout or stderr.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import httpx2
import pytest
from mcp.client import Client
from mcp.client.stdio import StdioServerParameters, stdio_client

from mcprag_client.config import ServerRecord, ServerRegistry
from mcprag_client.credentials import FileTokenStore, StoredTokens
from tests.support.headless import HeadlessPerson
from tests.support.live_server import free_port

pytestmark = pytest.mark.e2e

MCPRAG = str(Path(sys.executable).with_name("mcprag"))
USERNAME = "grace"
EASTER = "compute the date of Easter Sunday for a given year"
INIT = {
    "jsonrpc": "2.0", "id": 1, "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "probe", "version": "0"}},
}


class CliUser:
    """A person with their own mcprag config directory, running the CLI as subprocesses."""

    def __init__(self, server, config_dir: Path, password: str):
        self.server, self.config_dir, self.password = server, config_dir, password
        self.env = {**os.environ, "MCPRAG_CONFIG_DIR": str(config_dir), "MCPRAG_TOKEN_STORE": "file"}
        self.outputs: list[str] = []
        self.seen_tokens: set[str] = set()

    # -- state on disk -------------------------------------------------------------------------
    def stored(self) -> StoredTokens | None:
        stored = FileTokenStore(self.config_dir).load(self.server.mcp_url)
        if stored is not None:
            self.seen_tokens.update(t for t in (stored.tokens.access_token, stored.tokens.refresh_token) if t)
        return stored

    def record(self) -> ServerRecord:
        return ServerRegistry(self.config_dir).get(self.server.mcp_url)

    # -- running the CLI -------------------------------------------------------------------------
    def run(self, *args: str) -> subprocess.CompletedProcess:
        self.stored()
        completed = subprocess.run([MCPRAG, *args], env=self.env, capture_output=True, text=True, timeout=300)
        self.outputs += [completed.stdout, completed.stderr]
        self.stored()
        return completed

    def login(self, *extra: str, approve: bool = True, url: str | None = None) -> subprocess.CompletedProcess:
        self.stored()
        process = subprocess.Popen([MCPRAG, "login", url or self.server.base_url, "--no-browser", *extra], env=self.env,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        early, url = [], None
        for line in process.stderr:  # the CLI prints the URL, then waits for the browser
            early.append(line)
            if line.strip().startswith("http") and "/authorize" in line:
                url = line.strip()
                break
        assert url, f"no authorization URL printed: {''.join(early)}"
        person = HeadlessPerson(self.server.base_url, USERNAME, self.password, approve=approve)
        anyio.run(person.redirect_handler, url)
        assert person.final_location.startswith("http://127.0.0.1:"), person.final_location
        assert httpx2.get(person.final_location, timeout=30).status_code == 200  # the browser reaches the listener
        stdout, stderr = process.communicate(timeout=120)
        completed = subprocess.CompletedProcess(process.args, process.returncode, stdout, "".join(early) + stderr)
        self.outputs += [completed.stdout, completed.stderr]
        self.person = person
        self.stored()
        return completed

    @asynccontextmanager
    async def bridge(self, mode: str = "legacy"):
        """``mcprag bridge`` driven by the SDK's stdio client; its stderr is kept for the token scan."""
        self.stored()
        params = StdioServerParameters(command=MCPRAG, args=["bridge", self.server.mcp_url], env=self.env)
        with tempfile.TemporaryFile("w+") as errlog:
            try:
                async with Client(stdio_client(params, errlog=errlog), mode=mode) as client:
                    yield client
            finally:
                errlog.seek(0)
                self.outputs.append(errlog.read())
                self.stored()

    def assert_no_token_printed(self) -> None:
        for output in self.outputs:
            for token in self.seen_tokens:
                assert token not in output, "a token was printed"


def _one_line(completed: subprocess.CompletedProcess) -> str:
    lines = [line for line in completed.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, completed.stderr
    assert lines[0].startswith("mcprag: ")
    return lines[0]


def _checksum(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _shell(server, code: str) -> str:
    return server.manage("shell", "-c", code).stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def cli_account(live_server_e2e):
    """A developer account of its own, so these sign-ins do not eat into the e2e person's rate limit."""
    import secrets

    password = secrets.token_urlsafe(12)
    live_server_e2e.manage("create_account", USERNAME, "--email", "grace@example.com", f"--password={password}",
                           "--tier", "developer")
    return password


@pytest.fixture(scope="module")
def logged_in(live_server_e2e, cli_account, tmp_path_factory):
    """One ``mcprag login`` (with dynamic registration) shared by the tests that keep it valid."""
    user = CliUser(live_server_e2e, tmp_path_factory.mktemp("mcprag-config"), cli_account)
    completed = user.login()
    assert completed.returncode == 0, completed.stderr
    yield user
    assert user.seen_tokens
    user.assert_no_token_printed()


@pytest.fixture
def another_login(live_server_e2e, cli_account, logged_in, tmp_path):
    """A second config directory that reuses the registration (no new DCR), for destructive tests."""
    config = tmp_path / "config"
    config.mkdir(mode=0o700)
    shutil.copy(logged_in.config_dir / "servers.json", config / "servers.json")
    user = CliUser(live_server_e2e, config, cli_account)
    yield user
    user.assert_no_token_printed()


def test_login_stores_tokens_in_a_private_file_and_search_finds_code(logged_in):
    user = logged_in
    assert any("/login/" in page for page in user.person.pages)
    assert "mcprag command-line client" in user.person.consent_html
    stored = user.stored()
    assert stored.tokens.refresh_token and "code:read" in stored.tokens.scope
    tokens_file = user.config_dir / "tokens.json"
    assert stat.S_IMODE(tokens_file.stat().st_mode) == 0o600
    assert stat.S_IMODE((user.config_dir / "servers.json").stat().st_mode) == 0o600
    assert stat.S_IMODE(user.config_dir.stat().st_mode) == 0o700
    table = user.run("search", EASTER, "-n", "3")
    assert table.returncode == 0, table.stderr
    assert "dateutil:easter.py:" in table.stdout and "SCORE" in table.stdout
    as_json = user.run("search", EASTER, "--repo", "dateutil", "--lang", "python", "-n", "5", "--json")
    assert as_json.returncode == 0, as_json.stderr
    hits = json.loads(as_json.stdout)["hits"]
    assert hits[0]["path"] == "easter.py" and len(hits) <= 5


def test_tools_call_and_status(logged_in):
    user = logged_in
    tools = user.run("tools")
    assert tools.returncode == 0 and "search_code" in tools.stdout
    definitions = json.loads(user.run("tools", "--json").stdout)
    assert {"search_code", "index_status", "health_check"} <= {t["name"] for t in definitions}
    status = user.run("call", "index_status")
    assert status.returncode == 0 and "dateutil" in status.stdout
    call = user.run("-v", "call", "search_code", "--arg", "query=relativedelta", "--arg", "max_results=2", "--json")
    assert call.returncode == 0, call.stderr
    assert len(json.loads(call.stdout)["structuredContent"]["hits"]) == 2
    report = user.run("status")
    assert report.returncode == 0, report.stderr
    assert "Scopes:" in report.stdout and "code:read" in report.stdout and "status ok" in report.stdout
    assert "Signed in:     yes, as grace (tier developer)" in report.stdout  # the person, not the client id
    assert str(user.config_dir / "tokens.json") in report.stdout
    assert json.loads(user.run("status", "--json").stdout)["refresh_token"] == "stored"


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.mark.anyio
@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_bridge_relays_the_remote_tools_over_stdio(logged_in, mode):
    user = logged_in
    async with user.bridge(mode) as client:
        tools = [t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in (await client.list_tools()).tools]
        result = await client.call_tool("search_code", {"query": EASTER, "max_results": 3})
    assert tools == json.loads(user.run("tools", "--json").stdout)
    assert not result.is_error, result.content
    assert result.structured_content["hits"][0]["path"] == "easter.py"


@pytest.mark.anyio
async def test_bridge_relays_resources_and_prompts(logged_in):
    async with logged_in.bridge("auto") as client:
        templates = (await client.list_resource_templates()).resource_templates
        read = await client.read_resource("repo://dateutil/easter.py")
        prompts = (await client.list_prompts()).prompts
        prompt = await client.get_prompt("find_implementation", {"what": "easter sunday"})
    assert any(t.uri_template.startswith("repo://") for t in templates)
    assert "def easter" in read.contents[0].text
    assert {"find_implementation", "trace_dependencies"} <= {p.name for p in prompts}
    assert "easter sunday" in prompt.messages[0].content.text


@pytest.mark.anyio
async def test_bridge_starts_without_a_login_and_says_to_log_in(live_server_e2e, tmp_path):
    from mcp.shared.exceptions import MCPError

    nobody = CliUser(live_server_e2e, tmp_path / "nobody", "")
    async with nobody.bridge("legacy") as client:
        with pytest.raises(MCPError) as listed:
            await client.list_tools()
        called = await client.call_tool("search_code", {"query": EASTER})
        with pytest.raises(MCPError):
            await client.read_resource("repo://dateutil/easter.py")
    advice = f"not logged in to {live_server_e2e.mcp_url}; run: mcprag login {live_server_e2e.mcp_url}"
    assert advice in listed.value.error.message
    assert called.is_error and advice in called.content[0].text


def test_bridge_answers_requests_piped_in_before_stdin_closes(logged_in):
    """A CI job writes its requests into the bridge and closes stdin: the call is still relayed
    and answered, and the bridge exits 0 (the SDK alone cancels it: "Connection closed")."""
    user = logged_in
    call = {"jsonrpc": "2.0", "id": 2, "method": "tools/call",
            "params": {"name": "search_code", "arguments": {"query": EASTER, "max_results": 3}}}
    lines = [json.dumps(INIT), json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}), json.dumps(call)]
    script = f'"{MCPRAG}" bridge {user.server.mcp_url} <<\'EOF\'\n' + "\n".join(lines) + "\nEOF\n"
    user.stored()
    completed = subprocess.run(["/bin/sh", "-c", script], env=user.env, capture_output=True, text=True, timeout=300)
    user.outputs += [completed.stdout, completed.stderr]
    assert completed.returncode == 0, completed.stderr
    answers = {answer["id"]: answer for answer in map(json.loads, completed.stdout.splitlines())}
    assert "error" not in answers[2], answers[2]
    assert answers[2]["result"]["isError"] is False
    assert answers[2]["result"]["structuredContent"]["hits"][0]["path"] == "easter.py"


_EXPIRE_AT_SERVER = """
import datetime
from django.utils import timezone
from oauth2_provider.models import get_access_token_model
print(get_access_token_model().objects.filter(token_checksum="{checksum}").update(
    expires=timezone.now() - datetime.timedelta(seconds=5)))
"""


def _expire_at_server(user) -> StoredTokens:
    before = user.stored()
    assert _shell(user.server, _EXPIRE_AT_SERVER.format(checksum=_checksum(before.tokens.access_token))) == "1"
    return before


def _post_initialize(server, token: str) -> httpx2.Response:
    return httpx2.post(server.mcp_url, json=INIT, timeout=30, headers={
        "Accept": "application/json, text/event-stream", "Authorization": f"Bearer {token}"})


def test_an_expired_access_token_is_refreshed_silently(logged_in):
    user = logged_in
    before = _expire_at_server(user)
    FileTokenStore(user.config_dir).save(user.server.mcp_url, StoredTokens(tokens=before.tokens, expires_at=time.time() - 5))
    assert _post_initialize(user.server, before.tokens.access_token).status_code == 401
    completed = user.run("search", EASTER, "-n", "1", "--json")
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout)["hits"][0]["path"] == "easter.py"
    after = user.stored()
    assert after.tokens.access_token != before.tokens.access_token
    assert after.tokens.refresh_token != before.tokens.refresh_token  # rotated (OAuth 2.1 §4.3.1)
    assert after.expires_at > time.time() + 60
    assert _post_initialize(user.server, after.tokens.access_token).status_code == 200


def test_a_token_the_server_expired_early_is_refreshed_after_its_401(logged_in):
    """The client still believes the token fresh; the server's 401 makes it refresh once."""
    user = logged_in
    before = _expire_at_server(user)
    completed = user.run("tools")
    assert completed.returncode == 0, completed.stderr
    assert user.stored().tokens.access_token != before.tokens.access_token


_NARROW_TOKEN = """
from oauth2_provider.models import get_access_token_model
print(get_access_token_model().objects.filter(token_checksum="{checksum}").update(scope=""))
"""


def test_insufficient_scope_names_the_scope(another_login):
    user = another_login
    assert user.login().returncode == 0
    assert user.record().client_info["client_id"]  # the registration was reused
    assert _shell(user.server, _NARROW_TOKEN.format(checksum=_checksum(user.stored().tokens.access_token))) == "1"
    completed = user.run("search", EASTER)
    assert completed.returncode == 6
    line = _one_line(completed)
    assert "insufficient scope" in line and "'code:read'" in line
    assert f"to widen it, run: mcprag login {user.server.mcp_url} --scope 'code:read'" in line


def test_login_scope_asks_for_more_and_the_tier_decides(another_login):
    user = another_login
    assert user.login("--scope", "code:write index:admin").returncode == 0
    assert sorted(user.stored().tokens.scope.split()) == ["code:read", "code:write"]  # grace is a developer
    assert "code:write" in user.person.consent_html


def test_a_mistyped_path_says_404_not_method_not_found(logged_in):
    started = time.monotonic()
    completed = subprocess.run([MCPRAG, "login", f"{logged_in.server.base_url}/mpc", "--no-browser", "--timeout", "20"],
                               env=logged_in.env, capture_output=True, text=True, timeout=120)
    assert completed.returncode == 5, completed.stderr
    line = _one_line(completed)
    assert "/mpc answered 404 Not Found" in line and f"try {logged_in.server.base_url}/mcp" in line
    assert "Method not found" not in completed.stderr and time.monotonic() - started < 30


@pytest.mark.parametrize(("path", "answered"), [("/api", "301 Moved Permanently"), ("/api/", "301 Moved Permanently"),
                                              ("/healthz", "403 Forbidden")])
def test_a_url_that_is_not_an_mcp_endpoint_says_what_the_endpoint_looks_like(logged_in, path, answered):
    """Not the SDK's "Redirect to …/api/ not followed; use that URL" (which gives the same answer
    again) nor "Server returned an error response (code -32603)"."""
    completed = subprocess.run([MCPRAG, "login", f"{logged_in.server.base_url}{path}", "--no-browser", "--timeout", "20"],
                               env=logged_in.env, capture_output=True, text=True, timeout=120)
    assert completed.returncode == 5, completed.stderr
    line = _one_line(completed)
    assert f"{logged_in.server.base_url}{path.rstrip('/')} answered {answered}" in line
    assert "is not an MCP endpoint" in line and f"try {logged_in.server.base_url}/mcp" in line
    assert "not followed" not in line and "-32603" not in line


def test_https_against_a_plain_http_server_fails_fast_and_says_why(logged_in):
    https = logged_in.server.base_url.replace("http://", "https://")
    started = time.monotonic()
    completed = subprocess.run([MCPRAG, "login", https, "--no-browser", "--timeout", "20"], env=logged_in.env,
                               capture_output=True, text=True, timeout=120)
    took = time.monotonic() - started
    assert completed.returncode == 5, completed.stderr
    assert "speaks plain http, not https" in _one_line(completed) and f"use {logged_in.server.base_url}/mcp" in completed.stderr
    assert took < 15, took


_REVOKE_AGENT = """
from django.contrib.auth import get_user_model
from oauth_app.models import Application
from oauth_app.services import revoke_agent
print(revoke_agent(get_user_model().objects.get(username="{user}"), Application.objects.get(client_id="{client_id}")))
"""


def test_a_revoked_login_says_so_and_suggests_login(another_login):
    user = another_login
    assert user.login("--new-client").returncode == 0  # its own agent, so revoking it touches no other test
    client_id = user.record().client_info["client_id"]

    async def bridge_across_the_revocation():
        async with user.bridge() as client:
            assert not (await client.call_tool("index_status", {})).is_error
            revoked = await anyio.to_thread.run_sync(_shell, user.server, _REVOKE_AGENT.format(user=USERNAME, client_id=client_id))
            assert revoked == "1"
            refused = await client.call_tool("index_status", {})
            still_serving = await client.call_tool("index_status", {})
        return refused, still_serving

    refused, still_serving = anyio.run(bridge_across_the_revocation)
    for result in (refused, still_serving):  # an error result naming the problem; the bridge keeps serving
        assert result.is_error and "revoked" in result.content[0].text and "mcprag login" in result.content[0].text
    completed = user.run("search", EASTER)
    assert completed.returncode == 4
    line = _one_line(completed)
    assert "revoked" in line and f"mcprag login {user.server.mcp_url}" in line


_DISABLE_AGENT = """
from oauth_app.models import Application
from console.services import disable_agent
print(disable_agent(None, Application.objects.get(client_id="{client_id}")) is not None)
"""


def test_a_client_disabled_by_an_operator_says_so_and_login_registers_a_new_one(another_login):
    user = another_login
    assert user.login("--new-client").returncode == 0  # its own agent, so disabling it touches no other test
    disabled = user.record().client_info["client_id"]
    assert _shell(user.server, _DISABLE_AGENT.format(client_id=disabled)) == "True"
    for _ in range(2):  # the reason stays visible on the next command too
        completed = user.run("search", EASTER)
        assert completed.returncode == 4
        line = _one_line(completed)
        assert "this client has been disabled by an operator" in line and f"mcprag login {user.server.mcp_url}" in line
    started = time.monotonic()
    again = user.login("--timeout", "30")  # no --new-client: the server's invalid_client says to register anew
    assert again.returncode == 0, again.stderr
    assert time.monotonic() - started < 30
    assert "registering a new one" in again.stderr
    assert user.record().client_info["client_id"] != disabled
    assert user.run("search", EASTER, "-n", "1").returncode == 0


_SET_ACTIVE = """
from django.contrib.auth import get_user_model
print(get_user_model().objects.filter(username="{username}").update(is_active={active}))
"""


def test_a_suspended_account_shows_the_servers_reason_without_login_advice(another_login):
    user = another_login
    assert user.login().returncode == 0
    assert _shell(user.server, _SET_ACTIVE.format(username=USERNAME, active=False)) == "1"
    try:
        completed = user.run("search", EASTER)
    finally:
        assert _shell(user.server, _SET_ACTIVE.format(username=USERNAME, active=True)) == "1"
    assert completed.returncode == 4
    line = _one_line(completed)
    assert "the account behind this token is disabled" in line and "mcprag login" not in line


def test_a_tool_the_tier_never_allows_exits_6_with_the_servers_refusal(logged_in):
    completed = logged_in.run("call", "index_repository", "name=dateutil")  # grace is a developer: no index:admin
    assert completed.returncode == 6, completed.stdout + completed.stderr
    assert "needs the 'index:admin' scope" in completed.stdout and "Your tier (developer)" in completed.stdout


_LIVE_REFRESH_TOKENS = """
from oauth2_provider.models import get_refresh_token_model
print(get_refresh_token_model().objects.filter(token="{token}", revoked__isnull=True).count())
"""


def test_logout_revokes_the_tokens_at_the_server(another_login):
    user = another_login
    assert user.login().returncode == 0
    tokens = user.stored().tokens
    assert _post_initialize(user.server, tokens.access_token).status_code == 200
    completed = user.run("logout")
    assert completed.returncode == 0, completed.stderr
    assert "revoked" in completed.stdout
    assert _post_initialize(user.server, tokens.access_token).status_code == 401
    assert _shell(user.server, _LIVE_REFRESH_TOKENS.format(token=tokens.refresh_token)) == "0"
    assert user.stored() is None
    after = user.run("search", EASTER)
    assert after.returncode == 3 and "not logged in" in _one_line(after)


def test_denied_consent_fails_the_login_with_one_line(another_login):
    user = another_login
    completed = user.login(approve=False)
    assert completed.returncode == 7
    prompt, url, line = [line for line in completed.stderr.splitlines() if line.strip()]
    assert "/authorize" in url
    assert line.startswith("mcprag: ") and "denied" in line and "access_denied" in line
    assert user.stored() is None


def test_not_logged_in_and_unreachable_server(logged_in, tmp_path):
    empty = CliUser(logged_in.server, tmp_path / "empty", "")
    completed = empty.run("search", EASTER)
    assert completed.returncode == 3 and "not logged in" in _one_line(completed)
    # A stored login for a server that is down: copy the login to a port nobody listens on.
    dead = f"http://127.0.0.1:{free_port()}/mcp"
    record = logged_in.record()
    ServerRegistry(logged_in.config_dir).save(ServerRecord(url=dead, client_info=record.client_info, token_store="file"))
    FileTokenStore(logged_in.config_dir).save(dead, logged_in.stored())
    completed = logged_in.run("tools", "--server", dead)
    assert completed.returncode == 5
    assert "cannot reach" in _one_line(completed)
    status = logged_in.run("status", "--server", dead)  # the local part is still shown
    assert status.returncode == 5
    assert "Scopes:" in status.stdout and "Server check:  failed: cannot reach" in status.stdout


CLIENT_METADATA_URL = "https://cli.example/mcprag-client.json"


def test_login_with_a_client_metadata_document(live_server_e2e, cli_account, tmp_path):
    live_server_e2e.publish_client_metadata(CLIENT_METADATA_URL, {
        "client_id": CLIENT_METADATA_URL, "client_name": "mcprag CLI (metadata document)",
        "redirect_uris": ["http://127.0.0.1/callback"], "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"], "token_endpoint_auth_method": "none",
    })
    user = CliUser(live_server_e2e, tmp_path / "cimd", cli_account)
    completed = user.login("--client-metadata-url", CLIENT_METADATA_URL)
    assert completed.returncode == 0, completed.stderr
    assert user.record().client_info["client_id"] == CLIENT_METADATA_URL  # no dynamic registration
    assert "mcprag CLI (metadata document)" in user.person.consent_html
    search = user.run("search", EASTER, "-n", "1", "--json")
    assert search.returncode == 0 and json.loads(search.stdout)["hits"][0]["path"] == "easter.py"
    user.assert_no_token_printed()


def test_login_through_localhost_while_the_server_says_127_0_0_1(live_server_e2e, cli_account, tmp_path):
    """The demo prints 127.0.0.1; people type localhost: both are the same loopback server."""
    local = live_server_e2e.base_url.replace("127.0.0.1", "localhost")
    user = CliUser(live_server_e2e, tmp_path / "config", cli_account)
    completed = user.login(url=local)
    assert completed.returncode == 0, completed.stderr
    assert f"Logged in to {local}/mcp" in completed.stdout
    tools = user.run("tools", "--server", local)
    assert tools.returncode == 0 and "search_code" in tools.stdout, tools.stderr
