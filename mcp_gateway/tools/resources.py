"""Indexed files as MCP resources (``repo://NAME/PATH``), and prompts for common searches.

Reading a resource needs the ``code:read`` scope and applies the same per-repository access as
the tools: a file of a repository the caller may not see is "not found", like a missing one.
Failures are the SDK's anticipated resource errors, never a crash with a logged traceback: an
unknown, hidden or vanished file is ``ResourceNotFoundError`` (JSON-RPC ``-32602``, MCP
2025-11-25 "Resources" §Error Handling as amended by SEP-2164), a missing scope a
``ResourceError`` (``-32603`` with its one-line reason).
"""

from __future__ import annotations

from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError

from codeindex import services
from codeindex.exceptions import FileNotIndexed, RepositoryNotFound
from oauth_app.tiers import SCOPE_CODE_READ

from ..errors import ToolError, run_service
from ..permissions import allowed_tools
from ..registry import prompt, resource
from ._support import access_of, caller_of

__all__ = ["repository_file", "find_implementation", "trace_dependencies"]


@resource("repo://{repository}/{+path}", title="Indexed source file", mime_type="text/plain")
async def repository_file(repository: str, path: str) -> str:
    """The current text of an indexed file, e.g. repo://shop/billing/invoice.py."""
    if not caller_of().has_scope(SCOPE_CODE_READ):
        raise ResourceError("insufficient_scope: reading files needs the 'code:read' scope")
    try:
        found = await run_service(services.read_file, repository, path, access=access_of())
    except ToolError as exc:
        if isinstance(exc.__cause__, (RepositoryNotFound, FileNotIndexed)):
            raise ResourceNotFoundError(str(exc)) from None
        raise ResourceError(str(exc)) from None
    return found.text


def _tools_of() -> set[str]:
    """Names of the tools this prompt's caller may call (a prompt must not send it to others)."""
    try:
        return {spec.name for spec in allowed_tools(caller_of())}
    except ToolError:
        return set()


@prompt(title="Find where something is implemented")
def find_implementation(what: str, repository: str | None = None) -> str:
    """Find the code that implements a behaviour, then read it (steps use only the tools you may call)."""
    tools = _tools_of()
    scope = f" in repository {repository!r}" if repository else ""
    steps = ["Call search_code with a short plain-words description (and repository if given)."]
    if "explain_ranking" in tools:
        steps.append("If the top results look wrong, call explain_ranking with the same query, then retry with an "
                     "identifier or a path_glob filter.")
    if {"file_outline", "find_definition"} <= tools:
        steps.append("Call file_outline on the best hit's file to see its definitions, and find_definition with a name "
                     "it uses (repository, path and line of the use) to follow it to its definition.")
    steps.append("Read the best hit through its repo://REPOSITORY/PATH resource at the given lines.")
    if "track_search_outcome" in tools:
        steps.append("Call track_search_outcome to say whether it was the answer.")
    numbered = "\n".join(f"{n}. {step}" for n, step in enumerate(steps, 1))
    return f"Find where this is implemented{scope}: {what}\n\n{numbered}\nAnswer with the file, the line range and a one-paragraph explanation."


@prompt(title="Trace what depends on a file")
def trace_dependencies(repository: str, path: str) -> str:
    """See what a file uses and what would break if it changed (steps use only the tools you may call)."""
    tools = _tools_of()
    if "analyze_context" in tools:
        first = (f"Call analyze_context for {repository}:{path}. List the files it depends on and the files that depend on it, "
                 "then")
    else:
        first = f"Call file_outline for {repository}:{path} to list the symbols it defines, then"
    return (f"{first} call find_references (repository {repository!r}, path {path!r} and each symbol's line) for the symbols it "
            "defines, and summarise the impact of changing each symbol.")
