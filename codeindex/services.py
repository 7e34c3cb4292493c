"""The codeindex public API: index, search, explain, analyse, feedback, jobs, status.

Other apps import only this module, ``access`` and ``exceptions``. Every function is synchronous,
uses the default database connection, and takes ``access`` (a ``RepositoryAccess``): nothing
from a repository the caller may not see is returned, counted or named, and such a repository
is reported exactly like an unknown one.

    report = index_repository("/srv/src/django", "django")                    # command line
    job = start_index_job("https://git.example.com/shop.git", "shop", access=SYSTEM)
    hits = search("parse an HTTP date header", access=access, repository="django", max_results=5)
    hits[0].path, hits[0].symbol, hits[0].signals["lexical"]["rank"]
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db import DatabaseError, connection, transaction
from django.db.models import Count, Q

from . import fusion, lexical
from .access import PUBLIC, SYSTEM, RepositoryAccess
from .app_settings import app_settings
from .choices import ACTIVE_JOB_STATUSES, DetailLevel, FeedbackKind, JobKind, JobStatus, QueryIntent, Visibility
from .embeddings import document_text, get_provider, text_hash
from .exceptions import (
    EmbeddingsUnavailable,
    FileNotIndexed,
    InvalidArgument,
    InvalidQuery,
    InvalidRepositoryName,
    JobAlreadyRunning,
    RepositoryNotFound,
    SourceNotFound,
)
from .indexing import IndexReport, clear_documents, normalize_paths
from .jobs import create_job, run_job
from .models import Chunk, ChunkVector, ImportEdge, IndexJob, Repository, SearchFeedback, SourceFile
from .navigation import grep, list_files, list_repositories, read_lines, read_text  # noqa: F401  (code navigation)
from .query import QueryPlan, glob_regex, parse_query
from .sources import is_git_url, local_root
from .vectors import query_vector_cache, vector_store

__all__ = [
    "RepositoryAccess", "PUBLIC", "SYSTEM",
    "IndexReport", "SearchHit", "SearchPage", "RepositoryStatus", "JobInfo", "QueryPreview", "FileContext",
    "GenerationContext", "FeedbackReceipt", "Health", "EmbeddingCheck", "FileText", "ProgressCallback",
    "index_repository", "start_index_job", "jobs", "job", "search", "search_page", "explain", "preview_query",
    "status", "health", "analyze_context", "generation_context", "record_feedback", "cache_stats", "cache_clear",
    "clear_repository", "delete_repository", "validate_embeddings", "backfill_embeddings", "read_file",
    "MAX_RESULTS_LIMIT", "MAX_PAGE", "SNIPPET_MAX_LINES", "SNIPPET_MAX_CHARS",
]

#: ``progress(done_files, total_files, path)``, called after each file is handled.
ProgressCallback = Callable[[int, int, str], None]

MAX_RESULTS_LIMIT = 50
MAX_PAGE = 20
SNIPPET_MAX_LINES = 15
SNIPPET_MAX_CHARS = 1200
#: Each signal contributes its best this-many chunks to fusion (and pages reach that deep).
CANDIDATES = 200
#: Feedback moves a fused score by at most +25 % (useful) or -20 % (not useful).
FEEDBACK_MAX_BOOST = 0.25
FEEDBACK_MAX_PENALTY = 0.20
FEEDBACK_SCALE = 3.0


# -- result shapes --------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchHit:
    """One search result: lines ``start_line``..``end_line`` (1-based, inclusive) of ``path``.

    ``symbol`` is the qualified name (``Class.method``) or "" for windows and module code;
    ``snippet`` is the chunk's first lines (at most ``SNIPPET_MAX_LINES`` lines and
    ``SNIPPET_MAX_CHARS`` characters; only the first line with ``detail_level="compact"``);
    ``score`` is higher for better matches and only comparable within one search. ``signals``
    explains it: ``{"lexical": {"rank", "score", "normalized"}, "dense": {…}, "fused": …,
    "feedback": {"boost", "events"}, "dense_weight": …}``.
    """

    repository: str
    path: str
    start_line: int
    end_line: int
    symbol: str
    kind: str
    language: str
    snippet: str
    score: float
    signals: dict = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class SearchPage:
    """One page of results; ``next_page`` is None on the last page. ``signals_used`` lists the
    signals that ranked this query (``lexical``, ``dense``) and ``dense_note`` why dense was not."""

    query: str
    hits: list[SearchHit]
    page: int
    page_size: int
    next_page: int | None
    candidates: int
    intent: str
    signals_used: list[str]
    dense_note: str
    dense_weight: float


@dataclass(frozen=True)
class JobInfo:
    id: int
    repository: str
    kind: str
    status: str
    source: str
    files_done: int
    files_total: int
    chunks_done: int
    chunks_total: int
    current_path: str
    message: str
    error_count: int
    errors: list[dict]
    timings_ms: dict
    report: dict
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    requested_by: str = ""

    @property
    def finished(self) -> bool:
        return self.status in (JobStatus.COMPLETE, JobStatus.FAILED)


@dataclass(frozen=True)
class RepositoryStatus:
    """An indexed repository; ``last_indexed_at`` is None until its first run completes.
    ``active_job`` is the queued or running job, if any; ``last_job`` the latest finished one."""

    name: str
    root_path: str
    file_count: int
    chunk_count: int
    last_indexed_at: datetime | None
    source_url: str = ""
    visibility: str = Visibility.EVERYONE
    embedded_chunks: int = 0
    skipped_counts: dict = field(default_factory=dict)
    active_job: JobInfo | None = None
    last_job: JobInfo | None = None


@dataclass(frozen=True)
class QueryPreview:
    query: str
    text: str
    tokens: list[str]
    intent: str
    symbol: str | None
    rewrites: list[str]
    filters: dict
    signals: list[str]
    dense_note: str


@dataclass(frozen=True)
class FileContext:
    repository: str
    path: str
    language: str
    line_count: int
    imports: list[dict]  # {"module", "path"} (path None when third-party or unresolved)
    symbols: list[dict]  # {"symbol", "kind", "start_line", "end_line"}
    depends_on: list[str]
    depended_on_by: list[str]


@dataclass(frozen=True)
class GenerationContext:
    description: str
    language: str
    examples: list[dict]  # {"repository", "path", "symbol", "start_line", "end_line", "code"}
    conventions: list[str]
    context: FileContext | None
    prompt: str


@dataclass(frozen=True)
class FeedbackReceipt:
    id: int
    kind: str
    value: float
    repository: str
    path: str
    symbol: str
    net_for_result: float
    boost_now: float


@dataclass(frozen=True)
class Health:
    status: str
    database: str
    lexical_index: str
    embeddings: str
    embedding_provider: str
    embedding_model: str
    repositories: int
    chunks: int
    embedded_chunks: int


@dataclass(frozen=True)
class EmbeddingCheck:
    repository: str
    model: str
    chunks: int
    current: int
    missing: int
    other_model: int
    wrong_dimension: int
    stale: int
    ok: bool


@dataclass(frozen=True)
class FileText:
    repository: str
    path: str
    language: str
    text: str
    stale: bool


# -- indexing -------------------------------------------------------------------------------


def index_repository(path: str | Path, name: str, *, access: RepositoryAccess = SYSTEM,
                     progress: ProgressCallback | None = None) -> IndexReport:
    """Index the directory (or git URL) ``path`` as repository ``name`` now, in this process.

    Runs an ``IndexJob`` synchronously (so it shows in job history). Only files whose sha256
    changed are re-chunked; files that are gone are removed with their chunks. Raises
    ``SourceNotFound``, ``InvalidRepositoryName``, ``JobAlreadyRunning`` or ``CloneFailed``.
    """
    source = str(path) if is_git_url(str(path)) else str(local_root(path))
    repository = _repository_for_indexing(name, source, access)
    job = create_job(repository, JobKind.FULL, source, requested_by="command line")
    relay = (lambda stage, done, total, p: progress(done, total, p) if stage == "files" else None) if progress else None
    from .jobs import IndexJobRunner

    runner = IndexJobRunner(job.pk, relay)
    finished = runner.handle()
    if runner.error is not None:
        raise runner.error
    report = IndexReport(repository=name)
    for key, value in (finished.report if finished else {}).items():
        if hasattr(report, key):
            setattr(report, key, [(e["path"], e["message"]) for e in value] if key == "errors" else value)
    return report


def start_index_job(source: str, name: str, *, access: RepositoryAccess, kind: str = JobKind.FULL,
                    paths: list[str] | None = None, requested_by: str = "", visibility: str | None = None,
                    groups: list[str] | None = None) -> JobInfo:
    """Queue an index job (a Celery task; run in-process when Celery is eager) and return it.

    ``source`` is a directory or git URL (``None``/"" re-uses the repository's own source);
    ``kind`` is full, changed_files (with ``paths``) or embeddings. A new repository gets
    ``visibility`` and ``groups``; an existing one keeps its settings. Raises
    ``RepositoryNotFound`` for an invisible repository, ``SourceNotFound`` (no such directory, or
    no source given and none recorded) and ``JobAlreadyRunning``.
    """
    if kind not in JobKind.values:
        raise InvalidArgument(f"unknown job kind {kind!r}")
    repository = _existing_or_none(name, access)
    if not source:
        if repository is None:
            raise RepositoryNotFound(f"no repository named {name!r} is indexed")  # give a source to create it
        source = repository.source_url or repository.root_path
        if not source:  # an empty path would resolve to the server's working directory
            raise SourceNotFound(f"{name!r} has no recorded source (directory or git URL) to re-index from")
    source = source if is_git_url(source) else str(local_root(source))
    if kind == JobKind.CHANGED_FILES:
        paths = normalize_paths(paths or [])
        if not paths:
            raise InvalidArgument("index_changed_files needs at least one path")
    repository = repository or _create_repository(name, source, visibility, groups)
    job = create_job(repository, kind, source, paths=paths, requested_by=requested_by)
    transaction.on_commit(lambda: _dispatch(job.pk))
    return _job_info(IndexJob.objects.select_related("repository").get(pk=job.pk))


def _dispatch(job_id: int) -> None:
    from .tasks import run_index_job

    run_index_job.delay(job_id)


def backfill_embeddings(name: str, *, access: RepositoryAccess, requested_by: str = "") -> JobInfo:
    """Queue a job that embeds every chunk of ``name`` lacking a vector for the current model."""
    ok, reason = get_provider().available()
    if not ok:
        raise EmbeddingsUnavailable(reason)
    repository = _visible_repository(name, access)
    return start_index_job(repository.source_url or repository.root_path, name, access=access, kind=JobKind.EMBEDDINGS, requested_by=requested_by)


def jobs(*, access: RepositoryAccess, repository: str | None = None, limit: int = 20) -> list[JobInfo]:
    """Recent jobs on the repositories ``access`` sees, newest first."""
    rows = IndexJob.objects.select_related("repository").filter(access.repository_filter("repository__"))
    if repository is not None:
        rows = rows.filter(repository=_visible_repository(repository, access))
    return [_job_info(j) for j in rows.order_by("-created_at", "-id")[: max(1, min(limit, 200))]]


def job(job_id: int, *, access: RepositoryAccess) -> JobInfo:
    found = IndexJob.objects.select_related("repository").filter(access.repository_filter("repository__"), pk=job_id).first()
    if found is None:
        raise InvalidArgument(f"no index job {job_id} is visible to you")
    return _job_info(found)


def _repository_for_indexing(name: str, source: str, access: RepositoryAccess) -> Repository:
    return _existing_or_none(name, access) or _create_repository(name, source, None, None)


def _existing_or_none(name: str, access: RepositoryAccess) -> Repository | None:
    _check_name(name)
    existing = Repository.objects.filter(name=name).first()
    if existing is not None and not Repository.objects.filter(access.repository_filter(), pk=existing.pk).exists():
        raise RepositoryNotFound(f"no repository named {name!r} is indexed")  # same words as unknown
    return existing


def _create_repository(name: str, source: str, visibility: str | None, groups: list[str] | None) -> Repository:
    visibility = visibility or (Visibility.GROUPS if groups else Visibility.EVERYONE)
    if visibility not in Visibility.values:
        raise InvalidArgument(f"visibility must be one of {', '.join(Visibility.values)}")
    if visibility == Visibility.GROUPS and not groups:
        raise InvalidArgument("a repository visible to groups needs at least one group")
    known = list(Group.objects.filter(name__in=groups or []))
    if len(known) != len(set(groups or [])):
        raise InvalidArgument("unknown group name in groups")
    repository, _ = Repository.objects.get_or_create(
        name=name, defaults={"root_path": "" if is_git_url(source) else source, "source_url": source if is_git_url(source) else "",
                             "visibility": visibility},
    )
    repository.groups.add(*known)
    return repository


def _check_name(name: str) -> None:
    if not isinstance(name, str):
        raise InvalidRepositoryName("the repository name must be text")
    try:
        validate_slug(name)
    except ValidationError:
        raise InvalidRepositoryName(f"repository name {name[:100]!r} is not valid: use letters, digits, '-' and '_' only") from None
    if len(name) > Repository._meta.get_field("name").max_length:
        raise InvalidRepositoryName(f"repository name {name[:20]!r}… is longer than 100 characters")


def _job_info(j: IndexJob) -> JobInfo:
    return JobInfo(
        id=j.pk, repository=j.repository.name, kind=j.kind, status=j.status, source=j.source, files_done=j.files_done,
        files_total=j.files_total, chunks_done=j.chunks_done, chunks_total=j.chunks_total, current_path=j.current_path,
        message=j.message, error_count=len(j.errors), errors=j.errors[:20], timings_ms=j.timings, report=j.report,
        created_at=j.created_at, started_at=j.started_at, finished_at=j.finished_at, requested_by=j.requested_by,
    )


# -- search ---------------------------------------------------------------------------------


def search(query: str, *, access: RepositoryAccess = PUBLIC, repository: str | None = None, language: str | None = None,
           path_glob: str | None = None, exact: tuple[str, ...] | list[str] = (), max_results: int = 10, page: int = 1,
           detail_level: str = DetailLevel.FULL) -> list[SearchHit]:
    """Chunks best matching ``query`` (plain English or identifiers), best first: ``search_page(...).hits``."""
    return search_page(query, access=access, repository=repository, language=language, path_glob=path_glob, exact=exact,
                       max_results=max_results, page=page, detail_level=detail_level).hits


def search_page(query: str, *, access: RepositoryAccess = PUBLIC, repository: str | None = None, language: str | None = None,
                path_glob: str | None = None, exact: tuple[str, ...] | list[str] = (), max_results: int = 10, page: int = 1,
                detail_level: str = DetailLevel.FULL) -> SearchPage:
    """One page of ranked chunks for ``query``.

    Filters (``repository``, ``language``, ``path_glob``, ``exact`` strings, or the same inline:
    ``repo:x lang:go path:src/** "exact"``) apply before ranking. Raises ``InvalidQuery``
    (empty, no searchable words, unknown language, bad glob or limit), ``InvalidArgument`` (page)
    and ``RepositoryNotFound`` (unknown or invisible repository).
    """
    plan = parse_query(query, repository=repository, language=language, path_glob=path_glob, exact=tuple(exact or ()))
    _check_max_results(max_results)
    _check_page(page)
    if detail_level not in DetailLevel.values:
        raise InvalidQuery(f"detail_level must be one of {', '.join(DetailLevel.values)}")
    repos = _visible_generations(access, plan.repository)
    where = lexical.ChunkFilter(tuple(repos), plan.language, glob_regex(plan.path_glob) if plan.path_glob else None, plan.exact)
    start = (page - 1) * max_results
    for _ in range(_RANK_ATTEMPTS):
        ranked, dense_note, weight = _rank(plan, repos, where)
        window = ranked[start : start + max_results]
        hits = _hydrate(window, detail_level, weight)
        if len(hits) == len(window):
            break
        # A re-index replaced some ranked chunks between ranking and reading them (each file's
        # chunks are swapped in one transaction, but ranking and reading are separate queries):
        # rank again rather than answer with the file missing.
    used = ["lexical"] + (["dense"] if not dense_note else [])
    return SearchPage(query=query, hits=hits, page=page, page_size=max_results,
                      next_page=page + 1 if len(ranked) > start + max_results and page < MAX_PAGE else None,
                      candidates=len(ranked), intent=plan.intent, signals_used=used, dense_note=dense_note, dense_weight=weight)


#: Times a search ranks again when chunks it ranked were replaced before it read them.
_RANK_ATTEMPTS = 3


def _rank(plan: QueryPlan, repos: dict[int, int], where: lexical.ChunkFilter) -> tuple[list[fusion.Candidate], str, float]:
    """Lexical candidates, the dense signal when it applies, fused and feedback-boosted."""
    lexical_hits = _lexical(plan, where)
    dense, note = _dense(plan, repos, where, [chunk_id for chunk_id, _ in lexical_hits])
    weight = app_settings.FUSION_DENSE_WEIGHT if dense is not None else 0.0
    if dense is None:
        candidates = fusion.fuse(lexical_hits, None, None, None, 0.0)
    else:
        top, scores, value_range = dense
        candidates = fusion.fuse(lexical_hits, top, scores, value_range, weight)
    _apply_feedback(candidates, plan, repos)
    candidates.sort(key=lambda c: (-c.score, c.chunk_id))
    return candidates, note, weight


def _lexical(plan: QueryPlan, where: lexical.ChunkFilter) -> list[tuple[int, float]]:
    """Lexical candidates. A name is first looked up by its joined key alone (``get_user_name`` →
    ``getusername``), a rare word with a short posting list, instead of OR-ing its common parts
    (``get``, ``user``, ``name``) over the whole index; its parts are the fallback when the key
    matches nothing (measured on bench/search_latency.py)."""
    if plan.intent == QueryIntent.IDENTIFIER:
        keys = [_joined_key(part) for part in plan.text.split(".") if part]
        keys = [k for k in dict.fromkeys(keys) if k]
        if keys:
            hits = lexical.rank_chunks(keys, symbol=plan.symbol, limit=CANDIDATES, where=where)
            if hits:
                return [(h.chunk_id, h.score) for h in hits]
    return [(h.chunk_id, h.score) for h in lexical.rank_chunks(plan.terms, symbol=plan.symbol, limit=CANDIDATES, where=where)]


def _joined_key(name: str) -> str:
    from .identifiers import identifier_words

    words = identifier_words(name.strip())
    return words[0] if words else ""


def _dense(plan: QueryPlan, repos: dict[int, int], where: lexical.ChunkFilter, lexical_ids: list[int]):
    """``((top, scores, (min, max)), "")`` or ``(None, why the dense signal was not used)``."""
    if plan.intent != QueryIntent.NATURAL_LANGUAGE:
        return None, f"not used for a query that is a {plan.intent.replace('_', ' ')} (lexical is exact there)"
    provider = get_provider()
    ok, reason = provider.available()
    if not ok:
        return None, reason
    vector = query_vector_cache().get(provider, plan.text)
    allowed = lexical.matching_chunk_ids(where) if where.exact else None
    result = vector_store().search(vector, repos, model=provider.model, language=where.language, path_regex=where.path_regex,
                                   allowed=allowed, limit=CANDIDATES)
    if not result.scored:
        return None, "no chunk in scope has a vector yet (run backfill_embeddings)"
    ids = {chunk_id for chunk_id, _ in result.top} | set(lexical_ids)
    return (result.top, result.lookup(ids), (result.low, result.high)), ""


def _apply_feedback(candidates: list[fusion.Candidate], plan: QueryPlan, repos: dict[int, int], depth: int = 100) -> None:
    """Multiply the best ``depth`` candidates by their bounded feedback factor.

    ``repos`` are the searched repositories (id → generation); with no feedback recorded on any
    of them (the usual case) this is one indexed ``EXISTS`` instead of reading the candidates'
    metadata (measured: that read was ~15 % of a ``search_code`` call's CPU).
    """
    head = sorted(candidates, key=lambda c: (-c.score, c.chunk_id))[:depth]
    if not head or not SearchFeedback.objects.filter(repository_id__in=list(repos)).exists():
        return
    meta = {pk: (repo, path, symbol) for pk, repo, path, symbol in
            Chunk.objects.filter(pk__in=[c.chunk_id for c in head]).values_list("pk", "repository_id", "path", "symbol")}
    repo_ids = {m[0] for m in meta.values()}
    rows = SearchFeedback.objects.filter(repository_id__in=repo_ids, path__in={m[1] for m in meta.values()})
    if not repo_ids or not rows.exists():
        return
    net: Counter = Counter()
    events: Counter = Counter()
    key = _query_key(plan.terms)
    for repo, path, symbol, query_key, value in rows.values_list("repository_id", "path", "symbol", "query_key", "value"):
        net[(repo, path, symbol)] += value * (2.0 if query_key == key else 1.0)
        events[(repo, path, symbol)] += 1
    for candidate in head:
        m = meta.get(candidate.chunk_id)
        if m in net:
            candidate.feedback_boost = feedback_factor(net[m])
            candidate.feedback_events = events[m]


def feedback_factor(net: float) -> float:
    """1 + 0.25·tanh(net/3) for useful results, 1 + 0.20·tanh(net/3) for unhelpful ones."""
    bound = FEEDBACK_MAX_BOOST if net > 0 else FEEDBACK_MAX_PENALTY
    return float(1.0 + bound * np.tanh(net / FEEDBACK_SCALE))


def _query_key(terms: list[str]) -> str:
    return hashlib.sha256(" ".join(sorted(terms)).encode()).hexdigest()


def _hydrate(window: list[fusion.Candidate], detail_level: str, weight: float) -> list[SearchHit]:
    chunks = Chunk.objects.select_related("repository").in_bulk([c.chunk_id for c in window])
    return [_hit(chunks[c.chunk_id], c, detail_level, weight) for c in window if c.chunk_id in chunks]


def _hit(chunk: Chunk, candidate: fusion.Candidate, detail_level: str, weight: float) -> SearchHit:
    snippet = _snippet(chunk.content) if detail_level == DetailLevel.FULL else _first_line(chunk.content)
    signals = {
        "lexical": candidate.lexical.as_dict(), "dense": candidate.dense.as_dict(), "dense_weight": weight,
        "fused": round(candidate.fused, 6),
        "feedback": {"boost": round(candidate.feedback_boost, 6), "events": candidate.feedback_events},
    }
    return SearchHit(repository=chunk.repository.name, path=chunk.path, start_line=chunk.start_line, end_line=chunk.end_line,
                     symbol=chunk.symbol, kind=chunk.kind, language=chunk.language, snippet=snippet,
                     score=round(candidate.score, 6), signals=signals)


def explain(query: str, *, access: RepositoryAccess = PUBLIC, max_results: int = 10, **filters) -> SearchPage:
    """``search_page`` with every hit's per-signal ranks and scores (always in ``signals``)."""
    return search_page(query, access=access, max_results=max_results, detail_level=DetailLevel.COMPACT, **filters)


def preview_query(query: str, *, access: RepositoryAccess = PUBLIC, repository: str | None = None, language: str | None = None,
                  path_glob: str | None = None, exact: tuple[str, ...] | list[str] = ()) -> QueryPreview:
    """How ``query`` would be processed, without running it: tokens, intent, rewrites, filters."""
    plan = parse_query(query, repository=repository, language=language, path_glob=path_glob, exact=tuple(exact or ()))
    if plan.repository is not None:
        _visible_repository(plan.repository, access)
    if plan.intent != QueryIntent.NATURAL_LANGUAGE:
        signals, note = ["lexical"], f"dense is not used for a {plan.intent.replace('_', ' ')} query"
    else:
        ok, reason = get_provider().available()
        signals, note = (["lexical", "dense"], "") if ok else (["lexical"], reason)
    filters = {"repository": plan.repository, "language": plan.language, "path_glob": plan.path_glob, "exact": list(plan.exact)}
    return QueryPreview(query=query, text=plan.text, tokens=plan.terms, intent=plan.intent, symbol=plan.symbol,
                        rewrites=plan.rewrites, filters=filters, signals=signals, dense_note=note)


def _visible_generations(access: RepositoryAccess, name: str | None) -> dict[int, int]:
    """``{repository id: generation}`` of the repositories to search."""
    rows = Repository.objects.filter(access.repository_filter())
    if name is not None:
        rows = rows.filter(name=name)
    found = dict(rows.values_list("pk", "generation"))
    if name is not None and not found:
        raise RepositoryNotFound(f"no repository named {name!r} is indexed")
    return found


def _visible_repository(name: str, access: RepositoryAccess) -> Repository:
    if not isinstance(name, str) or not name:
        raise RepositoryNotFound("a repository name is required")
    found = Repository.objects.filter(access.repository_filter(), name=name).first()
    if found is None:
        raise RepositoryNotFound(f"no repository named {name!r} is indexed")
    return found


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


def _first_line(content: str) -> str:
    line = next((l.strip() for l in content.split("\n") if l.strip()), "")
    return line[:200]


# -- status and health ----------------------------------------------------------------------


def status(*, access: RepositoryAccess = PUBLIC) -> list[RepositoryStatus]:
    """Every repository ``access`` sees, by name, with its active and last finished job."""
    repos = list(Repository.objects.filter(access.repository_filter()).order_by("name"))
    ids = [r.pk for r in repos]
    embedded = dict(ChunkVector.objects.filter(repository_id__in=ids, model=get_provider().model)
                    .values("repository_id").annotate(n=Count("pk")).values_list("repository_id", "n"))
    active, last = {}, {}
    for j in IndexJob.objects.select_related("repository").filter(repository_id__in=ids).order_by("-created_at", "-id")[:500]:
        if j.status in ACTIVE_JOB_STATUSES:
            active.setdefault(j.repository_id, _job_info(j))
        else:
            last.setdefault(j.repository_id, _job_info(j))
    return [
        RepositoryStatus(r.name, r.root_path, r.file_count, r.chunk_count, r.last_indexed_at, r.source_url, r.visibility,
                         embedded.get(r.pk, 0), r.skipped_counts, active.get(r.pk), last.get(r.pk))
        for r in repos
    ]


def health(*, access: RepositoryAccess = PUBLIC) -> Health:
    """Whether the database, the lexical index and the embedding provider answer."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        database = "ok"
    except DatabaseError as exc:
        database = f"error: {exc.__class__.__name__}"
    repos = _visible_generations(access, None) if database == "ok" else {}
    try:
        lexical.rank_chunks(["health"], limit=1, where=lexical.ChunkFilter(tuple(repos)))
        lexical_state = "ok"
    except DatabaseError as exc:
        lexical_state = f"error: {exc.__class__.__name__}"
    provider = get_provider()
    ok, reason = provider.available()
    chunks = Chunk.objects.filter(repository_id__in=list(repos)).count() if repos else 0
    embedded = ChunkVector.objects.filter(repository_id__in=list(repos), model=provider.model).count() if repos and ok else 0
    state = "ok" if database == "ok" and lexical_state == "ok" and ok else "degraded"
    return Health(status=state, database=database, lexical_index=lexical_state, embeddings="ok" if ok else f"unavailable: {reason}",
                  embedding_provider=provider.name, embedding_model=provider.model, repositories=len(repos), chunks=chunks,
                  embedded_chunks=embedded)


# -- analysis -------------------------------------------------------------------------------


def analyze_context(repository: str, path: str, *, access: RepositoryAccess = PUBLIC) -> FileContext:
    """A file's imports, the symbols it defines, the indexed files it depends on and those that
    depend on it (from the import graph built at indexing time)."""
    file = _indexed_file(repository, path, access)
    edges = list(file.imports.select_related("target").order_by("pk"))
    symbols = [
        {"symbol": s, "kind": k, "start_line": a, "end_line": b}
        for s, k, a, b in file.chunks.exclude(symbol="").order_by("start_line").values_list("symbol", "kind", "start_line", "end_line")
    ]
    dependents = ImportEdge.objects.filter(target=file).values_list("source__path", flat=True).distinct().order_by("source__path")
    return FileContext(
        repository=repository, path=file.path, language=file.language, line_count=file.line_count,
        imports=[{"module": e.module, "path": e.target.path if e.target else None} for e in edges],
        symbols=_dedupe_symbols(symbols),
        depends_on=sorted({e.target.path for e in edges if e.target}),
        depended_on_by=list(dependents),
    )


def _dedupe_symbols(symbols: list[dict]) -> list[dict]:
    """A long body split into windows is one symbol, spanning its first to last line."""
    merged: dict[tuple[str, str], dict] = {}
    for s in symbols:
        key = (s["symbol"], s["kind"])
        if key in merged:
            merged[key]["end_line"] = max(merged[key]["end_line"], s["end_line"])
        else:
            merged[key] = dict(s)
    return list(merged.values())


def _indexed_file(repository: str, path: str, access: RepositoryAccess) -> SourceFile:
    repo = _visible_repository(repository, access)
    if not isinstance(path, str) or not path.strip():
        raise InvalidArgument("a file path is required")
    clean = path.strip().lstrip("/")
    file = SourceFile.objects.filter(repository=repo, path=clean).first()
    if file is None:
        raise FileNotIndexed(f"no indexed file {clean[:200]!r} in repository {repository!r}")
    return file


def generation_context(description: str, language: str, *, access: RepositoryAccess = PUBLIC, repository: str | None = None,
                       context_path: str | None = None, max_examples: int = 4) -> GenerationContext:
    """What a model needs to write code that fits: similar code, the codebase's conventions and,
    with ``context_path``, the target file's imports and neighbours."""
    if not isinstance(description, str) or not description.strip():
        raise InvalidQuery("the description is empty")
    if context_path and not repository:
        raise InvalidArgument("context_path needs the repository it belongs to")
    context = analyze_context(repository, context_path, access=access) if context_path else None
    language = parse_query("x", language=language).language
    hits = search(description, access=access, repository=repository, language=language, max_results=max_examples)
    chunks = _example_chunks(hits)
    examples = [{"repository": h.repository, "path": h.path, "symbol": h.symbol, "start_line": h.start_line,
                 "end_line": h.end_line, "code": code} for h, code in chunks]
    conventions = _conventions([code for _, code in chunks], language, hits, access)
    prompt = _generation_prompt(description, language, examples, conventions, context)
    return GenerationContext(description, language, examples, conventions, context, prompt)


def _example_chunks(hits: list[SearchHit]) -> list[tuple[SearchHit, str]]:
    out = []
    for hit in hits:
        chunk = Chunk.objects.filter(repository__name=hit.repository, path=hit.path, start_line=hit.start_line, end_line=hit.end_line).first()
        if chunk is not None:
            out.append((hit, "\n".join(chunk.content.split("\n")[:80])))
    return out


def _conventions(codes: list[str], language: str, hits: list[SearchHit], access: RepositoryAccess) -> list[str]:
    notes = []
    indents = Counter(len(m) for code in codes for m in re.findall(r"^( +)\S", code, re.M))
    tabs = sum(len(re.findall(r"^\t+\S", code, re.M)) for code in codes)
    if tabs > sum(indents.values()):
        notes.append("indentation: tabs")
    elif indents:
        unit = min(indents)
        notes.append(f"indentation: {unit} spaces")
    names = [h.symbol.rsplit(".", 1)[-1] for h in hits if h.symbol]
    snake = sum(1 for n in names if "_" in n.strip("_") and n.lower() == n)
    camel = sum(1 for n in names if re.search(r"[a-z][A-Z]", n))
    if names:
        notes.append("function names: snake_case" if snake >= camel else "function names: camelCase")
    if language == "python" and codes:
        with_doc = sum(1 for c in codes if '"""' in c or "'''" in c)
        notes.append(f"docstrings: {with_doc} of {len(codes)} examples have one")
        typed = sum(1 for c in codes if re.search(r"def \w+\(.*:.*\)|->", c))
        notes.append(f"type hints: {typed} of {len(codes)} examples use them")
    repos = _visible_generations(access, None)
    common = (ImportEdge.objects.filter(repository_id__in=list(repos), source__language=language)
              .values("module").annotate(n=Count("pk")).order_by("-n", "module")[:8])
    if common:
        notes.append("most imported modules: " + ", ".join(row["module"] for row in common))
    return notes


def _generation_prompt(description: str, language: str, examples: list[dict], conventions: list[str], context: FileContext | None) -> str:
    parts = [f"Write {language} code for this request:\n{description.strip()}\n",
             "Follow the conventions of the codebase:\n" + "\n".join(f"- {c}" for c in conventions)]
    if context is not None:
        parts.append(f"The code goes into {context.path}, which imports: "
                     + ", ".join(i["module"] for i in context.imports[:20]) + "; and defines: "
                     + ", ".join(s["symbol"] for s in context.symbols[:30]))
    for e in examples:
        parts.append(f"Similar code in {e['repository']}:{e['path']}:{e['start_line']}-{e['end_line']} ({e['symbol'] or 'module'}):\n{e['code']}")
    parts.append("Answer with the code only.")
    return "\n\n".join(parts)


# -- feedback -------------------------------------------------------------------------------


def record_feedback(query: str, repository: str, path: str, *, access: RepositoryAccess, kind: str, value: float,
                    symbol: str = "", comment: str = "", actor: str = "") -> FeedbackReceipt:
    """Store one signal about a result of ``query`` (a click, an outcome or a rating).

    ``value`` is +1/-1 for clicks and outcomes and -1.0 … +1.0 for ratings. The result must be an
    indexed file of a repository ``access`` sees. Returns the result's net score and boost now.
    """
    if kind not in FeedbackKind.values:
        raise InvalidArgument(f"unknown feedback kind {kind!r}")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not -1.0 <= value <= 1.0:
        raise InvalidArgument("the feedback value must be between -1 and 1")
    plan_terms = lexical.query_terms(query) if isinstance(query, str) else []
    if not plan_terms:
        raise InvalidQuery("the query the result came from is empty or has no searchable words")
    file = _indexed_file(repository, path, access)
    symbol = (symbol or "").strip()
    if symbol and not file.chunks.filter(symbol=symbol).exists():
        raise FileNotIndexed(f"{file.path!r} defines no symbol {symbol[:100]!r}")
    row = SearchFeedback.objects.create(repository=file.repository, query=query[:2000], query_key=_query_key(plan_terms),
                                        path=file.path, symbol=symbol, kind=kind, value=float(value), comment=(comment or "")[:2000],
                                        actor=actor[:150])
    key = _query_key(plan_terms)
    net = sum(v * (2.0 if k == key else 1.0) for k, v in SearchFeedback.objects.filter(
        repository=file.repository, path=file.path, symbol=symbol).values_list("query_key", "value"))
    return FeedbackReceipt(row.pk, kind, float(value), repository, file.path, symbol, round(net, 3), round(feedback_factor(net), 4))


# -- caches, management, embeddings ----------------------------------------------------------


def cache_stats(*, access: RepositoryAccess) -> dict:
    """This process's in-memory caches: dense vectors (for visible repositories) and query vectors."""
    repos = set(_visible_generations(access, None))
    provider = get_provider()
    return {"vectors": vector_store().stats(repos), "query_vectors": query_vector_cache().stats(),
            "embedding_provider": provider.name, "embedding_model": provider.model}


def cache_clear(*, access: RepositoryAccess) -> dict:
    """Drop this process's cached vectors of the visible repositories and all cached query vectors."""
    before = cache_stats(access=access)
    for repo_id in _visible_generations(access, None):
        vector_store().forget(repo_id)
    query_vector_cache().clear()
    return before


def clear_repository(name: str, *, access: RepositoryAccess) -> int:
    """Remove every file, chunk and vector of ``name`` (kept: the repository, its access and jobs)."""
    repository = _visible_repository(name, access)
    _refuse_if_busy(repository)
    removed = clear_documents(repository)
    vector_store().forget(repository.pk)
    return removed


def delete_repository(name: str, *, access: RepositoryAccess) -> int:
    """Delete ``name`` entirely (files, chunks, vectors, jobs, feedback); returns its file count."""
    repository = _visible_repository(name, access)
    _refuse_if_busy(repository)
    count = repository.files.count()
    clear_documents(repository)
    repository.delete()
    vector_store().forget(repository.pk)
    return count


def _refuse_if_busy(repository: Repository) -> None:
    active = IndexJob.objects.filter(repository=repository, status__in=ACTIVE_JOB_STATUSES).first()
    if active is not None:
        raise JobAlreadyRunning(f"an index job for {repository.name!r} is {active.status} (job {active.pk}); try again when it ends")


def repositories(*, access: RepositoryAccess) -> list[RepositoryStatus]:
    return status(access=access)


def validate_embeddings(name: str, *, access: RepositoryAccess) -> EmbeddingCheck:
    """Count chunks of ``name`` whose vector is missing, of another model, of the wrong size, or stale."""
    repository = _visible_repository(name, access)
    provider = get_provider()
    chunks = Chunk.objects.filter(repository=repository)
    total = chunks.count()
    vectors = ChunkVector.objects.filter(repository=repository)
    current = vectors.filter(model=provider.model)
    dims = Counter(current.values_list("dim", flat=True))
    expected = dims.most_common(1)[0][0] if dims else 0
    wrong = sum(n for d, n in dims.items() if d != expected)
    stale = 0
    for path, symbol, content, digest in chunks.filter(vector__model=provider.model).values_list("path", "symbol", "content", "vector__text_hash").iterator():
        stale += text_hash(document_text(path, symbol, content)) != digest
    n_current = current.count()
    other = vectors.exclude(model=provider.model).count()
    missing = total - n_current - other
    return EmbeddingCheck(name, provider.model, total, n_current, missing, other, wrong, stale,
                          ok=missing == 0 and other == 0 and wrong == 0 and stale == 0)


def read_file(repository: str, path: str, *, access: RepositoryAccess = PUBLIC) -> FileText:
    """An indexed file's text as stored when it was indexed (what search and grep see; ``stale`` is
    always False since the source directory is no longer read)."""
    file, text = read_text(repository, path, access=access)
    return FileText(repository, file.path, file.language, text, stale=False)
