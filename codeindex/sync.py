"""Keeping git repositories fresh: scheduled syncs and syncs asked for by a push.

A *sync* is an index job of kind ``sync`` (queued, run and recorded like any other job): the
worker fetches the repository's branch into its partial clone, asks git which paths changed
between the indexed commit and the fetched one (``git diff --name-only``, trees only), and
re-indexes just those through the incremental indexing entry point (``indexing.index_tree`` with
``paths``). When the indexed commit is no longer an ancestor of the fetched one (a force-push),
or nothing was indexed before, it re-indexes the whole tree, so no chunk of the old history
is left. The outcome is recorded on the repository (``sync_note``; ``sync_error`` when it
failed: authentication, network, a refused source), and shown in the console.

``sync_due`` (every minute: Celery beat, or the server's worker thread without a broker) starts a
sync for every git repository whose ``sync_interval_minutes`` (default 10; 0 = never) has passed
since its last attempt. A push that arrives while an index job runs sets ``sync_requested``; the
repository is synced again once that job ends (``after_job``, called by the job runner whether Celery, the server's worker thread or
the caller's thread ran the job).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from .access import SYSTEM
from .choices import ACTIVE_JOB_STATUSES, JobKind
from .exceptions import CodeIndexError, JobAlreadyRunning
from .models import IndexJob, Repository

__all__ = ["start_sync", "sync_due", "after_job"]

log = logging.getLogger(__name__)


def start_sync(repository: Repository, *, requested_by: str) -> int | None:
    """Queue a sync job for ``repository`` (a git source); returns its id, or None when a job is
    already active (the repository is then marked to sync again when it ends) or the source is
    refused (recorded as the repository's ``sync_error``)."""
    from .services.index_jobs import start_index_job  # the one way a job is queued

    Repository.objects.filter(pk=repository.pk).update(sync_attempted_at=timezone.now())
    try:
        job = start_index_job("", repository.name, access=SYSTEM, kind=JobKind.SYNC, requested_by=requested_by)
    except JobAlreadyRunning:
        Repository.objects.filter(pk=repository.pk).update(sync_requested=True)
        return None
    except CodeIndexError as exc:
        Repository.objects.filter(pk=repository.pk).update(sync_error=f"sync not started: {exc}"[:2000], sync_error_at=timezone.now())
        log.warning("sync of %s not started: %s", repository.name, exc)
        return None
    Repository.objects.filter(pk=repository.pk).update(sync_requested=False)
    return job.id


def sync_due(now=None) -> int:
    """Start a sync for every git repository that is due (interval passed since the last
    attempt) and has no active job; returns how many were started."""
    now = now or timezone.now()
    started = 0
    rows = (Repository.objects.exclude(source_url="").filter(sync_interval_minutes__gt=0)
            .exclude(jobs__status__in=ACTIVE_JOB_STATUSES).distinct())
    for repository in rows:
        last = repository.sync_attempted_at or repository.fetched_at
        if last is not None and last + timedelta(minutes=repository.sync_interval_minutes) > now:
            continue
        with transaction.atomic():
            started += start_sync(repository, requested_by="scheduled sync") is not None
    return started


def after_job(job_id: int) -> None:
    """When job ``job_id`` has ended on a repository that a push asked to sync meanwhile
    (``sync_requested``), start that sync now. Called by the job runner for every job that ended,
    complete or failed (``jobs.IndexJobRunner.ended``), whichever way it ran. An embeddings job
    still active does not hold the sync back (the two may run side by side); another index job
    does (``start_sync`` then keeps ``sync_requested``, and that job's end tries again)."""
    job = IndexJob.objects.select_related("repository").filter(pk=job_id).first()
    if job is None or not job.repository.sync_requested or job.repository.source_url == "":
        return
    with transaction.atomic():
        start_sync(job.repository, requested_by="push during an earlier job")
