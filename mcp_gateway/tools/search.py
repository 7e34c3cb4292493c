"""Search tools: find code, explain a ranking, preview query processing, status and health."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Annotated, Literal

from mcp_types import CallToolResult
from pydantic import Field

from codeindex import services
from codeindex.choices import QueryIntent
from mcprag_site import __version__
from oauth_app.tiers import SCOPE_CODE_READ

from ..errors import ToolError, run_service
from ..registry import tool
from ._support import access_of, caller_of, hit_model, job_line, repository_model, result
from .schemas import (
    ContinueWith,
    ExplainedHit,
    HealthStatus,
    IndexStatus,
    QueryPreviewModel,
    RankingExplanation,
    SearchResults,
    SignalsModel,
)

__all__ = ["search_code", "explain_ranking", "preview_query_processing", "index_status", "health_check", "render_search",
           "SEARCH_DEFAULTS", "DEFAULT_MAX_TOKENS"]

#: What ``search_code`` asks the search service for when the caller gives no detail_level.
SEARCH_DEFAULTS = {"detail_level": "compact"}
#: The answer budget ``search_code`` stays under by default, in tokens of ~4 characters.
DEFAULT_MAX_TOKENS = 2000
MIN_MAX_TOKENS, MAX_MAX_TOKENS = 200, 20000
_CHARS_PER_TOKEN = 4

Query = Annotated[str, Field(max_length=2000, description="What you are looking for, in plain words or identifiers, e.g. 'parse an HTTP date header' or 'getUserName'; at most 2,000 characters. Inline filters work too: repo:NAME lang:go path:src/** -path:tests/** -lang:markdown \"exact text\".")]
Repository = Annotated[str | None, Field(description="Only search this repository (its name as shown by index_status).")]
LanguageFilter = Annotated[str | None, Field(description="Only files of this language, e.g. 'python', 'typescript', 'go'.")]
PathGlob = Annotated[str | None, Field(description="Only paths matching this glob, e.g. 'src/**/*.ts' or '*_test.go' (no '/' = any directory; 'src/' = everything under src); '*' and '?' stay within a directory, '**' crosses; at most 300 characters.")]
Exact = Annotated[list[str] | None, Field(description="Strings that must appear verbatim (case-sensitive) in the code; at most 5, each of 1-200 characters and not only spaces.")]
ExcludePaths = Annotated[list[str] | None, Field(max_length=10, description="Leave out paths matching any of these globs (same syntax as path_glob), e.g. ['tests/**', '*.md']; inline: -path:GLOB.")]
ExcludeTests = Annotated[bool, Field(description="Leave out test files (tests/ and test/ directories, test_*.py, *_test.go, *.test.ts, *.spec.js, ...). Without it, test files still rank below the code they test unless the query asks for tests.")]
MaxResults = Annotated[int, Field(ge=1, le=50, description="How many hits per page (1-50).")]
Page = Annotated[int, Field(ge=1, le=20, description="Page of results, from 1; the result says next_page.")]


def _continuation(page: services.SearchPage, shown: int, omitted: int) -> ContinueWith | None:
    """The page and max_results whose page starts right after the ``shown`` hits of ``page``:
    ``page.next_page`` at the same size when every hit of the page was shown, else the largest
    size up to ``shown`` whose pages meet that hit (within ``MAX_PAGE``); None when no hit follows
    or none of those reaches it."""
    after = (page.page - 1) * page.page_size + shown  # hits before the first one not shown
    if after >= page.candidates or not shown:
        return None
    if not omitted:
        return ContinueWith(page=page.next_page, max_results=page.page_size) if page.next_page else None
    for size in range(min(shown, services.MAX_RESULTS_LIMIT), 0, -1):
        if after % size == 0 and after // size + 1 <= services.MAX_PAGE:
            return ContinueWith(page=after // size + 1, max_results=size)
    return None


def _format_hits(page: services.SearchPage, hits: list, omitted: int, max_tokens: int,
                 following: ContinueWith | None = None) -> str:
    if not hits:
        if page.candidates > (page.page - 1) * page.page_size:  # hits exist, but max_tokens left out every one
            return f"Every hit was left out to stay under max_tokens={max_tokens}: raise max_tokens."
        if page.candidates:
            pages = -(-page.candidates // page.page_size)
            return (f"Page {page.page} is past the end: {page.candidates} hit(s) in all, "
                    f"{pages} page(s) of {page.page_size}.")
        # why the dense signal was not used says something only where it would have been
        why = f" ({page.dense_note})" if page.dense_note and page.intent == QueryIntent.NATURAL_LANGUAGE else ""
        return "No code matched the query." + why
    repositories = {hit.repository for hit in hits}
    only = f" in {next(iter(repositories))}" if len(repositories) == 1 else ""  # then paths need no repository prefix
    lines = [f"{len(hits)} of {page.candidates} hit(s){only}, page {page.page} ({'+'.join(page.signals_used)}; score 0-1, higher is better):"]
    for n, hit in enumerate(hits, (page.page - 1) * page.page_size + 1):
        symbol = f" {hit.symbol}" if hit.symbol else ""
        where = f"{hit.path}" if only else f"{hit.repository}:{hit.path}"
        lines.append(f"{n}. {where}:{hit.start_line}-{hit.end_line}{symbol} {hit.score:.2f}")  # kind: structured only
        lines.extend("   " + line for line in hit.snippet.splitlines())
    if page.dense_coverage is not None and page.dense_coverage < 1:
        lines.append(f"Embeddings cover {page.dense_coverage:.0%} of the searched code so far; the rest was ranked lexically.")
    last = (page.page - 1) * page.page_size + len(hits)
    if omitted:
        # page=next_page would start after this page's max_results hits: these would be skipped
        lines.append(f"{omitted} more hit(s) of this page left out to stay under max_tokens={max_tokens}; "
                     + (f"to go on from hit {last + 1}, pass page={following.page} max_results={following.max_results} "
                        "(or raise max_tokens)." if following else "raise max_tokens to see them."))
    elif following:
        lines.append(f"More: page={following.page}")
    if page.note:
        lines.append(f"Note: {page.note}")
    return "\n".join(lines)


def render_search(query: str, page: services.SearchPage, *, detail_level: str = "compact",
                  max_tokens: int = DEFAULT_MAX_TOKENS) -> tuple[SearchResults, str]:
    """The structured and the text answer of ``search_code`` for one page of hits.

    Each carries every hit once, in its own form: the text as lines to read (location, symbol,
    score and snippet), the structured content as fields to pass on (location, symbol, kind,
    score; the snippet, language and per-signal detail only when ``detail_level`` is ``full``;
    the query is not echoed back). The two together stay under ``max_tokens`` × 4 characters: snippets are cut to
    their first line, then hits are left out from the end (the answer says how many). Both say how
    to go on right after the last hit shown (``continue_with``); ``next_page`` is left out when
    hits were, since that page would start after them.
    """
    hits = list(page.hits)
    full = detail_level == "full"
    omitted = 0
    budget = max_tokens * _CHARS_PER_TOKEN

    def build(chosen):
        following = _continuation(page, len(chosen), omitted)
        model = SearchResults(total=len(chosen), hits_in_all=page.candidates, page=page.page,
                              next_page=None if omitted else page.next_page, continue_with=following, intent=page.intent,
                              signals_used=page.signals_used, dense_note=page.dense_note, dense_coverage=page.dense_coverage, omitted=omitted,
                              note=page.note,
                              hits=[hit_model(h, with_signals=full, with_language=full, with_snippet=full) for h in chosen])
        return model, _format_hits(page, chosen, omitted, max_tokens, following)

    model, text = build(hits)
    while hits and len(text) + len(json.dumps(model.model_dump(mode="json", exclude_none=True), ensure_ascii=False)) > budget:
        shortened = [replace(h, snippet=h.snippet.split("\n", 1)[0]) for h in hits]
        if shortened != hits:
            hits = shortened
        else:
            hits, omitted = hits[:-1], omitted + 1
        model, text = build(hits)
    return model, text


@tool(kind="search", scope=SCOPE_CODE_READ, title="Search code")
async def search_code(
    query: Query,
    repository: Repository = None,
    language: LanguageFilter = None,
    path_glob: PathGlob = None,
    exact: Exact = None,
    exclude_paths: ExcludePaths = None,
    exclude_tests: ExcludeTests = False,
    max_results: MaxResults = 10,
    page: Page = 1,
    detail_level: Annotated[Literal["compact", "full"], Field(description="compact (default): location, symbol, the first line and the lines holding the query's words; full: the first 15 lines of each hit and the per-signal scores behind its rank.")] = "compact",
    max_tokens: Annotated[int, Field(ge=MIN_MAX_TOKENS, le=MAX_MAX_TOKENS, description=f"Keep the whole answer under about this many tokens ({MIN_MAX_TOKENS}-{MAX_MAX_TOKENS}; 1 token = 4 characters): snippets are shortened, then the last hits left out.")] = DEFAULT_MAX_TOKENS,
) -> Annotated[CallToolResult, SearchResults]:
    """Search the indexed repositories for code matching a query.

    Returns the best-matching chunks (functions, classes, methods or line windows), each with
    repository, path, line range, symbol, a short snippet (numbered lines) and a relevance score
    from 0 to 1. Use it instead of grep to find where something is implemented; then read the
    file at the given lines. Names (getUserName, QuerySet.filter) are looked up exactly; plain
    words also use semantic (embedding) similarity. No hits means nothing matched well enough.
    Test files rank below the code they test unless the query mentions tests. A hit's symbol,
    repository, path and start_line are what find_references and find_definition take.
    Paging: hits_in_all counts every page's hits; continue_with gives the page and max_results
    that go on right after the last hit shown. When max_tokens left hits of this page out
    (omitted), next_page is null (it would skip them) and continue_with has a smaller max_results.
    """
    request = services.SearchRequest(query, repository=repository, language=language, path_glob=path_glob, exact=tuple(exact or ()),
                                     exclude_paths=tuple(exclude_paths or ()), exclude_tests=exclude_tests,
                                     max_results=max_results, page=page, detail_level=detail_level)
    found = await run_service(services.search_page, request, access=access_of())
    model, text = render_search(query, found, detail_level=detail_level, max_tokens=max_tokens)
    return result(model, text, exclude_none=True)


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
    formula = (f"score = ((1 - {w:g}) * lexical/max(lexical) + {w:g} * (dense - min)/(max - min)) * feedback_boost * test_factor"
               if "dense" in found.signals_used else "score = lexical/max(lexical) * feedback_boost * test_factor")
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
            + (f" | test file x{s.test_factor:g}" if s.test_factor != 1 else "")
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
        coverage = f", {r.embedding_coverage:.0%} of them" if r.embedding_coverage is not None else ""
        embedded = f" ({r.embedded_chunks:,} embedded{coverage})" if r.chunk_count else ""
        line = f"{r.name}: {r.file_count:,} files, {r.chunk_count:,} chunks{embedded}, last indexed {when}"
        if r.active_job:
            line += f"; {job_line(r.active_job)}"
        elif r.last_job:
            line += f"; last {job_line(r.last_job)}"
        if r.embedding_job and r.embedding_job is not r.active_job and r.embedding_job.id != getattr(r.active_job, "id", None):
            line += f"; embedding {job_line(r.embedding_job)}"
        lines.append(line)
    return result(IndexStatus(repositories=repos), "\n".join(lines) or "No repository is indexed yet.")


@tool(kind="search", scope=SCOPE_CODE_READ, title="Health check")
async def health_check() -> Annotated[CallToolResult, HealthStatus]:
    """Report whether the service works: database, lexical index, embedding model (when it is
    unavailable, search still works lexically and this says why), which dense engine serves
    (pgvector or in-memory) and which optional database extensions are installed."""
    h = await run_service(services.health, access=access_of())
    caller = caller_of()
    model = HealthStatus(version=__version__, signed_in_as=caller.username, tier=caller.tier, **h.__dict__)
    text = (f"status: {h.status}; database: {h.database}; lexical index: {h.lexical_index}; "
            f"embeddings ({h.embedding_provider} {h.embedding_model}): {h.embeddings}; repositories: {h.repositories}; "
            f"chunks: {h.chunks} ({h.embedded_chunks} embedded"
            + (f", {h.embedding_coverage:.0%}" if h.embedding_coverage is not None else "") + f"); dense engine: {h.dense_engine}")
    if h.extensions:
        text += "; extensions: " + ", ".join(f"{name} {state}" for name, state in h.extensions.items())
    return result(model, text)
