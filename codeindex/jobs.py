"""The index job runner: it alone moves an ``IndexJob`` through its states.

    queued ──start──▶ running ──terminate──▶ complete | failed

``create_job`` inserts a queued job (the partial unique constraint refuses a second active job
on the same repository: ``JobAlreadyRunning``); ``IndexJobRunner(job_id).handle()`` claims it
(queued → running, under a row lock), does the work, and ``terminate`` writes the outcome. Only
``terminate`` ever writes ``complete``, and only after the work returned, so no reader can see a
running job reported complete. Progress is written (throttled) to the job row while it runs.

The runner is the one place a broad ``except`` is allowed: anything unexpected is logged with
its traceback and recorded as the job's message, and the job fails instead of hanging.

When a job has ended (``IndexJobRunner.ended``, whoever ran it), a push that arrived while it
ran starts its sync (``sync.after_job``), and a completed ``full``, ``changed_files`` or ``sync``
job queues an ``embeddings`` job for the chunks still without a vector (``queue_embeddings``)
and hands it to ``worker.dispatch``: the repository is searchable lexically from the moment the
index job completes, and the dense signal fills in.

``tasks.run_index_job`` (Celery) and the in-process worker (``worker.py``) call ``run_job``;
``services.index_repository`` (the command line) runs an ``IndexJobRunner`` itself.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from .choices import ACTIVE_JOB_STATUSES, JobKind, JobStatus
from .exceptions import CodeIndexError, IndexJobError, JobAlreadyRunning
from .indexing import IndexReport, Progress, bump_generation, embed_missing, index_tree, needs_embeddings
from .models import IndexJob, Repository
from .credentials import credential_env
from .history.git import changed_paths, is_ancestor
from .source_policy import prepare_source
from .sources import Fetched, SourceTree
from .sync import after_job
from .worker import Stopping, stopping_here

__all__ = ["create_job", "run_job", "IndexJobRunner", "ABANDONED_AFTER", "MAX_ATTEMPTS", "fail_abandoned_jobs"]

log = logging.getLogger(__name__)

#: A running job that wrote no progress for this long is taken as dead (its worker was killed).
ABANDONED_AFTER = timedelta(minutes=15)
#: A job whose worker was lost this many times fails instead of being tried again.
MAX_ATTEMPTS = 3
_PROGRESS_EVERY_S = 0.25


def create_job(repository: Repository, kind: str, source: str, *, paths: list[str] | None = None, requested_by: str = "") -> IndexJob:
    """A new queued job, or ``JobAlreadyRunning`` when the repository has an active one."""
    _fail_abandoned(repository)
    try:
        with transaction.atomic():
            return IndexJob.objects.create(
                repository=repository, kind=kind, source=source, paths=paths or [], requested_by=requested_by[:150],
            )
    except IntegrityError:
        family = Q(kind=JobKind.EMBEDDINGS) if kind == JobKind.EMBEDDINGS else ~Q(kind=JobKind.EMBEDDINGS)
        active = IndexJob.objects.filter(family, repository=repository, status__in=ACTIVE_JOB_STATUSES).first()
        which = f" (job {active.pk}, {active.status})" if active else ""
        raise JobAlreadyRunning(f"an index job for {repository.name!r} is already queued or running{which}") from None


def _fail_abandoned(repository: Repository | None = None) -> int:
    """Mark running jobs whose worker is gone as failed (truthfully: never left "running")."""
    rows = IndexJob.objects.filter(status=JobStatus.RUNNING)
    if repository is not None:
        rows = rows.filter(repository=repository)
    lost = [job.pk for job in rows if _worker_lost(job)]
    return IndexJob.objects.filter(pk__in=lost, status=JobStatus.RUNNING).update(
        status=JobStatus.FAILED, finished_at=timezone.now(),
        message="failed: its worker stopped before it finished (no progress since the worker was lost)",
    )


def fail_abandoned_jobs() -> int:
    """Periodic check (Celery beat): fail every running job whose worker is gone; returns how many."""
    return _fail_abandoned()


def WORKER_ID() -> str:  # noqa: N802 — reads like the constant it is for one process
    return f"{socket.gethostname()}:{os.getpid()}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _worker_lost(job: IndexJob) -> bool:
    """A running job's worker is gone: its process on this host is dead, or it wrote no progress
    for ``ABANDONED_AFTER`` (a worker on another host)."""
    if job.status != JobStatus.RUNNING:
        return False
    host, _, pid = (job.worker or "").rpartition(":")
    if host == socket.gethostname() and pid.isdigit() and int(pid) != os.getpid() and not _pid_alive(int(pid)):
        return True
    return job.heartbeat_at is not None and job.heartbeat_at < timezone.now() - ABANDONED_AFTER


def run_job(job_id: int, progress: Progress | None = None) -> IndexJob | None:
    """Run a queued job to its end; returns the finished job (None if it was not queued)."""
    return IndexJobRunner(job_id, progress).handle()


class IndexJobRunner:
    """Claims one queued job, runs it, and records how it ended. ``error`` keeps the
    ``CodeIndexError`` that ended it (an unexpected exception as an ``IndexJobError`` saying
    "internal error"), so a synchronous caller can re-raise it: a failed job never reads as done.

    A ``remote`` job (every queued job: an MCP tool or the console started it) checks its source
    again when it runs, by the rules of ``source_policy``; only the ``index_repo`` command at the
    shell runs one with ``remote=False``."""

    def __init__(self, job_id: int, progress: Progress | None = None, *, remote: bool = True, follow_up: str = "dispatch"):
        self.job_id = job_id
        self.relay = progress
        self.remote = remote
        self.follow_up = follow_up
        self.follow_up_job: IndexJob | None = None
        self.error: CodeIndexError | None = None
        self._last_write = 0.0
        self._counts: dict = {}
        self._phases: dict[str, dict[str, int]] = {}
        self._resumed_total = 0
        self._embedded_before: int | None = None

    def handle(self) -> IndexJob | None:
        job = self.start()
        if job is None:
            return None
        self._resume(job)
        report = IndexReport(repository=job.repository.name)
        started = time.monotonic()
        try:
            self.run(job, report)
        except IndexJobError as exc:
            self.error = exc
            self.terminate(job, JobStatus.FAILED, report, started, message=str(exc))
        except CodeIndexError as exc:
            self.error = exc
            self.terminate(job, JobStatus.FAILED, report, started, message=str(exc))
        except Exception as exc:  # the one broad except (module docstring): logged, and the job fails
            log.exception("index job %s failed", job.pk)
            message = f"internal error ({exc.__class__.__name__}); see the worker log"
            self.error = IndexJobError(f"index job {job.pk} failed: {message}")  # a synchronous caller reports it too
            self.terminate(job, JobStatus.FAILED, report, started, message=message)
        except Stopping:  # the server is stopping: back to the queue, resumed at the next start
            IndexJob.objects.filter(pk=job.pk, status=JobStatus.RUNNING).update(
                status=JobStatus.QUEUED, attempts=F("attempts") - 1, worker="",
                message="paused: the server stopped while it ran; it resumes when the server starts again")
            raise
        except BaseException:  # interrupted (Ctrl-C, worker shutdown): record it, then let it go on
            self.terminate(job, JobStatus.FAILED, report, started, message="interrupted before it finished")
            raise
        else:
            self.terminate(job, JobStatus.COMPLETE, report, started)
        self.ended(job, completed=self.error is None)
        return IndexJob.objects.select_related("repository").get(pk=job.pk)

    def ended(self, job: IndexJob, *, completed: bool) -> None:
        """What follows a job that ended, complete or failed, whoever ran it (a Celery worker, the
        server's worker thread, the caller's thread): first the sync a push asked for while it ran
        (``sync.after_job``), so the pushed commit is indexed before the vectors of this job's
        chunks are computed; then, after a complete index job, its embeddings job
        (``queue_embeddings``). Not called for a job put back in the queue or interrupted."""
        try:
            after_job(job.pk)
        except Exception:  # the job has ended; a sync that could not start is retried by the next push or schedule
            log.exception("starting the sync asked for during index job %s failed", job.pk)
        if completed and job.kind != JobKind.EMBEDDINGS and self.follow_up != "none":
            self.queue_embeddings(job)

    def queue_embeddings(self, job: IndexJob) -> None:
        """After an index job: queue the embeddings job for the chunks still without a vector
        (``follow_up`` "dispatch": and hand it to ``worker.dispatch``; "queue": leave it queued for
        the caller). None is queued when no provider is configured or nothing is missing; when an
        embeddings job of the repository is already active, it takes the new chunks too."""
        try:
            if not needs_embeddings(job.repository):
                return
            self.follow_up_job = create_job(job.repository, JobKind.EMBEDDINGS, job.source, requested_by=job.requested_by)
        except JobAlreadyRunning:
            return
        except Exception:  # the index job has completed; a missing follow-up leaves chunks lexical-only
            log.exception("queueing the embeddings job after index job %s failed", job.pk)
            return
        if self.follow_up == "dispatch":
            from .worker import dispatch

            dispatch(self.follow_up_job.pk)

    def start(self) -> IndexJob | None:
        """Claim the job: a queued one, or a running one whose worker died (the task was redelivered).

        Re-running is safe: unchanged files are skipped by content hash and each file's chunks are
        replaced in one transaction, so a retry never duplicates or half-writes a file. After
        ``MAX_ATTEMPTS`` lost workers the job fails with that reason instead of looping.
        """
        with transaction.atomic():
            job = IndexJob.objects.select_for_update().select_related("repository").filter(pk=self.job_id).first()
            if job is None or not (job.status == JobStatus.QUEUED or _worker_lost(job)):
                return None
            if job.attempts >= MAX_ATTEMPTS:
                IndexJob.objects.filter(pk=job.pk).update(
                    status=JobStatus.FAILED, finished_at=timezone.now(),
                    message=f"failed: its worker stopped {job.attempts} times before it finished")
                transaction.on_commit(lambda: self.ended(job, completed=False))
                return None
            before = job.status
            job.status = JobStatus.RUNNING
            job.started_at = job.heartbeat_at = timezone.now()
            job.worker = WORKER_ID()
            job.attempts += 1
            # conditional on the status read: of two processes claiming one job (SQLite has no row
            # locks), only one updates the row
            job.message = ""  # e.g. "paused: …" from the run the server's stop ended
            claimed = IndexJob.objects.filter(pk=job.pk, status=before, attempts=job.attempts - 1).update(
                status=job.status, started_at=job.started_at, heartbeat_at=job.heartbeat_at, worker=job.worker, attempts=job.attempts,
                message="")
        return job if claimed else None

    def run(self, job: IndexJob, report: IndexReport) -> None:
        repository = job.repository
        if job.kind == JobKind.EMBEDDINGS:
            for _ in range(3):  # an index job that ran meanwhile may have added chunks: take them too
                embed_missing(repository, report, progress=self.progress)
                if report.embedding_error or not needs_embeddings(repository):
                    break
            bump_generation(repository)
            return
        with credential_env(repository) as env:
            fetched = prepare_source(job.source, repository.name, remote=self.remote, branch=repository.branch,
                                     depth=repository.history_depth, credential_env=env)
        paths = job.paths if job.kind == JobKind.CHANGED_FILES else None
        note = ""
        if job.kind == JobKind.SYNC:
            paths, note = changed_since(fetched, repository.indexed_commit)
            if paths is not None and not paths and repository.file_count:
                _record_run(repository, fetched, job, report, note=note)  # nothing changed: no walk, no write
                return
        # A sync lists only git's changed paths (no walk of the whole tree); a full job walks it all.
        tree = SourceTree(fetched.root, only=paths if job.kind == JobKind.SYNC else None)
        index_tree(repository, tree, report, paths=paths, progress=self.progress)
        _record_run(repository, fetched, job, report, note=note)

    def progress(self, phase: str, done: int, total: int, path: str) -> None:
        """Record ``done`` of ``total`` in ``phase`` (throttled to one write per 250 ms, and at each
        phase's start and end). Counts never go back: a figure below the one recorded is ignored,
        and a job resumed after a stop goes on from the counts it had (``_resume``). On the
        server's worker thread, records the counts and raises ``worker.Stopping`` once the server
        is stopping."""
        if phase == "embeddings" and self._resumed_total:  # resumed: this pass counts only chunks still missing
            if self._embedded_before is None:  # first call: those done before are the ones no longer missing
                self._embedded_before = max(0, self._resumed_total - total)
            done, total = done + self._embedded_before, total + self._embedded_before
        stopping = stopping_here()
        row = self._phases.setdefault(phase, {"done": 0, "total": 0})
        row["total"] = max(row["total"], total)
        row["done"] = min(max(row["done"], done), row["total"])
        self._counts["phase"] = phase
        self._counts["phases"] = self._phases
        if phase == "files":
            self._counts.update(files_done=row["done"], files_total=row["total"])
        elif phase == "embeddings":
            self._counts.update(chunks_done=row["done"], chunks_total=row["total"])
        self._counts["current_path"] = path[-500:]
        now = time.monotonic()
        if now - self._last_write >= _PROGRESS_EVERY_S or done in (0, total) or stopping:
            self._last_write = now
            IndexJob.objects.filter(pk=self.job_id, status=JobStatus.RUNNING).update(heartbeat_at=timezone.now(), **self._counts)
        if self.relay is not None:
            self.relay(phase, done, total, path)
        if stopping:
            raise Stopping

    def _resume(self, job: IndexJob) -> None:
        """A job claimed again (after a stop or a lost worker) starts from the counts it recorded,
        so its progress goes on rather than back to zero; its embed pass then counts only the
        chunks still missing a vector, on top of those it had done."""
        for phase, row in (job.phases or {}).items():
            if isinstance(row, dict):
                self._phases[phase] = {"done": int(row.get("done", 0)), "total": int(row.get("total", 0))}
        self._resumed_total = self._phases.get("embeddings", {}).get("total", 0)

    def terminate(self, job: IndexJob, status: str, report: IndexReport, started: float, *, message: str = "") -> None:
        """The only writer of a finished status: ``complete`` or ``failed``, with the report."""
        report.duration_ms = round((time.monotonic() - started) * 1000)
        if status == JobStatus.COMPLETE and not message:
            message = (f"{report.files_new} new, {report.files_changed} changed, {report.files_deleted} deleted; "
                       f"{report.chunks_written} chunks, {report.vectors_written} vectors written")
        if status == JobStatus.FAILED and job.kind in (JobKind.FULL, JobKind.SYNC) and job.repository.source_url:
            Repository.objects.filter(pk=job.repository_id).update(sync_error=f"{job.kind} failed: {message}"[:2000],
                                                                   sync_error_at=timezone.now())
        IndexJob.objects.filter(pk=job.pk, status=JobStatus.RUNNING).update(
            status=status, finished_at=timezone.now(), heartbeat_at=timezone.now(), message=message[:2000],
            report=report.as_json(), errors=[{"path": p, "message": m} for p, m in report.errors[:500]],
            timings=report.timings_ms, **{**self._counts, "current_path": "", **({"phase": ""} if status == JobStatus.COMPLETE else {})},
        )


def _record_run(repository: Repository, fetched: Fetched, job: IndexJob, report: IndexReport, *, note: str = "") -> None:
    repository.root_path = str(fetched.root)
    repository.file_count = repository.files.count()
    repository.chunk_count = repository.chunks.count()
    if job.kind == JobKind.FULL or (job.kind == JobKind.SYNC and report.files_skipped and note.startswith("full")):
        repository.skipped_counts = report.files_skipped
    repository.last_indexed_at = timezone.now()
    fields = ["root_path", "file_count", "chunk_count", "skipped_counts", "last_indexed_at"]
    if job.kind != JobKind.CHANGED_FILES or not fetched.commit:  # a few files re-read: the tree is not one commit
        repository.indexed_commit = fetched.commit
        repository.indexed_dirty = fetched.dirty
        fields += ["indexed_commit", "indexed_dirty"]
    elif fetched.dirty:  # files re-read from a working tree with changes its commit lacks
        repository.indexed_dirty = True
        fields.append("indexed_dirty")
    if fetched.branch and repository.branch != fetched.branch:
        repository.branch = fetched.branch
        fields.append("branch")
    if job.kind in (JobKind.FULL, JobKind.SYNC):
        repository.fetched_at = timezone.now()
        repository.sync_error, repository.sync_error_at = "", None
        repository.sync_note = note or f"full index at {fetched.commit[:12] or 'a directory'}"
        fields += ["fetched_at", "sync_error", "sync_error_at", "sync_note"]
    repository.save(update_fields=fields)


def changed_since(fetched: Fetched, indexed: str) -> tuple[list[str] | None, str]:
    """The paths to re-index after a fetch, from git's own diff between the indexed commit and
    the fetched one, and a note saying what happened: ``(None, note)`` means the whole tree
    (nothing indexed yet, the indexed commit is gone, or history was rewritten by a force-push)."""
    if not indexed or not fetched.commit:
        return None, "full re-sync: no commit was indexed before"
    if indexed == fetched.commit:
        return [], f"up to date at {fetched.commit[:12]}"
    if not is_ancestor(fetched.root, indexed, fetched.commit):
        return None, f"full re-sync: history was rewritten (force-push?) from {indexed[:12]} to {fetched.commit[:12]}"
    paths = changed_paths(fetched.root, indexed, fetched.commit)
    if any(p.rsplit("/", 1)[-1] in (".gitignore", ".mcpragignore") for p in paths):
        return None, f"full re-sync: ignore rules changed from {indexed[:12]} to {fetched.commit[:12]}"
    return paths, f"{len(paths)} file{'s' * (len(paths) != 1)} changed from {indexed[:12]} to {fetched.commit[:12]}"
