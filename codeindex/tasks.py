"""Celery tasks of codeindex; each calls the job runner in one line (``jobs.py`` owns the lifecycle)."""

from __future__ import annotations

from celery import shared_task

from . import jobs, sync

__all__ = ["run_index_job", "fail_abandoned_jobs", "sync_due"]


# acks_late + reject_on_worker_lost: if the worker process dies mid-job, the message goes back to
# the queue and the next worker takes the job over (the runner re-claims a job whose worker is dead).
@shared_task(name="codeindex.run_index_job", ignore_result=True, acks_late=True, reject_on_worker_lost=True)
def run_index_job(job_id: int) -> None:
    jobs.run_job(job_id)  # the runner starts what follows the job (a sync a push asked for, embeddings)


@shared_task(name="codeindex.sync_due", ignore_result=True)
def sync_due() -> int:
    return sync.sync_due()


@shared_task(name="codeindex.fail_abandoned_jobs", ignore_result=True)
def fail_abandoned_jobs() -> int:
    return jobs.fail_abandoned_jobs()
