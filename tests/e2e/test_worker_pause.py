"""Stopping the server pauses the index job its worker thread runs, under daphne and under uvicorn
(the README's production command), and the next start finishes it.

uvicorn ends by re-raising the signal it caught once it has shut down, so ``atexit`` never runs
there: the job stayed "running" with a dead worker and the next start failed it
(``codeindex.worker.stop_at_signals``). Real parts: the server process, SIGTERM, a job indexing
Django's own source (lexical only), the server's database read from outside.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import django
import pytest

from tests.support.live_server import make_live_server

pytestmark = pytest.mark.e2e
SOURCE = Path(django.__file__).resolve().parent

QUEUE = f"""
from codeindex import jobs
from codeindex.models import Repository
repository = Repository.objects.create(name="big", root_path={str(SOURCE)!r})
print("JOB", jobs.create_job(repository, "full", {str(SOURCE)!r}, requested_by="test").pk)
"""
READ = """
import json
from codeindex.models import IndexJob
job = IndexJob.objects.get(pk={job_id})
print("JOB " + json.dumps(dict(status=job.status, message=job.message, files_done=job.files_done, attempts=job.attempts)))
"""


def _shell(server, code: str) -> str:
    out = server.manage("shell", "-c", code).stdout
    return next(line for line in out.splitlines() if line.startswith("JOB "))[4:]


def _state(server, job_id: int) -> dict:
    return json.loads(_shell(server, READ.format(job_id=job_id)))


@pytest.mark.parametrize("server_kind", ["uvicorn", "daphne"])
def test_sigterm_pauses_the_running_job_and_the_next_start_finishes_it(tmp_path, server_kind):
    server = make_live_server(tmp_path)
    server.env.pop("REDIS_URL", None)  # the embedded default: the server's own worker thread runs jobs
    server.env["MCPRAG_EMBEDDINGS"] = "none"
    try:  # server.stop() only at the end: it also drops the server's PostgreSQL database
        job_id = int(_shell(server, QUEUE))  # queued only: the server's worker takes it when it starts
        server.start(server=server_kind)
        deadline = time.monotonic() + 120
        state = _state(server, job_id)
        while not (state["status"] == "running" and state["files_done"] > 0) and time.monotonic() < deadline:
            time.sleep(0.3)
            state = _state(server, job_id)
        assert state["status"] == "running", state
        server.process.send_signal(signal.SIGTERM)
        try:
            server.process.wait(30)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the server did not exit within 30 s of SIGTERM:\n{server.log()[-3000:]}")
        paused = _state(server, job_id)
        assert paused["status"] == "queued" and paused["message"].startswith("paused:"), paused
        server.start(server=server_kind)
        deadline = time.monotonic() + 300
        state = _state(server, job_id)
        while state["status"] in ("queued", "running") and time.monotonic() < deadline:
            time.sleep(1)
            state = _state(server, job_id)
        assert state["status"] == "complete" and not state["message"].startswith("paused"), state
    finally:
        server.stop()
