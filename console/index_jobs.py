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
    """Whole percent of the work done, 0–100, phase by phase (``codeindex.progress.percent``):
    it only moves forward. Only a ``complete`` job shows 100; a job still going (or one that
    failed) stays at most 99, so the bar never claims "done" for a job that is not."""
    return job.percent


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
         "display": {"status": "Running", "status_badge": "warn", "files": "84 / 200",
                     "phase": "Reading files (phase 1 of 2)", "phase_files": "84 / 200 files · running", …}}

    ``percent`` and each phase's counts only move forward (``codeindex.progress``).
    """
    errors = file_errors(job)
    count = max(len(errors), job.error_count)
    elapsed = duration_ms(job, now)
    percent = percent_done(job)
    phases = [dict(row, display=_phase_count(row)) for row in job.phase_rows]
    running = next((row for row in phases if row["state"] in ("running", "stopped")), None)
    return {
        "id": job.id, "repository": job.repository, "kind": job.kind, "status": job.status, "finished": job.finished,
        "files_done": job.files_done, "files_total": job.files_total, "chunks_done": job.chunks_done,
        "chunks_total": job.chunks_total, "percent": percent, "phase": job.phase, "phases": phases,
        "current_path": job.current_path, "message": job.message,
        "created_at": job.created_at.isoformat(), "started_at": job.started_at.isoformat() if job.started_at else None,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None, "duration_ms": elapsed,
        "error_count": count, "errors": errors[:max(0, errors_limit)],
        "display": {
            "status": JobStatus(job.status).label if job.status in JobStatus.values else job.status,
            "status_badge": STATUS_BADGE.get(job.status, ""),
            "files": f"{job.files_done} / {job.files_total}",
            "chunks": f"{job.chunks_done} / {job.chunks_total}" if job.chunks_total else "—",
            "percent": f"{percent} %",
            "phase": _phase_text(running, job),
            **{f"phase_{row['name']}": _phase_count(row) for row in phases},
            "started_at": _when(job.started_at), "finished_at": _when(job.finished_at),
            "duration": duration_text(elapsed), "message": job.message or "—",
            "current_path": job.current_path or "—", "error_count": str(count), "errors_note": _errors_note(job, count),
        },
    }


def _phase_text(row: dict | None, job: JobInfo) -> str:
    """"Reading files (1 of 2)", "Queued", "Complete"…: the phase the bar is in, as the page says it."""
    if row is None:
        return JobStatus(job.status).label if job.status in JobStatus.values else job.status
    names = [r["name"] for r in job.phase_rows]
    where = f" (phase {names.index(row['name']) + 1} of {len(names)})" if len(names) > 1 else ""
    return f"{row['label']}{where}" + (" — stopped" if row["state"] == "stopped" else "")


def _phase_count(row: dict) -> str:
    """"84 / 200 files · running", "— · waiting"."""
    counts = f"{row['done']:,} / {row['total']:,} {row['unit']}" if row["total"] or row["state"] != "waiting" else "—"
    return f"{counts} · {row['state']}"


def _errors_note(job: JobInfo, count: int) -> str:
    if not job.finished:
        return "Files that cannot be read are listed here when the job ends."
    if not count:
        return "Every file was read."
    return f"{count} file{'' if count == 1 else 's'} could not be indexed:"

