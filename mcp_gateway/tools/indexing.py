"""Indexing tools: start index jobs (Celery tasks) and follow them with MCP progress notifications."""

from __future__ import annotations

import asyncio
import time
from typing import Annotated

from django.db import DatabaseError
from mcp.server.mcpserver import Context
from mcp_types import CallToolResult
from pydantic import Field

from codeindex import services
from codeindex.choices import JobKind, JobStatus
from oauth_app.tiers import SCOPE_INDEX_ADMIN

from ..errors import run_service
from ..registry import tool
from ._support import access_of, actor_of, job_line, job_model, result
from .schemas import EmbeddingValidation, JobModel

__all__ = ["index_repository", "index_changed_files", "backfill_embeddings", "validate_embeddings"]

Name = Annotated[str, Field(description="Repository name (letters, digits, '-' and '_').")]
Wait = Annotated[int, Field(ge=0, le=600, description="Seconds to wait for the job to finish while reporting progress (0: return at once).")]
_POLL_S = 0.3


async def _start_and_follow(ctx, wait: int, start, *args, **kwargs) -> CallToolResult:
    """Start a job, relay its progress as MCP progress notifications until it ends or ``wait`` passes;
    a job that ended failed answers ``isError`` (with the job, whose message says why).

    Only the job this call created is followed and answered: the start call announces it
    (``queued``) as soon as its row has committed, before it runs, so its progress is relayed also
    when the job runs inside the start call (no broker and no worker thread); a start that fails
    before queueing answers its own error."""
    access = access_of()
    loop = asyncio.get_running_loop()
    created: asyncio.Future[int] = loop.create_future()

    def queued(job) -> None:  # on the start call's thread
        try:
            loop.call_soon_threadsafe(lambda: created.done() or created.set_result(job.id))
        except RuntimeError:  # the loop has closed (the call was given up): nobody follows the job now
            pass

    starting = asyncio.ensure_future(run_service(start, *args, access=access, requested_by=actor_of(), queued=queued, **kwargs))
    await asyncio.wait({starting, created}, return_when=asyncio.FIRST_COMPLETED)
    if not created.done():
        created.set_result(starting.result().id)  # raises the start's ToolError, if any
    job_id = created.result()
    deadline = time.monotonic() + wait
    last, job = None, None
    while True:
        job = await _read(job_id, access) or job
        if job is not None:
            last = await _report(ctx, job, last)
        if starting.done() and (starting.exception() is not None or (job is not None and job.finished)
                                or wait == 0 or time.monotonic() >= deadline):
            break
        await asyncio.sleep(_POLL_S)
    started = await starting  # raises the start's ToolError, if any
    job = started if started.finished or job is None else job
    answer = result(job_model(job), job_line(job) + ("" if job.finished else " — still going; see index_status"))
    if job.status == JobStatus.FAILED:  # a failed job is a failed call (isError), its details still in the answer
        answer.is_error = True
    return answer


async def _read(job_id: int, access):
    try:
        return await run_service(services.job, job_id, access=access)
    except DatabaseError:  # the writer holds SQLite's lock for a moment; try again next tick
        return None


async def _report(ctx, job, last):
    """One MCP progress notification per change: ``progress`` is the job's whole percent (it only
    moves forward), ``total`` 100, the message names the running phase and its counts."""
    rows = job.phase_rows
    row = next((r for r in rows if r["state"] in ("running", "stopped")), rows[-1] if rows and job.finished else None)
    state = (job.status, job.percent, row["done"] if row else None)
    if state != last and ctx is not None and (last is None or job.percent >= last[1]):
        detail = f"{row['label']}: {row['done']}/{row['total']} {row['unit']}" if row else job.status
        await ctx.report_progress(job.percent, 100, f"{job.status}: {detail}")
    return state if last is None or job.percent >= last[1] else last


@tool(kind="indexing", scope=SCOPE_INDEX_ADMIN, title="Index a repository", read_only=False, idempotent=True)
async def index_repository(
    name: Name,
    source: Annotated[str | None, Field(description="git URL (https://, ssh:// or user@host:path, to a public host unless the operator allows more) or a directory on the server (only under the operator's MCPRAG_SOURCE_ROOTS; file:// likewise). Omit to refresh an indexed repository from its own source.")] = None,
    groups: Annotated[list[str] | None, Field(description="For a new repository: only members of these Django groups may see it (default: everyone signed in).")] = None,
    branch: Annotated[str | None, Field(max_length=200, description="git sources: the branch to index and keep in sync (default: the remote's default branch). The same URL may be indexed on another branch under another name.")] = None,
    wait: Wait = 120,
    ctx: Context | None = None,
) -> Annotated[CallToolResult, JobModel]:
    """Index (or refresh) a repository from a directory or git URL as a background job.

    An indexed repository is refreshed only from its own source: another source is refused.
    Only files whose content changed are re-chunked and re-embedded. Reports progress while it
    waits and returns the job (queued, running, complete or failed, with file counts, errors and
    timings). One job per repository runs at a time."""
    return await _start_and_follow(ctx, wait, services.start_index_job, source or "", name, groups=groups, branch=branch)


@tool(kind="indexing", scope=SCOPE_INDEX_ADMIN, title="Re-index changed files", read_only=False, idempotent=True)
async def index_changed_files(
    name: Name,
    paths: Annotated[list[str], Field(min_length=1, max_length=5000, description="Paths relative to the repository root that changed, were added or deleted.")],
    wait: Wait = 60,
    ctx: Context | None = None,
) -> Annotated[CallToolResult, JobModel]:
    """Re-index only the listed files of a repository (changed, new or deleted), e.g. after a commit."""
    return await _start_and_follow(ctx, wait, services.start_index_job, "", name, kind=JobKind.CHANGED_FILES, paths=paths)


@tool(kind="indexing", scope=SCOPE_INDEX_ADMIN, title="Backfill embeddings", read_only=False, idempotent=True)
async def backfill_embeddings(name: Name, wait: Wait = 120, ctx: Context | None = None) -> Annotated[CallToolResult, JobModel]:
    """Embed every chunk of a repository that has no vector for the current embedding model
    (after the model was unavailable, or after switching models), and embed again the chunks
    whose vector validate_embeddings reports stale or of the wrong size."""
    return await _start_and_follow(ctx, wait, _backfill, "", name)


def _backfill(source, name, *, access, requested_by, queued):
    return services.backfill_embeddings(name, access=access, requested_by=requested_by, queued=queued)


@tool(kind="indexing", scope=SCOPE_INDEX_ADMIN, title="Validate embeddings")
async def validate_embeddings(name: Name) -> Annotated[CallToolResult, EmbeddingValidation]:
    """Check a repository's vectors: chunks missing a vector, vectors of another model or size,
    and stale vectors whose chunk text changed. Run backfill_embeddings to repair."""
    check = await run_service(services.validate_embeddings, name, access=access_of())
    text = (f"{check.repository} ({check.model}): {check.chunks} chunks, {check.current} with current vectors, "
            f"{check.missing} missing, {check.other_model} of another model, {check.wrong_dimension} wrong size, "
            f"{check.stale} stale — {'ok' if check.ok else 'needs backfill_embeddings'}")
    return result(EmbeddingValidation(**check.__dict__), text)
