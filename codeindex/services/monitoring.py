"""What is indexed and whether the engine works: repository status and health."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from django.core.cache import cache
from django.db import DatabaseError, connection
from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, Sum

from .. import lexical
from ..access import PUBLIC, RepositoryAccess
from ..choices import ACTIVE_JOB_STATUSES, JobKind
from ..embeddings import get_provider, warm_up
from ..models import Chunk, ChunkVector, IndexJob, Repository
from ..navigation.store import trigram_state
from ..vectors import dense_engine_info
from .index_jobs import job_info
from .results import Health, RepositoryStatus
from .scope import visible_generations

__all__ = ["status", "health", "embedding_coverage", "index_metrics", "IndexMetrics", "JOB_DURATION_BUCKETS",
           "optional_extensions", "dense_engine"]


def embedding_coverage(repository_ids) -> float | None:
    """Share (0.0–1.0, rounded down: 1.0 means every chunk) of the chunks of ``repository_ids``
    that have a vector of the configured model, i.e. that the dense signal can rank; 1.0 when
    there are no chunks, None when no embedding provider is configured (``MCPRAG_EMBEDDINGS=none``).

    Every search reports it, so given a mapping of repository id → generation (what search has in
    hand) the figure is kept in Django's cache under those generations: writing chunks or
    vectors bumps the generation, so a kept figure is never stale, and two counts over a million
    chunks are not paid on every query."""
    provider = get_provider()
    if provider.name == "none":
        return None
    generations = dict(repository_ids) if hasattr(repository_ids, "items") else None
    ids = sorted(generations or repository_ids)
    key = None
    if generations is not None:
        key = "codeindex:coverage:" + hashlib.sha256(
            f"{provider.model}|{','.join(f'{i}:{generations[i]}' for i in ids)}".encode()).hexdigest()
        try:
            cached = cache.get(key)
        except Exception:  # Redis unreachable: count instead; search never depends on the cache
            cached, key = None, None
        if cached is not None:
            return cached
    chunks = Chunk.objects.filter(repository_id__in=ids).count() if ids else 0
    embedded = ChunkVector.objects.filter(repository_id__in=ids, model=provider.model).count() if chunks else 0
    coverage = _coverage(embedded, chunks)
    if key is not None:
        try:
            cache.set(key, coverage, 600)
        except Exception:
            pass
    return coverage


#: What each optional PostgreSQL extension is used for, said when it is missing.
_WITHOUT = {
    "vector": "dense search keeps every vector in each process's memory",
    "pg_trgm": "grep and exact-text filters compare every stored text",
}


def status(*, access: RepositoryAccess = PUBLIC) -> list[RepositoryStatus]:
    """Every repository ``access`` sees, by name, with its active job (an index job before an
    embeddings job), its last finished one, its embeddings job while one is queued or running,
    and ``embedding_coverage`` (share of chunks with a vector; None without a provider)."""
    repos = list(Repository.objects.filter(access.repository_filter()).order_by("name"))
    ids = [r.pk for r in repos]
    embedded = dict(ChunkVector.objects.filter(repository_id__in=ids, model=get_provider().model)
                    .values("repository_id").annotate(n=Count("pk")).values_list("repository_id", "n"))
    active, last = {}, {}
    for j in IndexJob.objects.select_related("repository").filter(repository_id__in=ids).order_by("-created_at", "-id")[:500]:
        if j.status in ACTIVE_JOB_STATUSES:
            held = active.get(j.repository_id)
            if held is None or (held.kind == JobKind.EMBEDDINGS and j.kind != JobKind.EMBEDDINGS):
                active[j.repository_id] = job_info(j)
        else:
            last.setdefault(j.repository_id, job_info(j))
    embedding = {}
    for j in IndexJob.objects.select_related("repository").filter(repository_id__in=ids, kind=JobKind.EMBEDDINGS,
                                                                  status__in=ACTIVE_JOB_STATUSES):
        embedding[j.repository_id] = job_info(j)
    configured = get_provider().name != "none"
    return [
        RepositoryStatus(r.name, r.root_path, r.file_count, r.chunk_count, r.last_indexed_at, r.source_url, r.visibility,
                         embedded.get(r.pk, 0), r.skipped_counts, active.get(r.pk), last.get(r.pk),
                         _coverage(embedded.get(r.pk, 0), r.chunk_count) if configured else None, embedding.get(r.pk),
                         r.branch, r.indexed_commit, r.fetched_at, r.sync_error)
        for r in repos
    ]


def _coverage(embedded: int, chunks: int) -> float:
    """``embedded`` / ``chunks`` rounded down to 4 decimals, so 1.0 means every chunk (1.0 for none)."""
    return min(embedded, chunks) * 10_000 // chunks / 10_000 if chunks else 1.0


def health(*, access: RepositoryAccess = PUBLIC) -> Health:
    """Whether the database, the lexical index and the embedding provider answer.

    ``embeddings`` is "ok", "loading: …" while the server is still loading the local model (the
    status stays "ok": search works lexically meanwhile) or "unavailable: <reason>";
    ``embedding_coverage`` is the share of visible chunks with a vector (None without a provider)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        database = "ok"
    except DatabaseError as exc:
        database = f"error: {exc.__class__.__name__}"
    repos = visible_generations(access, None) if database == "ok" else {}
    try:
        lexical.rank_chunks(["health"], limit=1, where=lexical.ChunkFilter(tuple(repos)))
        lexical_state = "ok"
    except DatabaseError as exc:
        lexical_state = f"error: {exc.__class__.__name__}"
    provider = get_provider()
    state = provider.state()
    if state == "not loaded":  # this process has not loaded it yet: start loading, do not wait
        warm_up()
        state = "loading"
    if state == "loading":  # never wait for the model here: say it is loading
        ok, reason, embeddings = False, "loading", "loading: the embedding model is being loaded; search is lexical until it is ready"
    else:
        ok, reason = provider.available()
        embeddings = "ok" if ok else f"unavailable: {reason}"
    chunks = Chunk.objects.filter(repository_id__in=list(repos)).count() if repos else 0
    embedded = ChunkVector.objects.filter(repository_id__in=list(repos), model=provider.model).count() if repos and provider.name != "none" else 0
    coverage = None if provider.name == "none" else _coverage(embedded, chunks)
    status = "ok" if database == "ok" and lexical_state == "ok" and (ok or reason == "loading") else "degraded"
    try:
        engine, extensions = str(dense_engine_info()), optional_extensions()
    except DatabaseError as exc:
        engine, extensions = f"error: {exc.__class__.__name__}", {}
    return Health(status=status, database=database, lexical_index=lexical_state, embeddings=embeddings,
                  embedding_provider=provider.name, embedding_model=provider.model, repositories=len(repos), chunks=chunks,
                  embedded_chunks=embedded, embedding_coverage=coverage, dense_engine=engine, extensions=extensions)


#: Upper bounds (seconds) of the index-job duration histogram.
JOB_DURATION_BUCKETS = (1, 5, 15, 60, 300, 900, 1800, 3600, 7200, 21600)


@dataclass(frozen=True)
class IndexMetrics:
    """Index jobs and embeddings right now, for monitoring (``/metrics``).

    :ivar jobs: job count by status (``queued``, ``running``, ``complete``, ``failed``).
    :ivar durations: for each finished status: ``(count, total seconds, [count ≤ bound for each
        of JOB_DURATION_BUCKETS])``, start to finish.
    :ivar embedding_backlog: chunks without a vector of the configured model (0 with no provider).
    """

    jobs: dict[str, int]
    durations: dict[str, tuple[int, float, list[int]]]
    embedding_backlog: int


def index_metrics() -> IndexMetrics:
    """:class:`IndexMetrics` in a few aggregate queries (no rows are loaded)."""
    jobs = dict(IndexJob.objects.order_by().values_list("status").annotate(n=Count("pk")).values_list("status", "n"))
    took = ExpressionWrapper(F("finished_at") - F("started_at"), output_field=DurationField())
    finished = IndexJob.objects.order_by().filter(finished_at__isnull=False, started_at__isnull=False).annotate(took=took)
    durations = {}
    for state in sorted({s for s in jobs if s not in ACTIVE_JOB_STATUSES}):
        buckets = {f"le{i}": Count("pk", filter=Q(took__lte=timedelta(seconds=b))) for i, b in enumerate(JOB_DURATION_BUCKETS)}
        row = finished.filter(status=state).aggregate(n=Count("pk"), total=Sum("took"), **buckets)
        total = row["total"].total_seconds() if row["total"] else 0.0
        durations[state] = (row["n"], total, [row[f"le{i}"] for i in range(len(JOB_DURATION_BUCKETS))])
    provider = get_provider()
    backlog = 0
    if provider.name != "none":
        backlog = max(Chunk.objects.count() - ChunkVector.objects.filter(model=provider.model).count(), 0)
    return IndexMetrics(jobs, durations, backlog)


def dense_engine() -> str:
    """One line naming the engine that answers dense queries here (``vectors.DenseEngineInfo``)."""
    return str(dense_engine_info())


def optional_extensions() -> dict[str, str]:
    """Each optional database feature mcprag uses when present: its version, or "not installed:
    <what happens without it>". PostgreSQL: ``vector`` and ``pg_trgm``; SQLite: FTS5's trigram
    tokenizer."""
    if connection.vendor == "sqlite":
        return {"fts5 trigram": "ok" if trigram_state() == "fts5" else f"not available: {_WITHOUT['pg_trgm']}"}
    if connection.vendor != "postgresql":
        return {}
    with connection.cursor() as cursor:
        cursor.execute("SELECT extname, extversion FROM pg_extension WHERE extname = ANY(%s)", [list(_WITHOUT)])
        installed = dict(cursor.fetchall())
    return {name: installed.get(name) or f"not installed: {why}" for name, why in _WITHOUT.items()}
