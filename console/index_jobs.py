"""What the console shows of index jobs: the operator's view of the engine, and one progress shape
for both the job page and ``/console/jobs/<id>/progress.json`` (a polled update and a fresh page
load render the same words, computed here once).

    doc = progress_document(codeindex.job(12, access=OPERATOR_ACCESS))
    doc["status"], doc["percent"], doc["display"]["files"]      # "running", 42, "84 / 200"

Everything here reads ``codeindex.services`` results (``JobInfo``); nothing writes.
"""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from codeindex.access import SYSTEM
from codeindex.choices import JobStatus
from codeindex.services import JobInfo


__all__ = [
    "OPERATOR_ACCESS", "ERRORS_PER_PAGE", "STATUS_BADGE",
    "percent_done", "duration_ms", "duration_text", "file_errors", "progress_document",
]

#: Operators administer every repository, whatever its visibility (the Django admin shows them
#: all too), so console pages read the engine with the system view. Every console view is behind
#: ``OperatorRequiredMixin`` (active staff, MFA as configured); tool callers never get this.
OPERATOR_ACCESS = SYSTEM

#: Per-file errors shown per page on the job page (and sent in ``progress.json``).
ERRORS_PER_PAGE = 50

#: Badge class of each job status in console templates (``.badge.ok`` …).
STATUS_BADGE = {JobStatus.QUEUED: "warn", JobStatus.RUNNING: "warn", JobStatus.COMPLETE: "ok", JobStatus.FAILED: "error"}


def percent_done(job: JobInfo) -> int:
    """Whole percent of the work done, 0–100: files read, then chunks embedded.

    Only a ``complete`` job shows 100; a job still going (or one that failed) stays at most 99,
    so the bar never claims "done" for a job that is not.
    """
    if job.status == JobStatus.COMPLETE:
        return 100
    total = job.files_total + job.chunks_total
    if total <= 0:
        return 0
    done = min(job.files_done + job.chunks_done, total)
    return min(done * 100 // total, 99)


def duration_ms(job: JobInfo, now: datetime | None = None) -> int | None:
    """Milliseconds from start to finish (to ``now`` while running); None before it starts."""
    if job.started_at is None:
        return None
    end = job.finished_at or now or timezone.now()
    return max(0, round((end - job.started_at).total_seconds() * 1000))


def duration_text(ms: int | None) -> str:
    """``None`` → "—"; 850 → "850 ms"; 12_340 → "12.3 s"; 185_000 → "3 min 05 s"; 7_300_000 → "2 h 01 min"."""
    if ms is None:
        return "—"
    if ms < 1000:
        return f"{ms} ms"
    if ms < 60_000:
        return f"{ms / 1000:.1f} s"
    seconds = ms // 1000
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def file_errors(job: JobInfo) -> list[dict]:
    """Every per-file error of a finished job, as ``[{"path": "docs/x.md", "message": "cannot read: …"}]``.

    The runner writes them when the job ends: the report keeps all of them, ``JobInfo.errors``
    only the first few, so the report is preferred. A running job has none yet.
    """
    errors = (job.report or {}).get("errors")
    return list(errors) if isinstance(errors, list) and errors else list(job.errors)


def _when(value: datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S") if value else "—"


def progress_document(job: JobInfo, *, errors_limit: int = ERRORS_PER_PAGE, now: datetime | None = None) -> dict:
    """The job's state for ``progress.json`` and the job page.

    Numbers are raw (``files_done``, ``percent`` …, times ISO 8601 or null, ``duration_ms`` in
    milliseconds); ``display`` holds the same values as the page prints them; ``errors`` the
    first ``errors_limit`` per-file errors and ``error_count`` how many there are in all::

        {"id": 12, "repository": "shop", "kind": "full", "status": "running", "finished": false,
         "files_done": 84, "files_total": 200, "chunks_done": 0, "chunks_total": 0, "percent": 42,
         "current_path": "src/app.py", "message": "", "started_at": "2025-05-01T10:00:00+00:00",
         "finished_at": null, "duration_ms": 3100, "error_count": 0, "errors": [],
         "display": {"status": "Running", "status_badge": "warn", "files": "84 / 200", …}}
    """
    errors = file_errors(job)
    count = max(len(errors), job.error_count)
    elapsed = duration_ms(job, now)
    percent = percent_done(job)
    return {
        "id": job.id, "repository": job.repository, "kind": job.kind, "status": job.status, "finished": job.finished,
        "files_done": job.files_done, "files_total": job.files_total, "chunks_done": job.chunks_done,
        "chunks_total": job.chunks_total, "percent": percent, "current_path": job.current_path, "message": job.message,
        "created_at": job.created_at.isoformat(), "started_at": job.started_at.isoformat() if job.started_at else None,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None, "duration_ms": elapsed,
        "error_count": count, "errors": errors[:max(0, errors_limit)],
        "display": {
            "status": JobStatus(job.status).label if job.status in JobStatus.values else job.status,
            "status_badge": STATUS_BADGE.get(job.status, ""),
            "files": f"{job.files_done} / {job.files_total}",
            "chunks": f"{job.chunks_done} / {job.chunks_total}" if job.chunks_total else "—",
            "percent": f"{percent} %",
            "started_at": _when(job.started_at), "finished_at": _when(job.finished_at),
            "duration": duration_text(elapsed), "message": job.message or "—",
            "current_path": job.current_path or "—", "error_count": str(count), "errors_note": _errors_note(job, count),
        },
    }


def _errors_note(job: JobInfo, count: int) -> str:
    if not job.finished:
        return "Files that cannot be read are listed here when the job ends."
    if not count:
        return "Every file was read."
    return f"{count} file{'' if count == 1 else 's'} could not be indexed:"

