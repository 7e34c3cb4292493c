"""Search: ranked chunks for a query, the same with every signal explained, and a dry run.

A query ranks chunks by the lexical index (FTS5 or PostgreSQL full-text) and, for plain-words
queries, by embedding similarity too; the two are fused (``fusion.py``), then nudged by recorded
feedback. Then, measured on ``bench/retrieval.py``:

* chunks in test files rank below the code they test (score × ``TEST_FILE_FACTOR``), unless the
  query asks for tests (``query.asks_for_tests``) or the search is limited to tests;
* of the chunks of one symbol in one file (the windows a long function is cut into), and of
  overlapping windows of a file without symbols, only the best ranked is kept, so one function
  does not fill several places;
* the relevance floor: a chunk found by the dense signal alone whose cosine similarity is under
  ``fusion.DENSE_FLOOR`` is dropped, so a query nothing matches (``asdkjhqwe zzqxv``) gets no
  hits instead of ten unrelated ones (a chunk the lexical index matched is always kept).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from ..access import PUBLIC, RepositoryAccess
from .. import fusion, lexical
from ..app_settings import app_settings
from ..choices import DetailLevel, QueryIntent
from ..embeddings import get_provider
from ..exceptions import InvalidArgument, InvalidQuery
from ..identifiers import identifier_words, search_text_for
from ..models import Chunk
from ..navigation.common import next_page
from ..patterns import glob_regex
from ..symbols.queries import definition_sites
from ..query import QueryPlan, asks_for_tests, parse_query
from ..testpaths import TEST_PATH_GLOBS, is_test_path
from ..vectors import dense_engine, query_vector_cache
from .feedback import apply_feedback
from .monitoring import embedding_coverage
from .results import QueryPreview, SearchHit, SearchPage
from .scope import visible_generations, visible_repository

__all__ = ["SearchRequest", "search", "search_page", "explain", "preview_query", "MAX_RESULTS_LIMIT", "MAX_PAGE",
           "SNIPPET_MAX_LINES", "SNIPPET_MAX_CHARS", "COMPACT_SNIPPET_LINES", "TEST_PATH_GLOBS", "TEST_FILE_FACTOR"]

MAX_RESULTS_LIMIT = 50
MAX_PAGE = 20
SNIPPET_MAX_LINES = 15
SNIPPET_MAX_CHARS = 1200
#: A compact hit shows the chunk's first line and at most this many lines more: those holding the
#: most query words, each cut to ``COMPACT_LINE_CHARS`` characters (one line more cost ~12 % more
#: characters per answer on bench/retrieval.py).
COMPACT_SNIPPET_LINES = 1
COMPACT_LINE_CHARS = 80
#: A test file's chunk score is multiplied by this unless the query asks for tests.
TEST_FILE_FACTOR = 0.25
#: Each signal contributes its best this-many chunks to fusion (and pages reach that deep).
CANDIDATES = 200


@dataclass(frozen=True)
class SearchRequest:
    """One search as the caller asked for it, built once and passed down unchanged.

    ``query`` is plain words or identifiers and may carry inline filters (``repo:x lang:go
    path:src/** "exact text"``); the explicit ``repository``, ``language`` and ``path_glob``
    win over inline ones, and ``exact`` strings (each must appear verbatim in a chunk) add to
    the quoted ones. ``exclude_paths`` (globs) and ``exclude_languages`` add to inline
    ``-path:`` and ``-lang:``; ``exclude_tests`` leaves out test files (``testpaths.TEST_PATH_GLOBS``).
    ``max_results`` is the page size (1 to ``MAX_RESULTS_LIMIT``), ``page`` counts from 1 (to
    ``MAX_PAGE``), ``detail_level`` is ``full`` (the chunk's first ``SNIPPET_MAX_LINES`` lines)
    or ``compact`` (its first line and the lines holding the most query words). Nothing is
    checked when it is built: the service that runs it checks.
    """

    query: str
    repository: str | None = None
    language: str | None = None
    path_glob: str | None = None
    exact: tuple[str, ...] = ()
    max_results: int = 10
    page: int = 1
    detail_level: str = DetailLevel.FULL
    exclude_paths: tuple[str, ...] = ()
    exclude_languages: tuple[str, ...] = ()
    exclude_tests: bool = False

    def __post_init__(self) -> None:
        for name in ("exact", "exclude_paths", "exclude_languages"):
            object.__setattr__(self, name, tuple(getattr(self, name) or ()))

    def plan(self) -> QueryPlan:
        """The parsed query with this request's filters applied; ``InvalidQuery`` when invalid."""
        return parse_query(self.query, repository=self.repository, language=self.language, path_glob=self.path_glob,
                           exact=self.exact, exclude_paths=self.exclude_paths, exclude_languages=self.exclude_languages,
                           exclude_tests=self.exclude_tests)


def search(query: str, *, access: RepositoryAccess = PUBLIC, **filters) -> list[SearchHit]:
    """Chunks best matching ``query`` (plain English or identifiers), best first; ``filters`` are
    ``SearchRequest``'s other fields. ``search_page(SearchRequest(query, **filters)).hits``."""
    return search_page(SearchRequest(query, **filters), access=access).hits


def search_page(request: SearchRequest, *, access: RepositoryAccess = PUBLIC) -> SearchPage:
    """One page of ranked chunks for ``request``.

    Filters (``repository``, ``language``, ``path_glob``, ``exact`` strings, exclusions, or the
    same inline: ``repo:x lang:go path:src/** -path:tests/** "exact"``) apply before ranking, to
    both signals. Raises ``InvalidQuery`` (empty or too long, no searchable words, unknown
    language, bad glob or limit), ``InvalidArgument`` (page) and ``RepositoryNotFound`` (unknown
    or invisible repository).
    """
    plan = request.plan()
    max_results, page, detail_level = request.max_results, request.page, request.detail_level
    _check_max_results(max_results)
    _check_page(page)
    if detail_level not in DetailLevel.values:
        raise InvalidQuery(f"detail_level must be one of {', '.join(DetailLevel.values)}")
    repos = visible_generations(access, plan.repository)
    where = _chunk_filter(plan, repos)
    sites = definition_sites(plan.text, tuple(repos)) if plan.intent == QueryIntent.IDENTIFIER else ()
    start = (page - 1) * max_results
    for _ in range(_RANK_ATTEMPTS):
        ranked, dense_note, weight = _rank(plan, repos, where, sites)
        window = ranked[start : start + max_results]
        hits = _hydrate(window, detail_level, weight, plan.terms, sites)
        if len(hits) == len(window):
            break
        # A re-index replaced some ranked chunks between ranking and reading them (each file's
        # chunks are swapped in one transaction, but ranking and reading are separate queries):
        # rank again rather than answer with the file missing.
    used = ["lexical"] + (["dense"] if not dense_note else [])
    following, last_note = next_page(page, len(ranked) > start + max_results, MAX_PAGE,
                                     "narrow the query (repository, language, path_glob) or raise max_results")
    return SearchPage(query=request.query, hits=hits, page=page, page_size=max_results,
                      next_page=following, note=last_note,
                      candidates=len(ranked), intent=plan.intent, signals_used=used, dense_note=dense_note, dense_weight=weight,
                      dense_coverage=embedding_coverage(repos))


#: Times a search ranks again when chunks it ranked were replaced before it read them.
_RANK_ATTEMPTS = 3


def _chunk_filter(plan: QueryPlan, repos: dict[int, int]) -> lexical.ChunkFilter:
    excluded = [glob_regex(glob) for glob in plan.exclude_paths]
    return lexical.ChunkFilter(tuple(repos), plan.language, glob_regex(plan.path_glob) if plan.path_glob else None, plan.exact,
                               exclude_path_regex="|".join(f"(?:{r})" for r in excluded) or None,
                               exclude_languages=plan.exclude_languages, exclude_tests=plan.exclude_tests)


def _rank(plan: QueryPlan, repos: dict[int, int], where: lexical.ChunkFilter,
          sites: tuple[lexical.DefinitionSite, ...] = ()) -> tuple[list[fusion.Candidate], str, float]:
    """Lexical candidates, the dense signal when it applies, fused and feedback-boosted;
    ``sites`` are the queried name's definitions (``symbols.queries.definition_sites``)."""
    lexical_hits = _lexical(plan, where, sites)
    dense, note = _dense(plan, repos, where, [chunk_id for chunk_id, _ in lexical_hits])
    weight = app_settings.FUSION_DENSE_WEIGHT if dense is not None else 0.0
    if dense is None:
        candidates = fusion.fuse(lexical_hits, None, None, None, 0.0)
    else:
        top, scores, value_range = dense
        candidates = fusion.fuse(lexical_hits, top, scores, value_range, weight)
        candidates = [c for c in candidates if c.lexical.rank is not None or (c.dense.score or 0.0) >= fusion.DENSE_FLOOR]
    apply_feedback(candidates, plan, repos)
    candidates = _arrange(candidates, plan)
    return candidates, note, weight


def _arrange(candidates: list[fusion.Candidate], plan: QueryPlan) -> list[fusion.Candidate]:
    """Test files ranked below the code they test; one place per symbol of a file (see the module docstring)."""
    if not candidates:
        return candidates
    where = {pk: (path, symbol, start, end, repo) for pk, path, symbol, start, end, repo in
             Chunk.objects.filter(pk__in=[c.chunk_id for c in candidates])
             .values_list("pk", "path", "symbol", "start_line", "end_line", "repository_id")}
    if not asks_for_tests(plan.text) and not (plan.path_glob and patterns_match_tests(plan.path_glob)):
        for c in candidates:
            if c.chunk_id in where and is_test_path(where[c.chunk_id][0]):
                c.test_factor = TEST_FILE_FACTOR
    candidates.sort(key=lambda c: (-c.score, c.chunk_id))
    kept: list[fusion.Candidate] = []
    spans: dict[tuple[int, str, str], list[tuple[int, int]]] = {}
    for c in candidates:
        path, symbol, start, end, repo = where.get(c.chunk_id, ("", "", 0, -1, 0))
        taken = spans.setdefault((repo, path, symbol), [])  # one file of one repository
        if path and (symbol and taken or any(start <= b and a <= end for a, b in taken)):
            continue  # another window of the same function (or overlapping lines) ranks higher
        taken.append((start, end))
        kept.append(c)
    return kept


def patterns_match_tests(path_glob: str) -> bool:
    """Whether a search limited to ``path_glob`` is a search among tests (``tests/**``)."""
    return bool(asks_for_tests(path_glob.replace("/", " ").replace("*", " ").replace("_", " ").replace(".", " ")))



def _lexical(plan: QueryPlan, where: lexical.ChunkFilter, sites: tuple[lexical.DefinitionSite, ...] = ()) -> list[tuple[int, float]]:
    """Lexical candidates. A name is first looked up by its joined key alone (``get_user_name`` →
    ``getusername``), a rare word with a short posting list, instead of OR-ing its common parts
    (``get``, ``user``, ``name``) over the whole index; its parts are the fallback when the key
    matches nothing (measured on bench/search_latency.py)."""
    if plan.intent == QueryIntent.IDENTIFIER:
        keys = [_joined_key(part) for part in plan.text.split(".") if part]
        keys = [k for k in dict.fromkeys(keys) if k]
        if keys:
            hits = lexical.rank_chunks(keys, symbol=plan.symbol, definitions=sites, limit=CANDIDATES, where=where)
            if hits:
                return [(h.chunk_id, h.score) for h in hits]
    hits = lexical.rank_chunks(plan.terms, symbol=plan.symbol, definitions=sites, limit=CANDIDATES, where=where)
    return [(h.chunk_id, h.score) for h in hits]


def _joined_key(name: str) -> str:
    words = identifier_words(name.strip())
    return words[0] if words else ""


def _dense(plan: QueryPlan, repos: dict[int, int], where: lexical.ChunkFilter, lexical_ids: list[int]):
    """``((top, scores, (min, max)), "")`` or ``(None, why the dense signal was not used)``."""
    if plan.intent != QueryIntent.NATURAL_LANGUAGE:
        return None, _lexical_only_note(plan.intent)
    provider = get_provider()
    if provider.state() == "loading":  # the server is loading the model (embeddings.warm_up): do not wait for it
        return None, "the embedding model is still loading; lexical only until it is ready"
    ok, reason = provider.available()
    if not ok:
        return None, reason
    vector = query_vector_cache().get(provider, plan.text)
    result = dense_engine().search(vector, repos, model=provider.model, where=where, limit=CANDIDATES)
    if not result.scored and not result.complete:
        return None, "no vector passing the filters was found near the query (too many to compare them all); lexical only"
    if not result.scored:  # every vector that passes the filters was compared, and there is none
        return None, _no_vector_note(plan, embedding_coverage(repos), bool(lexical_ids))
    ids = {chunk_id for chunk_id, _ in result.top} | set(lexical_ids)
    return (result.top, result.lookup(ids), (result.low, result.high)), ""


#: Why a query of each intent other than natural language is ranked by the lexical index alone.
_LEXICAL_ONLY = {
    QueryIntent.IDENTIFIER: "dense not used: the query is an identifier, which the lexical index matches exactly",
    QueryIntent.PATH: "dense not used: the query is a path, which the lexical index matches by its words",
}


def _lexical_only_note(intent: str) -> str:
    return _LEXICAL_ONLY.get(intent, f"dense not used for a query of intent {intent}")


def _no_vector_note(plan: QueryPlan, coverage: float | None, lexical_found: bool) -> str:
    """Why a complete dense search scored no chunk, from what is already known (no other scan):
    no chunk has a vector; chunks pass the filters (the lexical index found some) but none has a
    vector; every chunk has a vector (``coverage`` 1.0), so no chunk passes the filters; or, with
    some chunks still unembedded and no lexical hit, one of the last two."""
    if not coverage:
        return "no chunk in scope has a vector yet (run backfill_embeddings)"
    filters = _describe_filters(plan)
    if lexical_found:
        return (f"none of the chunks that pass the filters ({filters or 'none'}) has a vector yet; {_percent(coverage)} of the chunks "
                "in scope have one (run backfill_embeddings)")
    if coverage >= 1.0:
        return f"no chunk passes the filters ({filters})" if filters else "no chunk is indexed in scope"
    return (f"no chunk that passes the filters ({filters or 'none'}) has a vector, if any passes them; {_percent(coverage)} of "
            "the chunks in scope have one (run backfill_embeddings)")


def _percent(share: float) -> str:
    """``share`` (0-1) as a whole percent rounded down: 100% only for the whole."""
    return f"{math.floor(share * 100 + 1e-9)}%"


def _describe_filters(plan: QueryPlan) -> str:
    """``plan``'s filters as the caller gave them, for a note: ``path_glob './src/*.py'; exact 'x'
    (quoted in the query)``; "" without any."""
    named = [f"repository {plan.repository!r}"] if plan.repository else []
    named += [f"language {plan.language}"] if plan.language else []
    named += [f"path_glob {plan.path_glob!r}"] if plan.path_glob else []
    named += [f"exact {text!r}" + (" (quoted in the query: a \" starts exact text, to the next \" or the end)"
                                   if text in plan.quoted else "") for text in plan.exact]
    named += [f"exclude_paths {', '.join(map(repr, plan.exclude_paths))}"] if plan.exclude_paths else []
    named += [f"exclude languages {', '.join(plan.exclude_languages)}"] if plan.exclude_languages else []
    named += ["exclude_tests"] if plan.exclude_tests else []
    return "; ".join(named)


def _hydrate(window: list[fusion.Candidate], detail_level: str, weight: float, terms: list[str],
             sites: tuple[lexical.DefinitionSite, ...] = ()) -> list[SearchHit]:
    chunks = Chunk.objects.select_related("repository").in_bulk([c.chunk_id for c in window])
    return [_hit(chunks[c.chunk_id], c, detail_level, weight, terms, sites) for c in window if c.chunk_id in chunks]


def _hit(chunk: Chunk, candidate: fusion.Candidate, detail_level: str, weight: float, terms: list[str],
         sites: tuple[lexical.DefinitionSite, ...] = ()) -> SearchHit:
    if detail_level == DetailLevel.FULL:
        snippet = _snippet(chunk.content)
    else:
        snippet = compact_snippet(chunk.content, chunk.start_line, terms)
    signals = {
        "lexical": candidate.lexical.as_dict(), "dense": candidate.dense.as_dict(), "dense_weight": weight,
        "fused": round(candidate.fused, 6),
        "feedback": {"boost": round(candidate.feedback_boost, 6), "events": candidate.feedback_events},
        "test_factor": candidate.test_factor,
    }
    symbol = chunk.symbol
    if not symbol:  # module code or a window holding the queried definition: name it, as find_definition takes it
        symbol = next((s.qualified_name for s in sites if s.held_by(chunk.file_id, chunk.start_line, chunk.end_line, "")), "")
    return SearchHit(repository=chunk.repository.name, path=chunk.path, start_line=chunk.start_line, end_line=chunk.end_line,
                     symbol=symbol, kind=chunk.kind, language=chunk.language, snippet=snippet,
                     score=round(candidate.score, 6), signals=signals)


def explain(request: SearchRequest, *, access: RepositoryAccess = PUBLIC) -> SearchPage:
    """``search_page`` with compact hits: what matters is each hit's per-signal ranks and
    scores (always in ``signals``)."""
    return search_page(replace(request, detail_level=DetailLevel.COMPACT), access=access)


def preview_query(request: SearchRequest, *, access: RepositoryAccess = PUBLIC) -> QueryPreview:
    """How ``request`` would be processed, without running it: tokens, intent, rewrites, filters
    (its paging and detail level are not used)."""
    plan = request.plan()
    if plan.repository is not None:
        visible_repository(plan.repository, access)
    if plan.intent != QueryIntent.NATURAL_LANGUAGE:
        signals, note = ["lexical"], _lexical_only_note(plan.intent)
    else:
        ok, reason = get_provider().available()
        signals, note = (["lexical", "dense"], "") if ok else (["lexical"], reason)
    filters = {"repository": plan.repository, "language": plan.language, "path_glob": plan.path_glob, "exact": list(plan.exact),
               "exclude_paths": list(plan.exclude_paths), "exclude_languages": list(plan.exclude_languages),
               "exclude_tests": plan.exclude_tests}
    return QueryPreview(query=request.query, text=plan.text, tokens=plan.terms, intent=plan.intent, symbol=plan.symbol,
                        rewrites=plan.rewrites, filters=filters, signals=signals, dense_note=note)


def _check_max_results(max_results: int) -> None:
    if isinstance(max_results, bool) or not isinstance(max_results, int) or not 1 <= max_results <= MAX_RESULTS_LIMIT:
        raise InvalidQuery(f"max_results must be a whole number from 1 to {MAX_RESULTS_LIMIT}, got {max_results!r}")


def _check_page(page: int) -> None:
    if isinstance(page, bool) or not isinstance(page, int) or not 1 <= page <= MAX_PAGE:
        raise InvalidArgument(f"page must be a whole number from 1 to {MAX_PAGE}, got {page!r}")


def _snippet(content: str) -> str:
    """The first ``SNIPPET_MAX_LINES`` lines of ``content``, cut to ``SNIPPET_MAX_CHARS`` characters."""
    snippet = "\n".join(content.split("\n")[:SNIPPET_MAX_LINES])
    if len(snippet) > SNIPPET_MAX_CHARS:
        snippet = snippet[: SNIPPET_MAX_CHARS - 1].rstrip() + "…"
    return snippet


def compact_snippet(content: str, start_line: int, terms: list[str]) -> str:
    """The chunk's first non-blank line and up to ``COMPACT_SNIPPET_LINES`` lines holding the
    most query ``terms`` (in file order), each as ``<line number>: <text stripped>``.

    >>> print(compact_snippet("def f(x):\\n    y = 1\\n    return rate * x", 10, ["rate"]))
    10: def f(x):
    12: return rate * x
    """
    lines = content.split("\n")
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        return ""
    wanted = set(terms)
    scored = []
    for i, line in enumerate(lines):
        if i == first or not line.strip():
            continue
        words = set(search_text_for(line[:400]).split())
        hits = len(words & wanted) + sum(1 for w in words for t in wanted if len(t) > 3 and w != t and w.startswith(t)) * 0.5
        if hits:
            scored.append((-hits, i))
    chosen = sorted([first, *(i for _, i in sorted(scored)[:COMPACT_SNIPPET_LINES])])
    return "\n".join(f"{start_line + i}: {_cut_line(lines[i].strip())}" for i in chosen)


def _cut_line(line: str) -> str:
    return line if len(line) <= COMPACT_LINE_CHARS else line[: COMPACT_LINE_CHARS - 1].rstrip() + "…"
