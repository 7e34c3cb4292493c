"""What is indexed and whether the engine works: repository status and health."""

from __future__ import annotations

from django.db import DatabaseError, connection
from django.db.models import Count

from .. import lexical
from ..access import PUBLIC, RepositoryAccess
from ..choices import ACTIVE_JOB_STATUSES
from ..embeddings import get_provider
from ..models import Chunk, ChunkVector, IndexJob, Repository
from .index_jobs import job_info
from .results import Health, RepositoryStatus
from .scope import visible_generations

__all__ = ["status", "health"]


def status(*, access: RepositoryAccess = PUBLIC) -> list[RepositoryStatus]:
    """Every repository ``access`` sees, by name, with its active and last finished job."""
    repos = list(Repository.objects.filter(access.repository_filter()).order_by("name"))
    ids = [r.pk for r in repos]
    embedded = dict(ChunkVector.objects.filter(repository_id__in=ids, model=get_provider().model)
                    .values("repository_id").annotate(n=Count("pk")).values_list("repository_id", "n"))
    active, last = {}, {}
    for j in IndexJob.objects.select_related("repository").filter(repository_id__in=ids).order_by("-created_at", "-id")[:500]:
        if j.status in ACTIVE_JOB_STATUSES:
            active.setdefault(j.repository_id, job_info(j))
        else:
            last.setdefault(j.repository_id, job_info(j))
    return [
        RepositoryStatus(r.name, r.root_path, r.file_count, r.chunk_count, r.last_indexed_at, r.source_url, r.visibility,
                         embedded.get(r.pk, 0), r.skipped_counts, active.get(r.pk), last.get(r.pk), r.branch, r.indexed_commit,
                         r.fetched_at, r.sync_error)
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
    repos = visible_generations(access, None) if database == "ok" else {}
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
