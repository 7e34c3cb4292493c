"""Operator actions on the index: in-process caches, clearing or deleting a repository, and
checking or back-filling its embeddings."""

from __future__ import annotations

from collections.abc import Callable

from django.db.models import Count

from ..access import RepositoryAccess
from ..choices import ACTIVE_JOB_STATUSES, JobKind
from ..embeddings import document_text, get_provider, text_hash
from ..exceptions import EmbeddingsUnavailable, JobAlreadyRunning
from ..indexing import clear_documents
from ..models import Chunk, ChunkVector, IndexJob, Repository
from ..vectors import query_vector_cache, vector_store
from .index_jobs import start_index_job
from .results import EmbeddingCheck, JobInfo
from .scope import visible_generations, visible_repository

__all__ = ["cache_stats", "cache_clear", "clear_repository", "delete_repository", "validate_embeddings",
           "backfill_embeddings"]


def cache_stats(*, access: RepositoryAccess) -> dict:
    """This process's in-memory caches: dense vectors (for visible repositories) and query vectors."""
    repos = set(visible_generations(access, None))
    provider = get_provider()
    return {"vectors": vector_store().stats(repos), "query_vectors": query_vector_cache().stats(),
            "embedding_provider": provider.name, "embedding_model": provider.model}


def cache_clear(*, access: RepositoryAccess) -> dict:
    """Drop this process's cached vectors of the visible repositories and all cached query vectors."""
    before = cache_stats(access=access)
    for repo_id in visible_generations(access, None):
        vector_store().forget(repo_id)
    query_vector_cache().clear()
    return before


def clear_repository(name: str, *, access: RepositoryAccess) -> int:
    """Remove every file, chunk and vector of ``name`` (kept: the repository, its access and jobs)."""
    repository = visible_repository(name, access)
    _refuse_if_busy(repository)
    removed = clear_documents(repository)
    vector_store().forget(repository.pk)
    return removed


def delete_repository(name: str, *, access: RepositoryAccess) -> int:
    """Delete ``name`` entirely (files, chunks, vectors, jobs, feedback); returns its file count."""
    repository = visible_repository(name, access)
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


def validate_embeddings(name: str, *, access: RepositoryAccess) -> EmbeddingCheck:
    """Count chunks of ``name`` whose vector is missing, of another model, of the wrong size, or stale."""
    repository = visible_repository(name, access)
    provider = get_provider()
    chunks = Chunk.objects.filter(repository=repository)
    total = chunks.count()
    vectors = ChunkVector.objects.filter(repository=repository)
    current = vectors.filter(model=provider.model)
    expected = _expected_dimension(repository, provider.model)
    wrong = current.exclude(dim=expected).count() if expected else 0
    stale = len(_stale_vectors(repository, provider.model))
    n_current = current.count()
    other = vectors.exclude(model=provider.model).count()
    missing = total - n_current - other
    return EmbeddingCheck(name, provider.model, total, n_current, missing, other, wrong, stale,
                          ok=missing == 0 and other == 0 and wrong == 0 and stale == 0)


def backfill_embeddings(name: str, *, access: RepositoryAccess, requested_by: str = "",
                        queued: Callable[[JobInfo], None] | None = None) -> JobInfo:
    """Queue a job that embeds every chunk of ``name`` lacking a vector for the current model, after
    deleting the current model's vectors that ``validate_embeddings`` counts as stale (computed
    from another text than ``embeddings.document_text`` gives now: the chunk, or the way chunks
    are embedded, changed) or of the wrong size, so the job computes them again. Until it has,
    those chunks are ranked by the lexical signal alone (``dense_coverage`` says how many have
    vectors). ``queued`` is ``start_index_job``'s. Raises ``EmbeddingsUnavailable`` (nothing
    deleted) when the model cannot run."""
    ok, reason = get_provider().available()
    if not ok:
        raise EmbeddingsUnavailable(reason)
    repository = visible_repository(name, access)
    model = get_provider().model
    expected = _expected_dimension(repository, model)
    outdated = _stale_vectors(repository, model)
    if expected:
        outdated += ChunkVector.objects.filter(repository=repository, model=model).exclude(dim=expected).values_list("chunk_id", flat=True)
    for start in range(0, len(outdated), 500):
        ChunkVector.objects.filter(repository=repository, model=model, chunk_id__in=outdated[start : start + 500]).delete()
    return start_index_job(repository.source_url or repository.root_path, name, access=access, kind=JobKind.EMBEDDINGS,
                           requested_by=requested_by, queued=queued)


def _expected_dimension(repository: Repository, model: str) -> int:
    """The size most of ``repository``'s vectors of ``model`` have (0: it has none)."""
    commonest = (ChunkVector.objects.filter(repository=repository, model=model).values("dim")
                 .annotate(n=Count("chunk_id")).order_by("-n", "dim").first())
    return commonest["dim"] if commonest else 0


def _stale_vectors(repository: Repository, model: str) -> list[int]:
    """Chunk ids of ``repository`` whose vector of ``model`` was computed from another text than
    ``document_text`` gives for the chunk now (compared by the stored sha256, ``text_hash``)."""
    rows = (Chunk.objects.filter(repository=repository, vector__model=model)
            .values_list("pk", "path", "symbol", "content", "vector__text_hash").iterator(chunk_size=2000))
    return [pk for pk, path, symbol, content, digest in rows if text_hash(document_text(path, symbol, content)) != digest]
