"""Git history tools: list and search commits, blame lines, show what a commit or a range changed.

They read each repository's partial clone at its indexed commit, within the caller's repository
access (a hidden repository is answered like an unknown one). Caller text is matched as a fixed
string; revisions are commit SHAs or branch/tag names, never git options.
"""

from __future__ import annotations

from typing import Annotated

from mcp_types import CallToolResult
from pydantic import Field

from codeindex import services
from oauth_app.tiers import SCOPE_CODE_READ

from ..errors import run_service
from ..registry import tool
from ._support import access_of, result
from .history_schemas import (
    BlameLineModel,
    BlameModel,
    CommitList,
    CommitMatchModel,
    CommitModel,
    CommitSearchResults,
    DiffFileModel,
    DiffModel,
)

__all__ = ["list_commits", "blame", "diff", "compare", "search_commits"]

RepositoryName = Annotated[str, Field(description="Repository name, as list_repositories shows it.")]
Revision = Annotated[str, Field(description="A commit SHA (7-40 hex digits) or a branch or tag name, optionally with ~N or ^N.",
                                max_length=220)]
_TEXT = f"1-{services.MAX_TEXT_LENGTH} characters, matched as a fixed string"


def _commit(c) -> CommitModel:
    return CommitModel(commit=c.sha, short=c.short, author=c.author, email=c.email, date=c.date, subject=c.subject, body=c.body)


def _commit_line(c) -> str:
    return f"{c.short} {c.date.date().isoformat()} {c.author}: {c.subject}"


@tool(kind="history", scope=SCOPE_CODE_READ, title="List commits")
async def list_commits(
    repository: RepositoryName,
    path: Annotated[str | None, Field(description="Only commits that changed this file or directory, e.g. 'oauth_app/views/token.py'.")] = None,
    author: Annotated[str | None, Field(description=f"Only commits whose author name or email contains this ({_TEXT}, any case).")] = None,
    since: Annotated[str | None, Field(description="Only commits at or after this ISO-8601 date or time, e.g. '2026-11-01' (from the start of that day, UTC).")] = None,
    until: Annotated[str | None, Field(description="Only commits at or before this ISO-8601 date or time; a date alone includes that whole day (UTC).")] = None,
    query: Annotated[str | None, Field(description=f"Only commits whose message contains this ({_TEXT}, any case).")] = None,
    page: Annotated[int, Field(description=f"Page of {services.COMMITS_PAGE_SIZE} commits, from 1; the result says next_page.",
                               ge=1, le=services.MAX_COMMITS_PAGE)] = 1,
) -> Annotated[CallToolResult, CommitList]:
    """List the commits of a repository's indexed branch, newest first, from the indexed commit
    back: SHA, author, date, subject and message. Filter by path, author, date range or message
    text, e.g. "what changed in oauth_app/views/token.py since 2026-11-01"."""
    found = await run_service(services.list_commits, repository, access=access_of(), path=path, author=author, since=since,
                              until=until, query=query, page=page)
    model = CommitList(repository=found.repository, branch=found.branch, indexed_commit=found.indexed_commit, page=found.page,
                       next_page=found.next_page, commits=[_commit(c) for c in found.commits], note=found.note or None)
    lines = [f"{found.repository} ({found.branch or 'branch unknown'} at {found.indexed_commit[:12]}), page {found.page}:"]
    if found.note:
        lines.append(f"Note: {found.note}.")
    lines += [_commit_line(c) for c in found.commits] or ["No commit matches."]
    if found.next_page:
        lines.append(f"More: page={found.next_page}")
    return result(model, "\n".join(lines))


@tool(kind="history", scope=SCOPE_CODE_READ, title="Blame")
async def blame(
    repository: RepositoryName,
    path: Annotated[str, Field(description="File path from the repository root.")],
    start_line: Annotated[int, Field(description="First line, 1-based.", ge=1)],
    end_line: Annotated[int, Field(description=f"Last line, inclusive (at most {services.MAX_BLAME_LINES} lines per call).", ge=1)],
) -> Annotated[CallToolResult, BlameModel]:
    """Who last changed each line of a file at the indexed commit: per line the commit, author,
    date and commit subject (git blame). Use the line numbers read_file or search_code give."""
    found = await run_service(services.blame, repository, path, start_line, end_line, access=access_of())
    model = BlameModel(repository=found.repository, path=found.path, commit=found.commit, start_line=found.start_line,
                       end_line=found.end_line, lines=[BlameLineModel(**line.__dict__) for line in found.lines], note=found.note or None)
    lines = [f"{found.repository}:{found.path} lines {found.start_line}-{found.end_line} at {found.commit[:12]}"]
    if found.note:
        lines.append(f"Note: {found.note}.")
    lines += [f"{b.line}\t{b.commit[:12]} {b.date.date().isoformat()} {b.author[:20]}\t{b.text}" for b in found.lines]
    return result(model, "\n".join(lines))


def _diff_result(found) -> CallToolResult:
    model = DiffModel(repository=found.repository, base=found.base, head=found.head,
                      commit=_commit(found.commit) if found.commit else None,
                      files=[DiffFileModel(**f.__dict__) for f in found.files], patch=found.patch, truncated=found.truncated,
                      max_bytes=found.max_bytes)
    head = [f"{found.repository}: {found.base[:12] or '(root)'}..{found.head[:12]}, {len(found.files)} files"]
    if found.commit:
        head.append(_commit_line(found.commit))
    head += [f"  {f.path} +{f.additions if f.additions is not None else '-'} -{f.deletions if f.deletions is not None else '-'}"
             for f in found.files[:200]]
    tail = [f"(patch cut at {found.max_bytes} bytes; pass path to see one file)"] if found.truncated else []
    return result(model, "\n".join([*head, "", found.patch, *tail]))


@tool(kind="history", scope=SCOPE_CODE_READ, title="Show a commit's diff")
async def diff(
    repository: RepositoryName,
    commit: Revision,
    path: Annotated[str | None, Field(description="Only this file or directory.")] = None,
) -> Annotated[CallToolResult, DiffModel]:
    """What one commit changed (against its first parent): the files with lines added and
    deleted, and the unified diff, cut at 64 KB (truncated says so; pass path for one file)."""
    return _diff_result(await run_service(services.diff, repository, commit, path=path, access=access_of()))


@tool(kind="history", scope=SCOPE_CODE_READ, title="Compare two commits")
async def compare(
    repository: RepositoryName,
    base: Revision,
    head: Revision,
    path: Annotated[str | None, Field(description="Only this file or directory.")] = None,
) -> Annotated[CallToolResult, DiffModel]:
    """The change from commit base to commit head (git diff base head): files with lines added
    and deleted, and the unified diff, cut at 64 KB (truncated says so; pass path for one file)."""
    return _diff_result(await run_service(services.compare, repository, base, head, path=path, access=access_of()))


@tool(kind="history", scope=SCOPE_CODE_READ, title="Search commits")
async def search_commits(
    query: Annotated[str, Field(description=f"Text to find in commit messages ({_TEXT}, any case).")],
    repository: Annotated[str | None, Field(description="Only this repository (default: every repository you can read).")] = None,
    in_diff: Annotated[bool, Field(description=f"Also find commits that added or removed this text in a file (case-sensitive; "
                                                f"the newest {services.IN_DIFF_SCAN} commits of each repository).")] = False,
) -> Annotated[CallToolResult, CommitSearchResults]:
    """Find commits by message text, and with in_diff=true by the lines they changed, newest
    first, across your repositories or one: e.g. "token endpoint" or a function name."""
    found = await run_service(services.search_commits, query, repository=repository, in_diff=in_diff, access=access_of())
    model = CommitSearchResults(query=found.query, in_diff=found.in_diff, matches=[
        CommitMatchModel(**_commit(c).model_dump(), repository=name, matched=how) for name, c, how in found.matches])
    lines = [f"{name}: {_commit_line(c)} ({how})" for name, c, how in found.matches] or [f"No commit matches {found.query!r}."]
    return result(model, "\n".join(lines))
