"""A Celery worker process killed in the middle of an index job: the job is taken over and
finished truthfully (never left "running"), and the index holds each file exactly once.

Real parts: Redis as the broker, a prefork Celery worker whose child process is SIGKILLed while
it indexes a real package (Django's source, lexical only), the server's database.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import django
import pytest

from tests.support.live_server import ROOT, make_live_server

pytestmark = pytest.mark.e2e
SOURCE = Path(django.__file__).resolve().parent

START = f"""
from codeindex import services
from codeindex.access import RepositoryAccess
info = services.start_index_job({str(SOURCE)!r}, "bigrepo", access=RepositoryAccess(all=True))
print("JOB", info.id)
"""
STATUS = """
import json
from codeindex import jobs
from codeindex.models import IndexJob, Chunk, SourceFile
jobs.fail_abandoned_jobs()  # what Celery beat runs every minute
from django.db.models import Count
job = IndexJob.objects.get(pk={job_id})
dupes = SourceFile.objects.values("repository_id", "path").annotate(n=Count("id")).filter(n__gt=1).count()
print("STATUS " + json.dumps(dict(status=job.status, files_done=job.files_done, files_total=job.files_total,
      attempts=job.attempts, message=job.message, files=SourceFile.objects.filter(repository=job.repository).count(),
      dupes=dupes, orphans=Chunk.objects.filter(file__isnull=True).count(),
      indexable=job.report.get("files_seen", 0) - sum((job.report.get("files_skipped") or {{}}).values()))))
"""


def _shell(server, code: str, marker: str) -> str:
    out = server.manage("shell", "-c", code).stdout
    return next(line for line in out.splitlines() if line.startswith(marker))[len(marker) + 1:]


def _child_pids(parent: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(parent)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis as the Celery broker (CI sets REDIS_URL)")
def test_killed_worker_child_mid_job_is_taken_over_and_finishes_truthfully(tmp_path):
    server = make_live_server(tmp_path)
    queue = f"faults-{secrets.token_hex(4)}"
    server.env.update(MCPRAG_EMBEDDINGS="none", MCPRAG_CELERY_QUEUE=queue)
    log = open(tmp_path / "worker.log", "wb")
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "mcprag_site", "worker", "--pool=prefork", "-c", "1", "-Q", queue,
         "--loglevel=INFO", "--without-gossip", "--without-mingle"],
        cwd=ROOT, env=server.env, stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while "ready." not in (tmp_path / "worker.log").read_text(errors="replace"):
            assert time.monotonic() < deadline and worker.poll() is None, (tmp_path / "worker.log").read_text()
            time.sleep(0.3)
        job_id = int(_shell(server, START, "JOB"))
        # Wait until the job is well under way, then kill the child process doing the work.
        deadline = time.monotonic() + 120
        while True:
            state = json.loads(_shell(server, STATUS.format(job_id=job_id), "STATUS"))
            if state["status"] == "running" and state["files_done"] > 50:
                break
            assert state["status"] in ("queued", "running") and time.monotonic() < deadline, state
            time.sleep(0.2)
        children = _child_pids(worker.pid)
        assert children, "prefork worker has no child process"
        os.kill(children[0], signal.SIGKILL)

        seen_statuses = set()
        deadline = time.monotonic() + 240
        while True:
            state = json.loads(_shell(server, STATUS.format(job_id=job_id), "STATUS"))
            seen_statuses.add(state["status"])
            if state["status"] in ("complete", "failed"):
                break
            assert time.monotonic() < deadline, state
            time.sleep(0.5)
        assert "running" in seen_statuses or state["status"] != "running"
        if state["status"] == "complete":  # taken over by the next worker process (redelivered task)
            assert state["attempts"] == 2, state
        else:  # or failed, saying why — never left "running"
            assert "worker stopped" in state["message"], state
        assert state["dupes"] == 0 and state["orphans"] == 0
        # The repository is not stuck: the next job runs and leaves every file exactly once.
        again = int(_shell(server, START, "JOB"))
        deadline = time.monotonic() + 240
        while True:
            final = json.loads(_shell(server, STATUS.format(job_id=again), "STATUS"))
            if final["status"] in ("complete", "failed"):
                break
            assert time.monotonic() < deadline, final
            time.sleep(0.5)
        assert final["status"] == "complete", final
        assert final["files"] == final["indexable"] > 2000  # every indexable file of Django, once
        assert final["dupes"] == 0 and final["orphans"] == 0
    finally:
        worker.terminate()
        try:
            worker.wait(20)
        except subprocess.TimeoutExpired:
            worker.kill()
        server.stop()
