"""The operator console in a real browser (headless Chromium via Playwright) against the real server.

* An operator lowers a person's tier in the console; the person's *existing* token loses
  ``code:write`` on its very next use (scopes ∩ current tier). No tool needs ``code:write`` yet,
  so the effective scopes are read with ``mcp_gateway.auth.bearer.verify_access_token`` on the
  live database, and a ``code:read`` tool call through ``/mcp`` still succeeds.
* The overview's server-rendered SVG charts show real tool calls (a data point, a tooltip).
* An operator re-indexes a real repository (python-dateutil) from the repositories page, lands
  on the job page while the job is still queued, and watches it reach "Complete" without a
  reload: a second server runs with Redis and its Celery worker starts only after the page has
  loaded, exactly as in production, so the page can only learn the outcome by polling.
* A file that cannot be read shows up in the job page's per-file errors table.
* Screenshots of every console page land in tests/artifacts/ for review.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import secrets
import subprocess
import sys
from urllib.parse import urlencode

import httpx2
import pytest
from mcp.client import Client
from mcp.client.streamable_http import streamable_http_client

from tests.support.browser import browser_page, screenshot
from tests.support.e2e_server import THIRD_PARTY_NAME, THIRD_PARTY_SOURCE
from tests.support.headless import HeadlessPerson
from tests.support.live_server import ROOT, make_live_server
from tests.support.people import create_person, sign_in

pytestmark = pytest.mark.e2e
CALLBACK = "http://127.0.0.1:9/console-e2e"
VIEWPORT = {"width": 1280, "height": 900}
#: Redis for the queued-job server when REDIS_URL is not set (db 9: kept apart from CI's database).
LOCAL_REDIS_URL = "redis://127.0.0.1:6379/9"
#: The job page has finished polling (the JS sets data-finished from progress.json).
JOB_FINISHED = "#job[data-finished='true']"

_EFFECTIVE_SCOPES = """
import os
from mcp_gateway.auth.bearer import verify_access_token
print(" ".join(sorted(verify_access_token(os.environ["MCPRAG_E2E_TOKEN"]).scopes)))
"""




def run_in_server(server, code: str, **env) -> str:
    """Run Python in the server's environment (its database); secrets travel in env, never argv."""
    result = subprocess.run([sys.executable, "manage.py", "shell"], input=code, cwd=ROOT, env={**server.env, **env},
                            capture_output=True, text=True, timeout=120, check=True)
    return result.stdout.strip().splitlines()[-1]


def token_for(server, username: str, password: str, scope: str, client_name: str) -> dict:
    """Register an agent, have the person sign in and consent through the real pages, exchange the code."""
    client_id = httpx2.post(f"{server.base_url}/register/", json={
        "client_name": client_name, "redirect_uris": [CALLBACK], "token_endpoint_auth_method": "none"}).json()["client_id"]
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    url = f"{server.base_url}/authorize/?" + urlencode({
        "response_type": "code", "client_id": client_id, "redirect_uri": CALLBACK, "state": "c", "scope": scope,
        "code_challenge": challenge, "code_challenge_method": "S256"})
    person = HeadlessPerson(server.base_url, username, password)
    asyncio.run(person.redirect_handler(url))
    response = httpx2.post(f"{server.base_url}/token/", data={
        "grant_type": "authorization_code", "code": person.result.code, "redirect_uri": CALLBACK,
        "client_id": client_id, "code_verifier": verifier})
    assert response.status_code == 200, response.text
    return {**response.json(), "client_id": client_id}


def call_tool(server, access_token: str, name: str, arguments: dict):
    """One tools/call through /mcp with the official SDK client and a fixed bearer token."""

    async def go():
        headers = {"Authorization": f"Bearer {access_token}"}
        async with httpx2.AsyncClient(headers=headers, timeout=60) as http:
            async with Client(streamable_http_client(server.mcp_url, http_client=http)) as client:
                return await client.call_tool(name, arguments)

    return asyncio.run(go())


@pytest.fixture(scope="module")
def operator(live_server_e2e):
    return "opal", create_person(live_server_e2e, "opal", "public", operator=True)


def test_operator_lowers_a_tier_and_the_token_loses_code_write_on_its_next_use(live_server_e2e, operator):
    server = live_server_e2e
    password = create_person(server, "tess", "developer")
    token = token_for(server, "tess", password, "code:read code:write", "Tess's editor agent")
    scopes = lambda: run_in_server(server, _EFFECTIVE_SCOPES, MCPRAG_E2E_TOKEN=token["access_token"])  # noqa: E731
    assert scopes() == "code:read code:write"
    assert not call_tool(server, token["access_token"], "index_status", {}).is_error

    with browser_page() as page:
        page.set_viewport_size(VIEWPORT)
        sign_in(page, server, *operator, "/console/people/")
        page.fill("input[name=q]", "tess")
        page.click("form.filters button[type=submit]")
        page.click("#people a:text-is('tess')")
        assert page.inner_text("#current-tier") == "developer"
        page.select_option("#id_tier", "public")
        page.fill("#id_reason", "Contractor engagement ended; read-only from now on")
        page.click("#tier-form button[type=submit]")
        page.wait_for_selector(".messages li")
        assert "tess is now public" in page.inner_text(".messages")
        assert page.inner_text("#current-tier") == "public"
        assert "Contractor engagement ended" in page.inner_text("table.operatoractions")
        screenshot(page, "console_person_tier_changed")

    # The very same token, on its next use: code:write is gone, code:read still works.
    assert scopes() == "code:read"
    result = call_tool(server, token["access_token"], "search_code", {"query": "easter sunday", "max_results": 1})
    assert not result.is_error and result.structured_content["hits"]


def test_overview_charts_render_real_tool_calls_and_every_page_opens(live_server_e2e, operator):
    server = live_server_e2e
    password = create_person(server, "chartie", "public")
    token = token_for(server, "chartie", password, "code:read", "Chart test agent")
    for query in ("parse a date string", "relative delta months", "time zone offset"):
        assert not call_tool(server, token["access_token"], "search_code", {"query": query, "max_results": 3}).is_error
    call_tool(server, token["access_token"], "search_code", {"query": "x", "repository": "no-such-repo"})  # a tool error

    with browser_page() as page:
        page.set_viewport_size(VIEWPORT)
        sign_in(page, server, *operator, "/console/")
        chart = page.locator("svg#chart-calls-per-day")
        assert chart.is_visible()
        bars = page.locator("svg#chart-calls-per-day rect.bar[data-series='search_code']")
        assert bars.count() >= 1
        assert sum(float(v) for v in bars.evaluate_all("els => els.map(e => e.dataset.value)")) >= 4
        assert page.locator("svg#chart-latency-per-tool rect.bar[data-series='p95']").count() >= 1
        assert page.locator("svg#chart-error-rate-per-day rect.bar[data-series='tool error']").count() >= 1
        bars.last.hover()
        assert "search_code" in page.inner_text(".chart-wrap .tooltip")
        screenshot(page, "console_overview")

        page.click("nav[aria-label=Console] >> text=Agents")
        page.wait_for_selector("#agents")
        assert "Chart test agent" in page.inner_text("#agents")
        screenshot(page, "console_agents")
        page.click("#agents a:text-is('Chart test agent')")
        page.wait_for_selector("#agent-status")
        assert "chartie" in page.inner_text("main")
        screenshot(page, "console_agent_detail")

        page.goto(f"{server.base_url}/console/audit/?person=chartie")
        assert page.locator("table.toolcalls tbody tr[data-outcome='error']").count() >= 1
        screenshot(page, "console_audit_tool_calls")
        with page.expect_download() as download:
            page.click("text=Export CSV")
        path = download.value.path()
        lines = open(path, encoding="utf-8").read().splitlines()
        assert lines[0].startswith("at,username,") and len(lines) >= 5 and all("chartie" in line for line in lines[1:])

        page.goto(f"{server.base_url}/console/audit/auth-events/?person=chartie")
        kinds = page.locator("table.authevents tbody tr").evaluate_all("rows => rows.map(r => r.dataset.kind)")
        assert {"sign_in", "consent_granted", "token_issued"} <= set(kinds)
        screenshot(page, "console_audit_auth_events")

        page.goto(f"{server.base_url}/console/repositories/")
        assert "dateutil" in page.inner_text("#repositories")
        screenshot(page, "console_repositories")


def test_a_person_who_is_not_an_operator_gets_403_in_the_browser(live_server_e2e):
    server = live_server_e2e
    password = create_person(server, "nadia", "public")
    with browser_page() as page:
        sign_in(page, server, "nadia", password, "/account/agents/")
        response = page.goto(f"{server.base_url}/console/")
        assert response.status == 403


@pytest.fixture(scope="module")
def queued_server(tmp_path_factory):
    """A second real server whose index jobs go to Redis and wait there: its Celery worker is not
    started until the test says so (``server.start_worker()``). Lexical only, to index quickly."""
    import redis

    url = os.environ.get("REDIS_URL") or LOCAL_REDIS_URL
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        pytest.skip(f"needs Redis at {url} for a non-eager Celery queue ({exc.__class__.__name__})")
    server = make_live_server(tmp_path_factory.mktemp("e2e-queued-server"))
    server.env.update(REDIS_URL=url, MCPRAG_CELERY_QUEUE=f"e2e-console-{secrets.token_hex(4)}", MCPRAG_EMBEDDINGS="none")
    server.manage("index_repo", str(THIRD_PARTY_SOURCE), "--name", THIRD_PARTY_NAME, "--embeddings", "now")  # runs in the command itself
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_operator_reindexes_a_repository_and_the_job_page_follows_it_to_complete(queued_server):
    server = queued_server
    password = create_person(server, "rhea", "public", operator=True)
    with browser_page() as page:
        page.set_viewport_size(VIEWPORT)
        sign_in(page, server, "rhea", password, "/console/repositories/")
        row = page.locator(f"#repositories tr[data-repository='{THIRD_PARTY_NAME}']")
        assert row.locator("[data-field=status]").inner_text() == "Complete"  # the first index, by the command
        files = int(row.locator("td.num").first.inner_text())
        assert files > 10

        row.locator(".reindex-form button").click()
        page.wait_for_url(f"{server.base_url}/console/jobs/*/")
        job_id = page.locator("#job").get_attribute("data-job")
        assert f"Re-index of {THIRD_PARTY_NAME} started as job {job_id} (queued)." in page.inner_text(".messages")
        assert page.inner_text("#job-status") == "Queued"
        assert page.locator("#job").get_attribute("data-finished") == "false"
        assert page.locator("#job-progress").get_attribute("value") == "0"
        page.evaluate("window.sameDocument = true")  # survives only if the page is never reloaded
        page.wait_for_selector("#job[data-updates='2']", state="attached", timeout=15_000)  # two answers from progress.json
        assert page.inner_text("#job-status") == "Queued"  # nobody runs it yet; the page keeps asking

        server.start_worker()  # now the job runs, in another process, while the page is open
        page.wait_for_selector(JOB_FINISHED, timeout=120_000)
        assert page.evaluate("window.sameDocument") is True
        assert page.inner_text("#job-status") == "Complete"
        assert page.locator("#job-status").get_attribute("class") == "badge ok"
        assert page.locator("#job-progress").evaluate("el => el.value") == 100
        assert page.inner_text("#job-percent") == "100 %"
        done, total = (int(n) for n in page.inner_text("#job-files").split(" / "))
        assert done == total >= files  # every file walked (skipped ones too) of the indexed ones
        assert page.inner_text("#job-message").startswith("0 new, 0 changed, 0 deleted")  # incremental: nothing changed
        assert page.inner_text("#job-finished") != "—"
        assert page.locator("[data-show-when-finished]").is_visible()
        screenshot(page, "console-job-progress")

        page.click("nav[aria-label=Console] >> text=Index jobs")
        first = page.locator("#jobs tbody tr").first
        assert first.get_attribute("data-job") == job_id
        assert first.locator("[data-field=status]").inner_text() == "Complete"
        assert "rhea" in first.inner_text()
        screenshot(page, "console_index_jobs")


def test_a_file_that_cannot_be_read_is_listed_in_the_jobs_per_file_errors(live_server_e2e, operator, tmp_path):
    server = live_server_e2e
    root = tmp_path / "linked"
    root.mkdir()
    (root / "ok.py").write_text("def fine():\n    return 1\n")
    (root / "dangling.py").symlink_to(root / "missing.py")  # listed by the walk, cannot be opened (even by root)
    server.manage("index_repo", str(root), "--name", "linked")
    with browser_page() as page:
        page.set_viewport_size(VIEWPORT)
        sign_in(page, server, *operator, "/console/repositories/")
        page.click("#repositories tr[data-repository='linked'] .reindex-form button")
        page.wait_for_url(f"{server.base_url}/console/jobs/*/")
        page.wait_for_selector(JOB_FINISHED, timeout=120_000)  # eager: finished already; with a worker: by polling
        assert page.inner_text("#job-status") == "Complete"
        assert page.inner_text("#job-error-count") == "1"
        assert page.inner_text("#job-errors-note") == "1 file could not be indexed:"
        rows = page.locator("#job-errors tbody tr").evaluate_all("rows => rows.map(r => r.innerText.split('\\t'))")
        assert rows == [["dangling.py", "cannot read: No such file or directory"]]
        screenshot(page, "console_job_file_errors")


def test_the_server_log_holds_no_token_or_password(live_server_e2e, operator):
    """Runs last in this module: everything above went through the real server and its log."""
    server = live_server_e2e
    password = create_person(server, "logan", "developer")
    token = token_for(server, "logan", password, "code:read code:write", "Log scan agent")
    refreshed = httpx2.post(f"{server.base_url}/token/", data={
        "grant_type": "refresh_token", "refresh_token": token["refresh_token"], "client_id": token["client_id"]}).json()
    call_tool(server, refreshed["access_token"], "index_status", {})
    httpx2.post(f"{server.base_url}/revoke_token/", data={"token": refreshed["access_token"], "client_id": token["client_id"]})
    log = server.log()
    for secret in (password, operator[1], token["access_token"], token["refresh_token"],
                   refreshed["access_token"], refreshed["refresh_token"]):
        assert secret not in log and secret[:16] not in log
    rows = json.loads(run_in_server(server, (
        "import json\nfrom oauth_app.models import AuthEvent\nfrom mcp_gateway.models import ToolCall\n"
        "print(json.dumps([list(AuthEvent.objects.values()), list(ToolCall.objects.values())], default=str))")))
    dumped = json.dumps(rows)
    for secret in (password, token["access_token"], refreshed["refresh_token"]):
        assert secret not in dumped
    revoked = [e for e in rows[0] if e["kind"] == "token_revoked" and e["client_id"] == token["client_id"]]
    assert len(revoked) == 1 and revoked[0]["detail"]["endpoint"] == "revoke_token"
