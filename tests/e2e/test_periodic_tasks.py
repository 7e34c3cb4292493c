"""The embedded default has no Celery beat: the server's own worker thread runs the periodic tasks
(scheduled git syncs, token cleanup, audit retention, abandoned jobs) once it starts.

Real parts: the server process as ``mcprag_site.asgi`` starts it (daphne, no broker), its database,
and ``manage.py shell`` to seed and read rows from outside the server.
"""

from __future__ import annotations

import json
import time

import pytest

from tests.support.live_server import make_live_server

pytestmark = pytest.mark.e2e

SEED = """
from datetime import timedelta
from django.utils import timezone
from codeindex.models import IndexJob, Repository
repository = Repository.objects.create(name="lost", root_path="/nowhere")
job = IndexJob.objects.create(repository=repository, kind="full", source="/nowhere", status="running",
                              worker="another-host:1", heartbeat_at=timezone.now() - timedelta(hours=1))
print("JOB", job.pk)
"""
READ = """
import json
from codeindex.models import IndexJob
job = IndexJob.objects.get(pk={job_id})
print("JOB " + json.dumps(dict(status=job.status, message=job.message)))
"""


def _shell(server, code: str) -> str:
    out = server.manage("shell", "-c", code).stdout
    return next(line for line in out.splitlines() if line.startswith("JOB "))[4:]


@pytest.mark.parametrize("periodic", ["true", "false"])
def test_the_server_without_a_broker_runs_the_periodic_tasks_itself(tmp_path, periodic):
    server = make_live_server(tmp_path)
    server.env.pop("REDIS_URL", None)  # the embedded default, even where CI sets REDIS_URL
    server.env["MCPRAG_PERIODIC_TASKS"] = periodic
    job_id = int(_shell(server, SEED))  # a job whose worker died an hour ago, before this server started
    server.start()
    try:
        deadline = time.monotonic() + (30 if periodic == "true" else 8)
        state = json.loads(_shell(server, READ.format(job_id=job_id)))
        while state["status"] == "running" and time.monotonic() < deadline:
            time.sleep(0.5)
            state = json.loads(_shell(server, READ.format(job_id=job_id)))
    finally:
        server.stop()
    if periodic == "true":
        assert state["status"] == "failed" and "worker stopped" in state["message"], state
    else:  # only `celery beat` would run it
        assert state["status"] == "running", state
