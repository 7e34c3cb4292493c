"""Celery tasks of codeindex; each calls the job runner in one line (``jobs.py`` owns the lifecycle)."""

from __future__ import annotations

from celery import shared_task

from . import jobs

__all__ = ["run_index_job"]


@shared_task(name="codeindex.run_index_job", ignore_result=True)
def run_index_job(job_id: int) -> None:
    jobs.run_job(job_id)
