"""schemathesis against the operator API's own OpenAPI schema (``/api/schema/``) on a real server
(PostgreSQL in CI): for every operation, generated requests never get a 5xx, and every answer —
success or error — is valid against the schema (status code documented, content type, body).

Bounded: ``MAX_EXAMPLES`` generated requests per operation (about 20 operations). The server is
this module's own (the requests disable agents and change tiers at random, which other e2e
tests must not see). Requests that would disable or revoke the test's own service client are
skipped, so the run keeps its token.
"""

from __future__ import annotations

import base64
import re
import secrets
import textwrap

import httpx2
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.support.live_server import make_live_server

pytestmark = pytest.mark.e2e

MAX_EXAMPLES = 25
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def api_server(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("operator-api-server")
    server = make_live_server(workdir)
    # Generated git URLs are refused by the host list, never resolved or fetched.
    server.env["MCPRAG_GIT_ALLOWED_HOSTS"] = "git.example.invalid"
    server.env["MCPRAG_EMBEDDINGS"] = "none"
    server.env["MCPRAG_CELERY_QUEUE"] = f"operator-api-{secrets.token_hex(4)}"
    tiny = workdir / "tiny"
    (tiny / "pkg").mkdir(parents=True)
    (tiny / "pkg" / "walrus.py").write_text(textwrap.dedent("""
        def compute_walrus_total(items):
            return sum(items)
    """))
    server.manage("create_account", "ada", "--email", "ada@example.com", f"--password={secrets.token_urlsafe(12)}",
                  "--tier", "developer")
    server.manage("index_repo", str(tiny), "--name", "tiny")
    created = server.manage("create_service_client", "schemathesis", "--scopes", "console:admin").stdout
    client_id = re.search(r"client_id:\s+(\S+)", created).group(1)
    secret = re.search(r"client_secret:\s+(\S+)", created).group(1)
    server.start()
    try:
        basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
        answer = httpx2.post(f"{server.base_url}/token/", headers={"Authorization": f"Basic {basic}"},
                             data={"grant_type": "client_credentials", "resource": f"{server.base_url}/api"}, timeout=30)
        assert answer.status_code == 200, answer.text
        server.api_token = answer.json()["access_token"]
        agents = httpx2.get(f"{server.base_url}/api/agents/", headers={"Authorization": f"Bearer {server.api_token}"},
                            timeout=30).json()["results"]
        server.own_agent_id = next(a["id"] for a in agents if a["client_id"] == client_id)
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def api_schema(api_server):
    return schemathesis.openapi.from_url(f"{api_server.base_url}/api/schema/")


schema = schemathesis.pytest.from_fixture("api_schema")


def _targets_own_client(case, server) -> bool:
    if not case.path.startswith("/api/agents/{id}/") or case.method.upper() != "POST":
        return False
    try:
        return int(case.path_parameters["id"]) == server.own_agent_id
    except (KeyError, ValueError):
        return False


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much])
def test_the_api_answers_every_generated_request_as_its_schema_says(case, api_server):
    if _targets_own_client(case, api_server):
        return
    case.call_and_validate(base_url=api_server.base_url, headers={"Authorization": f"Bearer {api_server.api_token}"},
                           checks=CHECKS, timeout=60)
