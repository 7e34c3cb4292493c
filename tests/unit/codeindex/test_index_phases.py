"""Indexing in phases: searchable once the chunks phase commits, vectors filled in by an
embeddings job, progress that only moves forward, and the server's own worker thread."""

from __future__ import annotations

import time

import pytest

from codeindex import services, worker
from codeindex.access import SYSTEM
from codeindex.choices import JobKind, JobStatus
from codeindex.embeddings import LocalMiniLMProvider
from codeindex.jobs import run_job
from codeindex.models import IndexJob

pytestmark = pytest.mark.django_db


def _status(name: str):
    return next(r for r in services.status(access=SYSTEM) if r.name == name)


def test_progress_moves_forward_phase_by_phase_and_never_names_a_skipped_file(webkit_tree, dense_embeddings):
    (webkit_tree / "cache.pyc").write_bytes(b"\x00\x01binary" * 100)
    calls = []
    report = services.index_repository(webkit_tree, "webkit", progress=lambda *a: calls.append(a), embeddings="now")
    assert report.vectors_written > 0 and report.embeddings_job is None
    phases = [c[0] for c in calls]
    order = [p for i, p in enumerate(phases) if i == 0 or phases[i - 1] != p]
    assert order == ["files", "chunks", "embeddings"]  # each phase once, in order
    for phase in order:
        mine = [(done, total) for p, done, total, _ in calls if p == phase]
        assert len({total for _, total in mine}) == 1, phase  # the total is known when the phase starts
        assert [done for done, _ in mine] == sorted(done for done, _ in mine), phase
        assert mine[-1][0] == mine[-1][1]
    assert all(path != "cache.pyc" for _, _, _, path in calls)
    job = IndexJob.objects.filter(kind=JobKind.EMBEDDINGS).get()
    assert job.status == JobStatus.COMPLETE and job.phases["embeddings"]["done"] == job.phases["embeddings"]["total"] > 0


def test_searchable_after_the_lexical_phase_and_the_embeddings_job_fills_in(webkit_tree, dense_embeddings):
    report = services.index_repository(webkit_tree, "webkit", embeddings="background")
    queued = IndexJob.objects.get(pk=report.embeddings_job)
    assert (queued.kind, queued.status) == (JobKind.EMBEDDINGS, JobStatus.QUEUED)
    row = _status("webkit")
    assert row.chunk_count > 0 and row.embedded_chunks == 0 and row.embedding_coverage == 0.0
    assert row.embedding_job is not None and row.embedding_job.id == queued.pk
    page = services.search_page(services.SearchRequest("truncate words"), access=SYSTEM)
    assert page.hits and page.dense_coverage == 0.0  # lexical answers at once, and says the dense part is missing

    run_job(queued.pk)  # what the server's worker (or Celery) does with it
    row = _status("webkit")
    assert row.embedded_chunks == row.chunk_count and row.embedding_coverage == 1.0 and row.embedding_job is None
    assert services.health(access=SYSTEM).embedding_coverage == 1.0
    assert services.search_page(services.SearchRequest("truncate words"), access=SYSTEM).dense_coverage == 1.0


def test_a_reindex_may_start_while_the_embeddings_job_is_queued(webkit_tree, dense_embeddings):
    first = services.index_repository(webkit_tree, "webkit", embeddings="background")
    (webkit_tree / "extra.py").write_text("def added_later():\n    return 1\n")
    second = services.index_repository(webkit_tree, "webkit", embeddings="background")
    assert second.files_new == 1 and second.embeddings_job is None  # the queued job takes the new chunks too
    run_job(first.embeddings_job)
    assert _status("webkit").embedding_coverage == 1.0


def test_health_says_the_model_is_loading_without_waiting_for_it(monkeypatch, settings):
    settings.MCPRAG_EMBEDDINGS = "local"
    loading = LocalMiniLMProvider()
    loading._loading = True
    monkeypatch.setattr("codeindex.services.monitoring.get_provider", lambda: loading)
    started = time.monotonic()
    health = services.health(access=SYSTEM)
    assert health.embeddings.startswith("loading") and health.status == "ok"
    assert loading._model is None and time.monotonic() - started < 2  # it did not load the model itself


@pytest.fixture
def no_broker():
    """The embedded default (no REDIS_URL): Celery runs eagerly, even where CI sets REDIS_URL."""
    from celery import current_app

    before = current_app.conf.task_always_eager
    current_app.conf.task_always_eager = True
    yield
    current_app.conf.task_always_eager = before


@pytest.mark.django_db(transaction=True)
def test_the_server_worker_runs_a_started_job_in_the_background(make_tree, settings, no_broker):
    root = make_tree({"app.py": "def handler():\n    return 1\n"}, name="svc")
    settings.MCPRAG_SOURCE_ROOTS = [str(root.parent)]
    assert worker.start()
    try:
        job = services.start_index_job(str(root), "svc", access=SYSTEM, requested_by="test")
        # the caller did not run it: it returned at once (the worker may have claimed it already)
        assert job.status in (JobStatus.QUEUED, JobStatus.RUNNING)
        deadline = time.monotonic() + 60
        while IndexJob.objects.get(pk=job.id).status != JobStatus.COMPLETE and time.monotonic() < deadline:
            time.sleep(0.2)
        assert IndexJob.objects.get(pk=job.id).status == JobStatus.COMPLETE
        assert _status("svc").chunk_count > 0
    finally:
        worker.stop()
    assert not worker.running()


class _SlowProvider:
    """Unit vectors from a hash of the text, at 0.2 s a batch: slow enough to stop mid-job."""

    name = "slow"
    model = "test-slow-8"

    def available(self):
        return True, "ok"

    def embed_documents(self, texts):
        import hashlib

        import numpy as np

        time.sleep(0.2)
        rows = [np.frombuffer(hashlib.sha256(t.encode()).digest()[:32], dtype=np.uint8)[:8].astype(np.float32) + 1 for t in texts]
        matrix = np.array(rows, dtype=np.float32).reshape(len(texts), 8)
        return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)

    def embed_query(self, text):
        return self.embed_documents([text])[0]


@pytest.mark.django_db(transaction=True)
def test_stopping_the_server_puts_the_running_job_back_in_the_queue_and_the_next_start_resumes_it(
        webkit_tree, settings, no_broker, monkeypatch):
    from codeindex.models import ChunkVector

    provider = _SlowProvider()
    monkeypatch.setattr("codeindex.indexing.get_provider", lambda: provider)
    settings.MCPRAG_EMBEDDING_BATCH_SIZE = 1  # 8 chunks a batch
    report = services.index_repository(webkit_tree, "webkit", embeddings="background")
    job_id = report.embeddings_job
    assert job_id is not None
    total = report.chunks_written
    assert worker.start()
    try:
        deadline = time.monotonic() + 30
        while not ChunkVector.objects.filter(model=provider.model).exists() and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        started = time.monotonic()
        worker.stop(timeout=10)
    assert time.monotonic() - started < 3  # it stopped at the next batch, not at the end of the job
    assert not worker.running()
    job = IndexJob.objects.get(pk=job_id)
    assert (job.status, job.attempts) == (JobStatus.QUEUED, 0), job.message
    assert "resumes when the server starts again" in job.message
    written = ChunkVector.objects.filter(model=provider.model).count()
    assert 0 < written < total
    assert job.phases["embeddings"] == {"done": written, "total": total}  # recorded before it stopped

    assert worker.start()  # the next start takes it up again and finishes the rest
    seen = []
    try:
        deadline = time.monotonic() + 60
        while (job := IndexJob.objects.get(pk=job_id)).status != JobStatus.COMPLETE and time.monotonic() < deadline:
            seen.append((job.phases["embeddings"]["done"], job.phases["embeddings"]["total"]))
            time.sleep(0.05)
    finally:
        worker.stop()
    assert IndexJob.objects.get(pk=job_id).status == JobStatus.COMPLETE
    assert ChunkVector.objects.filter(model=provider.model).count() == total
    # the bar went on from where it stopped, never back to zero, and ended full
    assert all(done >= written and t == total for done, t in seen), seen
    assert IndexJob.objects.get(pk=job_id).phases["embeddings"] == {"done": total, "total": total}


def test_only_the_worker_thread_is_ever_stopped():
    worker._stopping.set()
    try:
        assert not worker.stopping_here()  # this is not the worker thread
    finally:
        worker._stopping.clear()


def test_stale_and_wrong_size_vectors_are_reported_and_a_backfill_embeds_them_again(webkit_tree, dense_embeddings):
    from codeindex.embeddings import document_text, text_hash
    from codeindex.models import Chunk, ChunkVector

    services.index_repository(webkit_tree, "webkit", embeddings="now")
    chunks = list(Chunk.objects.filter(repository__name="webkit").order_by("pk"))
    older = chunks[:3]  # as if embedded before the way chunks are embedded changed
    for chunk in older:
        ChunkVector.objects.filter(chunk=chunk).update(text_hash=text_hash(chunk.content))
    ChunkVector.objects.filter(chunk=chunks[-1]).update(dim=128)  # as if from a model of another size
    check = services.validate_embeddings("webkit", access=SYSTEM)
    assert (check.stale, check.wrong_dimension, check.missing, check.ok) == (3, 1, 0, False)

    job = services.backfill_embeddings("webkit", access=SYSTEM)
    run_job(job.id)
    check = services.validate_embeddings("webkit", access=SYSTEM)
    assert (check.stale, check.wrong_dimension, check.missing, check.current, check.ok) == (0, 0, 0, len(chunks), True)
    for chunk in older:
        assert ChunkVector.objects.get(chunk=chunk).text_hash == text_hash(document_text(chunk.path, chunk.symbol, chunk.content))
