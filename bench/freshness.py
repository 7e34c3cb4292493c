"""Freshness: time from ``git push`` to searchable, and the cost of syncing a 1-file change.

A synthetic git repository of ``--files`` Python files (default 5,000) is pushed to a local bare
repository (``file://``, partial clones allowed) and indexed once from it (lexical only). Then,
``--pushes`` times (default 20): one file is changed to hold a new identifier, committed and
pushed; a signed GitHub push delivery is POSTed to ``/hooks/git/big/`` (through Django's full
request stack); and ``search`` is asked for the new identifier until it is the top hit. The
clock runs from the end of ``git push`` to that answer. With eager Celery (no ``REDIS_URL``) the
sync job runs inside the webhook request, so this is fetch + git diff + re-index + search, with
no queue wait (a deployment with a worker adds the broker's hand-off, typically milliseconds).

Anchor, side by side in the same run: every ``--anchor-every`` push (default 4) is followed
instead by a ``full`` re-index job, what a changed repository needed before syncs existed
(fetch, walk and hash every file; only changed files are re-chunked).

    python bench/freshness.py [--files 5000] [--pushes 20] [--anchor-every 4]
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/mcprag_bench python bench/freshness.py

The machine may be shared: absolute times are noisy, the ratio of medians is the number to read.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_support import setup_django, table  # noqa: E402


def make_files(count: int) -> dict[str, str]:
    files = {}
    for n in range(count):
        package = f"pkg_{n % 50:02d}/sub_{(n // 50) % 10}"
        body = "\n".join(f"    value_{k} = items[{k}] * {n + k}" for k in range(12))
        files[f"{package}/module_{n:05d}.py"] = (f'"""Module {n}."""\n\n\ndef handler_{n:05d}(items):\n{body}\n    return value_0\n\n\n'
                                                 f"class Model{n:05d}:\n    def save(self):\n        return handler_{n:05d}([self])\n")
    return files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=5000)
    parser.add_argument("--pushes", type=int, default=20)
    parser.add_argument("--anchor-every", type=int, default=4)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="mcprag-fresh-"))
    os.environ["MCPRAG_CLONE_DIR"] = str(work / "clones")
    os.environ["MCPRAG_SOURCE_ROOTS"] = str(work)
    setup_django("none")
    from django.test import Client

    from codeindex import services
    from codeindex.models import IndexJob, Repository
    from tests.support.git_repos import Remote
    from tests.support.webhook_sender import push_delivery

    started = time.monotonic()
    remote = Remote(work / "remote", make_files(args.files))
    print(f"repository of {args.files} files committed in {time.monotonic() - started:.1f} s")
    started = time.monotonic()
    services.start_index_job(remote.url, "big", access=services.SYSTEM)
    repository = Repository.objects.get(name="big")
    print(f"first index: {time.monotonic() - started:.1f} s, {repository.file_count} files, {repository.chunk_count} chunks, "
          f"commit {repository.indexed_commit[:12]}")
    secret = services.new_webhook_secret("big")
    from django.conf import settings

    client = Client(HTTP_HOST=settings.ALLOWED_HOSTS[0])

    def job_seconds(job) -> float:
        return (job.finished_at - job.started_at).total_seconds()

    push_to_search, sync_jobs, full_jobs, full_total = [], [], [], []
    for n in range(1, args.pushes + args.pushes // max(args.anchor_every, 1) + 1):
        token = f"freshness_marker_{n:03d}_{os.getpid()}"
        path = f"pkg_{n % 50:02d}/sub_0/module_{(n * 37) % args.files:05d}.py"
        remote.commit(f"push {n}", {path: f"def {token}():\n    return {n}\n"})
        head = remote.push()
        anchor = args.anchor_every and n % (args.anchor_every + 1) == 0
        clock = time.monotonic()
        if anchor:
            services.start_index_job("", "big", access=services.SYSTEM)  # the old way: a full re-index
            job = IndexJob.objects.filter(repository__name="big").order_by("-id").first()
            full_total.append(time.monotonic() - clock)
            full_jobs.append(job_seconds(job))
            continue
        body, headers = push_delivery("github", secret, after=head, delivery=f"bench-{n}")
        response = client.post("/hooks/git/big/", data=body, content_type="application/json",
                               headers={k: v for k, v in headers.items() if k != "Content-Type"})
        assert response.status_code == 202, response.content
        while True:
            hits = services.search(token, access=services.SYSTEM, repository="big", max_results=1)
            if hits and hits[0].path == path:
                break
            if time.monotonic() - clock > 120:
                raise SystemExit(f"push {n} not searchable after 120 s")
            time.sleep(0.05)
        push_to_search.append(time.monotonic() - clock)
        job = IndexJob.objects.filter(repository__name="big", kind="sync").order_by("-id").first()
        assert job.status == "complete" and job.files_total == 1, (job.status, job.files_total, job.message)
        sync_jobs.append(job_seconds(job))
    repository.refresh_from_db()
    assert repository.indexed_commit == remote.head()
    median = statistics.median
    rows = [
        ["push → searchable (webhook + sync + search)", len(push_to_search), f"{median(push_to_search):.3f}", f"{max(push_to_search):.3f}"],
        ["sync job of a 1-file change", len(sync_jobs), f"{median(sync_jobs):.3f}", f"{max(sync_jobs):.3f}"],
        ["anchor: full re-index job after a 1-file push", len(full_jobs), f"{median(full_jobs):.3f}", f"{max(full_jobs):.3f}"],
    ]
    print(table(["measure", "n", "median s", "max s"], rows))
    if full_jobs:
        print(f"sync of a 1-file change costs {median(sync_jobs) / median(full_jobs):.3f}x a full re-index "
              f"({median(full_jobs) / median(sync_jobs):.1f}x faster), {args.files} files")


if __name__ == "__main__":
    main()
