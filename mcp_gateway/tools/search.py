"""Search tools: find code, see what is indexed, check the service."""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import Context
from mcp_types import CallToolResult, TextContent
from pydantic import Field

from codeindex import services
from oauth_app.tiers import SCOPE_CODE_READ

from ..errors import run_service
from ..registry import tool
from .schemas import HealthStatus, IndexStatus, RepositoryStatusModel, SearchHitModel, SearchResults

__all__ = ["search_code", "index_status", "health_check"]


def _result(model, text: str) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=model.model_dump(mode="json"))


def _format_hits(query: str, hits: list[SearchHitModel]) -> str:
    if not hits:
        return f"No code matched {query!r}."
    lines = [f"{len(hits)} result(s) for {query!r}:"]
    for n, hit in enumerate(hits, 1):
        where = f"{hit.repository}:{hit.path}:{hit.start_line}-{hit.end_line}"
        symbol = f" {hit.symbol}" if hit.symbol else ""
        lines.append(f"\n{n}. {where}{symbol} ({hit.kind}, score {hit.score:.3f})")
        lines.append("\n".join("    " + line for line in hit.snippet.splitlines()))
    return "\n".join(lines)


@tool(kind="search", scope=SCOPE_CODE_READ, title="Search code")
async def search_code(
    query: Annotated[str, Field(description="What you are looking for, in plain words or identifiers, e.g. 'parse an HTTP date header' or 'getUserName'.")],
    repository: Annotated[str | None, Field(description="Only search this repository (its name as shown by index_status).")] = None,
    language: Annotated[str | None, Field(description="Only search files of this language, e.g. 'python'.")] = None,
    max_results: Annotated[int, Field(ge=1, le=50, description="How many hits to return (1-50).")] = 10,
    ctx: Context | None = None,
) -> Annotated[CallToolResult, SearchResults]:
    """Search the indexed repositories for code matching a query.

    Returns the best-matching chunks (functions, classes, methods or line windows), each with
    repository, path, line range, symbol, a snippet and a relevance score. Use it instead of grep
    to find where something is implemented; then read the file at the given lines.
    """
    hits = await run_service(services.search, query, repository=repository, language=language, max_results=max_results)
    models = [
        SearchHitModel(
            repository=h.repository, path=h.path, start_line=h.start_line, end_line=h.end_line,
            symbol=h.symbol or None, kind=h.kind, language=h.language, snippet=h.snippet, score=round(h.score, 6),
        )
        for h in hits
    ]
    return _result(SearchResults(query=query, total=len(models), hits=models), _format_hits(query, models))


@tool(kind="search", scope=SCOPE_CODE_READ, title="Index status")
async def index_status(ctx: Context | None = None) -> Annotated[CallToolResult, IndexStatus]:
    """List the indexed repositories with their file and chunk counts and when each was last indexed."""
    rows = await run_service(services.status)
    repos = [
        RepositoryStatusModel(name=r.name, file_count=r.file_count, chunk_count=r.chunk_count, last_indexed_at=r.last_indexed_at)
        for r in rows
    ]
    if repos:
        text = "\n".join(
            f"{r.name}: {r.file_count} files, {r.chunk_count} chunks, last indexed "
            f"{r.last_indexed_at.isoformat() if r.last_indexed_at else 'never'}"
            for r in repos
        )
    else:
        text = "No repository is indexed yet."
    return _result(IndexStatus(repositories=repos), text)


@tool(kind="search", scope=SCOPE_CODE_READ, title="Health check")
async def health_check(ctx: Context | None = None) -> Annotated[CallToolResult, HealthStatus]:
    """Report whether the service and its search index are working."""
    from ..health import check

    health = await run_service(check)
    text = f"status: {health.status}; database: {health.database}; lexical index: {health.lexical_index}; repositories: {health.repositories}"
    return _result(health, text)
