"""The one place codeindex exceptions become MCP tool errors (``isError: true`` with one line)."""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from django.db import close_old_connections
from mcp.server.mcpserver.exceptions import ToolError

from codeindex import services
from codeindex.exceptions import CodeIndexError

from .threads import in_thread

__all__ = ["ToolError", "run_service", "cited_commits"]

# The indexed commit of each repository the caller sees, as of the tool's last service call; the
# tool's result (``tools._support.result``) stamps it on everything that cites a repository's code.
_commits: ContextVar[dict[str, services.IndexedCommit] | None] = ContextVar("mcprag_cited_commits", default=None)


def _call(fn: Callable[..., Any], args, kwargs):
    close_old_connections()
    try:
        value = fn(*args, **kwargs)
        access = kwargs.get("access")
        return value, (services.indexed_commits(access) if access is not None else None)
    except CodeIndexError as exc:
        raise ToolError(str(exc)) from exc
    finally:
        close_old_connections()


async def run_service(fn: Callable[..., Any], *args, **kwargs):
    """Run a blocking codeindex service call in a worker thread; its errors become ToolError.
    With ``access``, the indexed commits of the caller's repositories are read in the same
    thread, for the result to cite (``cited_commits``)."""
    value, commits = await in_thread(_call, fn, args, kwargs)
    if commits is not None:
        _commits.set(commits)
    return value


def cited_commits() -> dict[str, services.IndexedCommit]:
    """``{repository: IndexedCommit}`` (short SHA, dirty tree) read by this tool call's service calls (empty before any)."""
    return _commits.get() or {}
