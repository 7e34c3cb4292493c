"""Shared helpers of the tools: who is calling, their repository access, and result building."""

from __future__ import annotations

import dataclasses

from mcp_types import CallToolResult, TextContent

from codeindex import services
from codeindex.access import RepositoryAccess

from ..access import repository_access
from ..auth.identity import Caller, current_caller
from ..errors import ToolError, cited_commits
from .schemas import JobModel, RepositoryStatusModel, SearchHitModel, SignalsModel

__all__ = ["caller_of", "access_of", "result", "hit_model", "job_model", "repository_model", "actor_of"]


def caller_of() -> Caller:
    """The Caller of this request, as the server's permission middleware resolved it."""
    caller = current_caller()
    if caller is None:
        raise ToolError("this tool needs a signed-in caller")
    return caller


def access_of() -> RepositoryAccess:
    """The current caller's repository access."""
    return repository_access(caller_of())


def actor_of() -> str:
    """The current caller as a job's or feedback's ``requested_by``, e.g. ``ada via agent-1``."""
    caller = caller_of()
    return f"{caller.username or '-'} via {caller.client_id}"


def result(model, text: str, *, exclude_none: bool = False) -> CallToolResult:
    """The tool's answer: ``text`` for the agent, ``model`` as structured content. Every object in
    it that cites a file of a repository (``repository`` and ``path``) gets that repository's
    indexed ``commit`` (short SHA), and the text ends with the commits cited, so an agent always
    knows which revision the code it reads comes from (``[indexed at shop@3f2a9c1b7e40]``; ``…
    + uncommitted changes]`` when the working tree indexed differed from that commit). ``exclude_none`` leaves unset fields out of
    the structured content (compact answers)."""
    data = model.model_dump(mode="json", exclude_none=exclude_none)
    commits = cited_commits()
    cited: dict[str, services.IndexedCommit] = {}
    if commits:
        _stamp_commits(data, commits, cited)
    if cited:
        text = f"{text}\n[indexed at " + ", ".join(f"{name}@{at.label}" for name, at in sorted(cited.items())) + "]"
    return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=data)


def _stamp_commits(data, commits: dict[str, services.IndexedCommit], cited: dict[str, services.IndexedCommit]) -> None:
    if isinstance(data, list):
        for item in data:
            _stamp_commits(item, commits, cited)
    elif isinstance(data, dict):
        name = data.get("repository")
        if isinstance(name, str) and "path" in data and name in commits:
            data.setdefault("commit", commits[name].sha)
            cited[name] = commits[name]
        for value in data.values():
            if isinstance(value, (list, dict)):
                _stamp_commits(value, commits, cited)


def hit_model(hit, *, with_signals: bool = True, with_language: bool = True, with_snippet: bool = True) -> SearchHitModel:
    return SearchHitModel(
        repository=hit.repository, path=hit.path, start_line=hit.start_line, end_line=hit.end_line,
        symbol=hit.symbol or None, kind=hit.kind, language=hit.language if with_language else None,
        snippet=hit.snippet if with_snippet else None,
        score=round(hit.score, 3),
        signals=SignalsModel(**hit.signals) if with_signals and hit.signals else None,
    )


def job_model(job) -> JobModel | None:
    if job is None:
        return None
    data = dataclasses.asdict(job)
    data.update(percent=job.percent, phases=job.phase_rows)
    return JobModel(**{k: v for k, v in data.items() if k in JobModel.model_fields})


def repository_model(r) -> RepositoryStatusModel:
    return RepositoryStatusModel(
        name=r.name, file_count=r.file_count, chunk_count=r.chunk_count, embedded_chunks=r.embedded_chunks,
        last_indexed_at=r.last_indexed_at, source_url=r.source_url, visibility=r.visibility, skipped_counts=r.skipped_counts,
        active_job=job_model(r.active_job), last_job=job_model(r.last_job), embedding_coverage=r.embedding_coverage,
        embedding_job=job_model(r.embedding_job),
    )


def job_line(job) -> str:
    if job is None:
        return ""
    progress = f"{job.percent}%: " + "; ".join(
        f"{row['label'].lower()} {row['done']}/{row['total']} {row['unit']}" + ("" if row["state"] == "done" else f" ({row['state']})")
        for row in job.phase_rows) if job.phase_rows else f"{job.files_done}/{job.files_total} files"
    tail = f": {job.message}" if job.message else ""
    return f"job {job.id} ({job.kind}) {job.status}, {progress}{tail}"
