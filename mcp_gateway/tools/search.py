"""Search tools: find code, explain a ranking, preview query processing, status and health."""

from __future__ import annotations

from typing import Annotated, Literal

from mcp_types import CallToolResult
from pydantic import Field

from codeindex import services
from mcprag_site import __version__
from oauth_app.tiers import SCOPE_CODE_READ

from ..errors import ToolError, run_service
from ..registry import tool
from ._support import access_of, hit_model, job_line, repository_model, result
from .schemas import (
    ExplainedHit,
    HealthStatus,
    IndexStatus,
    QueryPreviewModel,
    RankingExplanation,
    SearchResults,
    SignalsModel,
)

__all__ = ["search_code", "explain_ranking", "preview_query_processing", "index_status", "health_check"]

Query = Annotated[str, Field(description="What you are looking for, in plain words or identifiers, e.g. 'parse an HTTP date header' or 'getUserName'. Inline filters work too: repo:NAME lang:go path:src/** \"exact text\".")]
Repository = Annotated[str | None, Field(description="Only search this repository (its name as shown by index_status).")]
LanguageFilter = Annotated[str | None, Field(description="Only files of this language, e.g. 'python', 'typescript', 'go'.")]
PathGlob = Annotated[str | None, Field(description="Only paths matching this glob, e.g. 'src/**/*.ts' or '*_test.go' (no '/' = any directory); '*' and '?' stay within a directory, '**' crosses; at most 300 characters.")]
Exact = Annotated[list[str] | None, Field(description="Strings that must appear verbatim (case-sensitive) in the code; at most 5, each at most 200 characters.")]
MaxResults = Annotated[int, Field(ge=1, le=50, description="How many hits per page (1-50).")]
Page = Annotated[int, Field(ge=1, le=20, description="Page of results, from 1; the result says next_page.")]


def _format_hits(query: str, page: services.SearchPage) -> str:
    if not page.hits:
        return f"No code matched {query!r}."
    lines = [f"{len(page.hits)} result(s) for {query!r} (page {page.page}; signals: {', '.join(page.signals_used)}):"]
    for n, hit in enumerate(page.hits, (page.page - 1) * page.page_size + 1):
        where = f"{hit.repository}:{hit.path}:{hit.start_line}-{hit.end_line}"
        symbol = f" {hit.symbol}" if hit.symbol else ""
        lines.append(f"\n{n}. {where}{symbol} ({hit.kind}, score {hit.score:.3f})")
        lines.append("\n".join("    " + line for line in hit.snippet.splitlines()))
    if page.next_page:
        lines.append(f"\nMore: page={page.next_page}")
    return "\n".join(lines)


@tool(kind="search", scope=SCOPE_CODE_READ, title="Search code")
async def search_code(
    query: Query,
    repository: Repository = None,
    language: LanguageFilter = None,
    path_glob: PathGlob = None,
    exact: Exact = None,
    max_results: MaxResults = 10,
    page: Page = 1,
    detail_level: Annotated[Literal["full", "compact"], Field(description="full: a snippet per hit; compact: location, symbol and first line only (fewer tokens).")] = "full",
) -> Annotated[CallToolResult, SearchResults]:
    """Search the indexed repositories for code matching a query.

    Returns the best-matching chunks (functions, classes, methods or line windows), each with
    repository, path, line range, symbol, a snippet, a relevance score and the per-signal ranks
    behind it. Use it instead of grep to find where something is implemented; then read the file
    at the given lines. Names (getUserName, QuerySet.filter) are looked up exactly; plain words
    also use semantic (embedding) similarity. A hit's symbol, repository, path and start_line
    are what find_references and find_definition take.
    """
    request = services.SearchRequest(query, repository=repository, language=language, path_glob=path_glob, exact=tuple(exact or ()),
                                     max_results=max_results, page=page, detail_level=detail_level)
    found = await run_service(services.search_page, request, access=access_of())
    model = SearchResults(query=query, total=len(found.hits), page=found.page, next_page=found.next_page, intent=found.intent,
                          signals_used=found.signals_used, dense_note=found.dense_note,
                          hits=[hit_model(h) for h in found.hits])
    return result(model, _format_hits(query, found))


@tool(kind="search", scope=SCOPE_CODE_READ, title="Explain ranking")
async def explain_ranking(
    query: Query,
    repository: Repository = None,
    language: LanguageFilter = None,
    path_glob: PathGlob = None,
    max_results: Annotated[int, Field(ge=1, le=50, description="How many results to explain.")] = 10,
) -> Annotated[CallToolResult, RankingExplanation]:
    """Explain why search_code ranks its results as it does.

    For each result: its lexical rank and score (full-text index), dense rank and cosine
    similarity (embeddings), both normalised, the fusion weight, the fused score and any
    feedback boost. Use it when a result you expected is missing or ranked low.
    """
    request = services.SearchRequest(query, repository=repository, language=language, path_glob=path_glob, max_results=max_results)
    found = await run_service(services.explain, request, access=access_of())
    w = found.dense_weight
    formula = (f"score = ((1 - {w:g}) * lexical/max(lexical) + {w:g} * (dense - min)/(max - min)) * feedback_boost"
               if "dense" in found.signals_used else "score = lexical/max(lexical) * feedback_boost")
    results = [
        ExplainedHit(position=n, repository=h.repository, path=h.path, start_line=h.start_line, end_line=h.end_line,
                     symbol=h.symbol or None, score=h.score, signals=SignalsModel(**h.signals))
        for n, h in enumerate(found.hits, 1)
    ]
    model = RankingExplanation(query=query, intent=found.intent, signals_used=found.signals_used, dense_note=found.dense_note,
                               dense_weight=w, formula=formula, results=results)
    lines = [f"{formula}", f"intent: {found.intent}; signals: {', '.join(found.signals_used)}" + (f" ({found.dense_note})" if found.dense_note else "")]
    for r in results:
        s = r.signals
        lines.append(
            f"{r.position}. {r.repository}:{r.path}:{r.start_line} {r.symbol or ''} score {r.score:.4f} | "
            f"lexical rank {s.lexical.rank} score {s.lexical.score} norm {s.lexical.normalized:.3f} | "
            f"dense rank {s.dense.rank} score {s.dense.score} norm {s.dense.normalized:.3f} | "
            f"feedback x{s.feedback.boost:.3f} ({s.feedback.events} events)"
        )
    return result(model, "\n".join(lines) if results else f"No code matched {query!r}.")


@tool(kind="search", scope=SCOPE_CODE_READ, title="Preview query processing")
async def preview_query_processing(
    query: Query,
    repository: Repository = None,
    language: LanguageFilter = None,
    path_glob: PathGlob = None,
) -> Annotated[CallToolResult, QueryPreviewModel]:
    """Show how a query will be processed, without searching: the tokens sent to the index,
    the detected intent (identifier, path or natural language), rewrites (identifier splits,
    dropped stop words), the filters taken from the query and the signals that will be used."""
    request = services.SearchRequest(query, repository=repository, language=language, path_glob=path_glob)
    preview = await run_service(services.preview_query, request, access=access_of())
    model = QueryPreviewModel(**preview.__dict__)
    text = (f"tokens: {' '.join(preview.tokens)}\nintent: {preview.intent}\nsignals: {', '.join(preview.signals)}"
            + (f" ({preview.dense_note})" if preview.dense_note else "")
            + f"\nfilters: { {k: v for k, v in preview.filters.items() if v} }\n" + "\n".join(preview.rewrites))
    return result(model, text)


@tool(kind="search", scope=SCOPE_CODE_READ, title="Index status")
async def index_status(
    repository: Annotated[str | None, Field(description="Only this repository.")] = None,
) -> Annotated[CallToolResult, IndexStatus]:
    """List the indexed repositories you can see: file and chunk counts, how many chunks have
    embeddings, when each was last indexed, and the progress of any index job queued or running."""
    rows = await run_service(services.status, access=access_of())
    if repository is not None:
        rows = [r for r in rows if r.name == repository]
        if not rows:
            raise ToolError(f"no repository named {repository!r} is indexed")
    repos = [repository_model(r) for r in rows]
    lines = []
    for r in rows:
        when = r.last_indexed_at.isoformat() if r.last_indexed_at else "never"
        line = f"{r.name}: {r.file_count} files, {r.chunk_count} chunks ({r.embedded_chunks} embedded), last indexed {when}"
        if r.active_job:
            line += f"; {job_line(r.active_job)}"
        elif r.last_job:
            line += f"; last {job_line(r.last_job)}"
        lines.append(line)
    return result(IndexStatus(repositories=repos), "\n".join(lines) or "No repository is indexed yet.")


@tool(kind="search", scope=SCOPE_CODE_READ, title="Health check")
async def health_check() -> Annotated[CallToolResult, HealthStatus]:
    """Report whether the service works: database, lexical index, embedding model (when it is
    unavailable, search still works lexically and this says why), which dense engine serves
    (pgvector or in-memory) and which optional database extensions are installed."""
    h = await run_service(services.health, access=access_of())
    model = HealthStatus(version=__version__, **h.__dict__)
    text = (f"status: {h.status}; database: {h.database}; lexical index: {h.lexical_index}; "
            f"embeddings ({h.embedding_provider} {h.embedding_model}): {h.embeddings}; repositories: {h.repositories}; "
            f"chunks: {h.chunks} ({h.embedded_chunks} embedded); dense engine: {h.dense_engine}")
    if h.extensions:
        text += "; extensions: " + ", ".join(f"{name} {state}" for name, state in h.extensions.items())
    return result(model, text)
