"""Index job progress by phase, one shape for the terminal, ``index_status``, the console and MCP
progress notifications.

A job runs its kind's phases in order; each phase knows its total when it starts and counts up to
it, so every figure here only moves forward:

==========  =====================================  ===========================================
phase       label                                  counts
==========  =====================================  ===========================================
files       Reading files                          files read and compared by content hash
chunks      Chunking and lexical indexing          changed files chunked and written (search
                                                   finds them as each batch commits)
embeddings  Embedding chunks                       chunks given a vector (dense signal)
==========  =====================================  ===========================================

A ``full`` or ``changed_files`` job runs files → chunks and then queues an ``embeddings`` job for
the chunks still without a vector, so a repository is searchable (lexically) as soon as its
chunks phase ends. ``percent`` weighs the phases of a kind by ``WEIGHTS``; a finished phase counts
whole, a phase not started counts zero.

    phase_rows(job)   # [{"name": "files", "label": "Reading files", "done": 200, "total": 200,
                      #   "state": "done", "percent": 100}, {"name": "chunks", …, "state": "running"}]
    percent(job)      # 63 (0–99 until the job is complete, then 100)
"""

from __future__ import annotations

from .choices import JobKind, JobStatus

__all__ = ["PHASES", "LABELS", "UNITS", "phases_of", "phase_rows", "percent"]

PHASES = {
    JobKind.FULL: ("files", "chunks"),
    JobKind.CHANGED_FILES: ("files", "chunks"),
    JobKind.EMBEDDINGS: ("embeddings",),
}
LABELS = {"files": "Reading files", "chunks": "Chunking and lexical indexing", "embeddings": "Embedding chunks"}
UNITS = {"files": "files", "chunks": "files", "embeddings": "chunks"}
#: Share of a job's bar per phase (reading is quick next to chunking).
WEIGHTS = {"files": 25, "chunks": 75, "embeddings": 100}


def phases_of(kind: str) -> tuple[str, ...]:
    return PHASES.get(kind, ())


def phase_rows(job) -> list[dict]:
    """Each phase of ``job`` (an ``IndexJob`` or ``JobInfo``: ``kind``, ``status``, ``phase``,
    ``phases``) with its counts, ``state`` ("waiting", "running", "done", "stopped") and whole
    ``percent``."""
    names = phases_of(job.kind)
    counts = dict(job.phases or {})
    # rows written before phases were recorded carry only the files_* and chunks_* (embedded) counts
    counts.setdefault("files", {"done": job.files_done, "total": job.files_total})
    counts.setdefault("embeddings", {"done": job.chunks_done, "total": job.chunks_total})
    current = job.phase if job.phase in names else ""
    if not current and job.status in (JobStatus.RUNNING, JobStatus.FAILED) and any(counts[n].get("total") for n in names if n in counts):
        current = next((n for n in names if n in counts and counts[n].get("done", 0) < counts[n].get("total", 0)), names[-1])
    reached = names.index(current) if current else (len(names) if job.status == JobStatus.COMPLETE else -1)
    rows = []
    for i, name in enumerate(names):
        done, total = int(counts.get(name, {}).get("done", 0)), int(counts.get(name, {}).get("total", 0))
        if job.status == JobStatus.COMPLETE or i < reached:
            state = "done"
        elif i == reached:
            state = "running" if job.status == JobStatus.RUNNING else "stopped"
        else:
            state = "waiting"
        share = 100 if state == "done" else (min(done * 100 // total, 99) if total > 0 else 0)
        rows.append({"name": name, "label": LABELS[name], "unit": UNITS[name], "done": done, "total": total,
                     "state": state, "percent": share})
    return rows


def percent(job) -> int:
    """Whole percent of the job, 0–100; 100 only once it is complete (a failed job keeps its figure)."""
    if job.status == JobStatus.COMPLETE:
        return 100
    rows = phase_rows(job)
    weight = sum(WEIGHTS[r["name"]] for r in rows) or 1
    return min(sum(WEIGHTS[r["name"]] * r["percent"] for r in rows) // weight, 99)
