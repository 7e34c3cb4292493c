"""The dense engines: pgvector in SQL agrees with exact search, filters and access control hold on
the SQL path, a re-index never shows half a file, and without pgvector the in-memory engine serves.

Tests marked ``needs_pgvector`` run on a PostgreSQL that has the extension (CI's second server);
``needs_no_pgvector`` ones on SQLite or a PostgreSQL without it. The rest run everywhere.
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace

import numpy as np
import pytest
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from codeindex import vectors
from codeindex.access import RepositoryAccess, SYSTEM
from codeindex.choices import Visibility
from codeindex.embeddings import to_bytes
from codeindex.indexing import bump_generation
from codeindex.lexical import ChunkFilter
from codeindex.models import Chunk, ChunkVector, Repository
from codeindex.patterns import glob_regex
from codeindex.services import health, index_repository, search_page, SearchRequest
from codeindex.services.monitoring import _coverage


@pytest.fixture(autouse=True)
def _fresh_engine():
    vectors.forget_engine()
    vectors.vector_store().forget()
    yield
    vectors.forget_engine()
    vectors.vector_store().forget()


def _has_pgvector() -> bool:
    vectors.forget_engine()
    return vectors.dense_engine_info().name == "pgvector"


def _needs_walks_that_stop_short() -> None:
    """Skip unless this is pgvector without iterative index scans (before 0.8), whose walks can
    come back with fewer rows than asked."""
    if not _has_pgvector():
        pytest.skip("needs a PostgreSQL with pgvector")
    if vectors._has_iterative_scan(vectors.dense_engine_info().version):
        pytest.skip("iterative index scans go on until the filter is satisfied")


def _synthetic_tree(make_tree, name: str, files: int = 24):
    """``files`` modules in two languages and three folders (one of tests), three functions each."""
    tree = {}
    for i in range(files):
        folder = "api" if i % 2 else ("tests" if i % 4 == 0 else "core")
        if i % 3:
            tree[f"{folder}/mod{i}.py"] = "".join(
                f"def handler_{i}_{j}(request):\n    value = request.get('k{j}')\n    return value * {j}\n\n\n" for j in range(3))
        else:
            tree[f"{folder}/mod{i}.go"] = "package x\n\n" + "".join(
                f"func Handler{i}x{j}(w int) int {{\n\treturn w * {j}\n}}\n\n" for j in range(3))
    return make_tree(tree, name=name)


def _random_vectors(repository: Repository, model: str, dim: int, seed: int) -> None:
    """Unit vectors drawn at random for every chunk of ``repository`` (the engine, not the model, is tested)."""
    rng = np.random.default_rng(seed)
    chunks = list(Chunk.objects.filter(repository=repository).order_by("pk").values_list("pk", "path"))
    matrix = rng.normal(size=(len(chunks), dim)).astype(np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    ChunkVector.objects.filter(repository=repository).delete()
    vectors.store_vectors([vectors.VectorRow(pk, repository.pk, model, f"h{pk}", to_bytes(row), path=path)
                           for (pk, path), row in zip(chunks, matrix)])


@pytest.fixture
def two_synthetic_repos(make_tree, settings):
    settings.MCPRAG_EMBEDDINGS = "none"
    index_repository(_synthetic_tree(make_tree, "alpha"), "alpha")
    index_repository(_synthetic_tree(make_tree, "beta", files=12), "beta")
    repos = {r.name: r for r in Repository.objects.all()}
    _random_vectors(repos["alpha"], "test-model", 32, seed=1)
    _random_vectors(repos["beta"], "test-model", 32, seed=2)
    return repos


FILTERS = [
    pytest.param(ChunkFilter(), id="no filter"),
    pytest.param(ChunkFilter(language="go"), id="language"),
    pytest.param(ChunkFilter(path_regex=glob_regex("api/**")), id="path glob"),
    pytest.param(ChunkFilter(exact=("* 2",)), id="exact text"),
    pytest.param(ChunkFilter(language="python", path_regex=glob_regex("core/**"), exact=("request",)), id="all filters"),
    pytest.param(ChunkFilter(exclude_path_regex=glob_regex("api/**")), id="excluded path"),
    pytest.param(ChunkFilter(exclude_languages=("go",), path_regex=glob_regex("**/mod1*")), id="excluded language"),
    pytest.param(ChunkFilter(exclude_tests=True), id="excluded tests"),
    pytest.param(ChunkFilter(exclude_tests=True, exclude_path_regex=glob_regex("api/**")), id="excluded tests and path"),
]


@pytest.mark.django_db
def test_each_stored_vector_says_whether_its_chunk_is_in_a_test_file(two_synthetic_repos):
    from codeindex.testpaths import is_test_path

    stored = list(ChunkVector.objects.values_list("chunk__path", "in_tests"))
    assert {flag for _, flag in stored} == {True, False}
    assert all(flag == is_test_path(path) for path, flag in stored)
    assert all(path.startswith("tests/") == flag for path, flag in stored)


@pytest.mark.django_db
@pytest.mark.parametrize("where", FILTERS)
def test_the_in_memory_engine_keeps_exactly_the_chunks_the_sql_filter_keeps(two_synthetic_repos, where):
    from codeindex.lexical import matching_chunk_ids

    repos = two_synthetic_repos
    generations = {r.pk: r.generation for r in repos.values()}
    store = vectors.VectorStore()
    query = np.ones(32, dtype=np.float32) / np.sqrt(32)
    for _ in range(2):  # the second search reuses the blocks' per-file path results
        found = store.search(query, generations, model="test-model", where=where, limit=10_000)
        kept = matching_chunk_ids(replace(where, repository_ids=tuple(generations)))
        assert kept and {chunk_id for chunk_id, _ in found.top} == kept


@pytest.mark.django_db
@pytest.mark.parametrize("where", FILTERS)
@pytest.mark.parametrize("only", [None, "beta"])
@pytest.mark.parametrize("path", ["hnsw walk", "exact scan"])
def test_pgvector_returns_the_exact_top_results_under_every_filter(two_synthetic_repos, where, only, path, monkeypatch):
    if not _has_pgvector():
        pytest.skip("needs a PostgreSQL with pgvector")
    monkeypatch.setattr(vectors, "EXACT_MAX_ROWS", 0 if path == "hnsw walk" else 10**9)
    repos = two_synthetic_repos
    generations = {r.pk: r.generation for name, r in repos.items() if only is None or name == only}
    engine = vectors.dense_engine()
    assert isinstance(engine, vectors.PgVectorEngine)
    rng = np.random.default_rng(7)
    for _ in range(5):
        query = rng.normal(size=32).astype(np.float32)
        query /= np.linalg.norm(query)
        exact = vectors.VectorStore().search(query, generations, model="test-model", where=where, limit=10)
        found = engine.search(query, generations, model="test-model", where=where, limit=10)
        assert exact.top, "the fixture must have vectors passing the filter"
        assert [chunk_id for chunk_id, _ in found.top] == [chunk_id for chunk_id, _ in exact.top]
        assert np.allclose([s for _, s in found.top], [s for _, s in exact.top], atol=1e-5)
        assert found.low == pytest.approx(exact.low, abs=1e-5) and found.high == pytest.approx(exact.high, abs=1e-5)
        some = [chunk_id for chunk_id, _ in exact.top[:3]]
        assert found.lookup(some) == pytest.approx(exact.lookup(some), abs=1e-5)


@pytest.mark.django_db
def test_pgvector_never_returns_a_repository_outside_the_generations_given(two_synthetic_repos):
    if not _has_pgvector():
        pytest.skip("needs a PostgreSQL with pgvector")
    repos = two_synthetic_repos
    beta_ids = set(Chunk.objects.filter(repository=repos["beta"]).values_list("pk", flat=True))
    query = np.asarray(ChunkVector.objects.filter(repository=repos["beta"]).values_list("vector", flat=True)[:1][0])
    query = np.frombuffer(bytes(query), dtype="<f4")  # beta's own vector: beta is the nearest
    found = vectors.dense_engine().search(query, {repos["alpha"].pk: 0}, model="test-model", limit=200)
    assert found.top and not {chunk_id for chunk_id, _ in found.top} & beta_ids
    assert not set(found.lookup(beta_ids)) & beta_ids


@pytest.mark.django_db
@pytest.mark.parametrize("exact_max_rows", [0, 10**9], ids=["walk then exact", "exact at once"])
def test_a_filter_that_keeps_few_rows_still_returns_k_results(two_synthetic_repos, monkeypatch, exact_max_rows):
    if not _has_pgvector():
        pytest.skip("needs a PostgreSQL with pgvector")
    # A tiny walk (as on a big index, where the filtered rows are rare among the neighbours).
    monkeypatch.setattr(vectors, "EF_SEARCH_MIN", 1)
    monkeypatch.setattr(vectors, "EF_SEARCH_MAX", 12)
    monkeypatch.setattr(vectors, "EXACT_MAX_ROWS", exact_max_rows)
    repos = two_synthetic_repos
    where = ChunkFilter(language="go", path_regex=glob_regex("core/**"))
    generations = {r.pk: 0 for r in repos.values()}
    query = np.ones(32, dtype=np.float32) / np.sqrt(32)
    wanted = len(vectors.VectorStore().search(query, generations, model="test-model", where=where, limit=10).top)
    found = vectors.dense_engine().search(query, generations, model="test-model", where=where, limit=10)
    assert wanted == 10 and len(found.top) == 10


@pytest.mark.django_db
def test_a_short_walk_walks_on_from_the_rows_it_found_and_never_scans_a_large_filter_exactly(two_synthetic_repos, monkeypatch):
    _needs_walks_that_stop_short()
    monkeypatch.setattr(vectors, "EF_SEARCH_MIN", 1)
    monkeypatch.setattr(vectors, "EF_SEARCH_MAX", 12)
    monkeypatch.setattr(vectors, "EXACT_MAX_ROWS", 0)
    monkeypatch.setattr(vectors, "EXACT_FALLBACK_MAX_ROWS", 0)  # every filter counts as too large to scan
    repos = two_synthetic_repos
    where = ChunkFilter(language="go", path_regex=glob_regex("core/**"))
    generations = {r.pk: 0 for r in repos.values()}
    rng = np.random.default_rng(11)
    gained = 0
    for _ in range(8):
        query = rng.normal(size=32).astype(np.float32)
        query /= np.linalg.norm(query)
        monkeypatch.setattr(vectors, "RESEED_WALKS", 0)
        walked = vectors.dense_engine().search(query, generations, model="test-model", where=where, limit=10)
        monkeypatch.setattr(vectors, "RESEED_WALKS", 3)
        with CaptureQueriesContext(connection) as statements:
            found = vectors.dense_engine().search(query, generations, model="test-model", where=where, limit=10)
        assert not any("+ 0" in s["sql"] for s in statements)  # no exact scan
        exact = dict(vectors.VectorStore().search(query, generations, model="test-model", where=where, limit=10_000).top)
        assert {c for c, _ in found.top} <= set(exact)  # only rows the filter keeps
        assert all(score == pytest.approx(exact[c], abs=1e-5) for c, score in found.top)  # scored against the query
        assert [s for _, s in found.top] == sorted((s for _, s in found.top), reverse=True)
        assert found.complete == (len(found.top) == 10)
        assert len(found.top) >= len(walked.top)
        gained += len(found.top) > len(walked.top)
    assert gained  # the walks from found rows did find more


@pytest.mark.django_db
def test_a_walk_without_iterative_scanning_stops_at_ef_even_where_the_server_turns_it_on(two_synthetic_repos):
    """The walk that bounds min-max fusion's scale (from −query) runs without iterative scanning:
    going on until a filtered vector turns up cost as much as the search itself at 1M chunks. It
    says so to the server, since an operator may turn iterative scans on for every session."""
    if not _has_pgvector() or not vectors._has_iterative_scan(vectors.dense_engine_info().version):
        pytest.skip("needs pgvector with iterative index scans (0.8+)")
    repos = two_synthetic_repos
    engine = vectors.dense_engine()
    generations = {r.pk: 0 for r in repos.values()}
    where = ChunkFilter(language="go", path_regex=glob_regex("core/**"))
    clauses, params = engine._filters(list(generations), "test-model", 32, where)
    query = np.ones(32, dtype=np.float32) / np.sqrt(32)
    kept = len(vectors.VectorStore().search(query, generations, model="test-model", where=where, limit=10).top)
    with connection.cursor() as cursor:
        cursor.execute("SET hnsw.iterative_scan = relaxed_order")  # as a server's configuration may
    try:
        on = engine._walk(vectors._vector_literal(query), 32, clauses, params, 10, 1, iterative=True)
        off = engine._walk(vectors._vector_literal(query), 32, clauses, params, 10, 1, iterative=False)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET hnsw.iterative_scan")
    assert len(on) == kept > len(off)


@pytest.mark.django_db
def test_a_search_repeating_its_filters_reuses_the_planner_estimates_until_they_are_old(two_synthetic_repos, monkeypatch):
    """The walk is sized by the planner's estimates (EXPLAIN), which depend on the filters, not on
    the query: an agent's next search with the same filters plans none, a search with other
    filters does, and after ``_ENGINE_TTL_SECONDS`` they are read again."""
    if not _has_pgvector():
        pytest.skip("needs a PostgreSQL with pgvector")
    monkeypatch.setattr(vectors, "EXACT_MAX_ROWS", 0)
    repos = two_synthetic_repos
    generations = {r.pk: 0 for r in repos.values()}
    engine = vectors.dense_engine()
    rng = np.random.default_rng(5)

    def explains(where):
        query = rng.normal(size=32).astype(np.float32)
        with CaptureQueriesContext(connection) as statements:
            found = engine.search(query / np.linalg.norm(query), generations, model="test-model", where=where, limit=5)
        assert len(found.top) == 5
        return sum(s["sql"].lstrip().upper().startswith("EXPLAIN") for s in statements)

    api = ChunkFilter(path_regex=glob_regex("api/**"))
    assert explains(api) == 2
    assert explains(api) == 0
    assert explains(ChunkFilter(language="go")) == 1  # the whole index's size is known already
    now = time.monotonic()
    monkeypatch.setattr(vectors.time, "monotonic", lambda: now + vectors._ENGINE_TTL_SECONDS + 1)
    assert explains(api) == 2


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["hnsw walk", "exact scan"])
def test_vectors_whose_column_is_not_filled_yet_are_left_out(two_synthetic_repos, path, monkeypatch):
    """While ``enable_pgvector`` fills the column, searches already run on pgvector; a row it has
    not reached yet has no cosine to give (NULL), and must not end the search."""
    if not _has_pgvector():
        pytest.skip("needs a PostgreSQL with pgvector")
    monkeypatch.setattr(vectors, "EXACT_MAX_ROWS", 0 if path == "hnsw walk" else 10**9)
    repos = two_synthetic_repos
    generations = {r.pk: r.generation for r in repos.values()}
    query = np.ones(32, dtype=np.float32) / np.sqrt(32)
    before = vectors.dense_engine().search(query, generations, model="test-model", limit=10)
    unfilled = [chunk_id for chunk_id, _ in before.top[:3]]
    with connection.cursor() as cursor:
        cursor.execute("UPDATE codeindex_chunkvector SET embedding = NULL WHERE chunk_id = ANY(%s)", [unfilled])
    found = vectors.dense_engine().search(query, generations, model="test-model", limit=10)
    assert [c for c, _ in found.top] == [c for c, _ in before.top[3:]] + [c for c, _ in found.top[7:]]
    assert len(found.top) == 10 and not set(unfilled) & {c for c, _ in found.top}
    assert found.lookup(unfilled + [found.top[0][0]]) == {found.top[0][0]: pytest.approx(found.top[0][1])}


@pytest.mark.django_db
def test_a_large_repository_gets_its_own_index_which_a_search_limited_to_it_walks(two_synthetic_repos, monkeypatch):
    if not _has_pgvector():
        pytest.skip("needs a PostgreSQL with pgvector")
    repos = two_synthetic_repos
    alpha, beta = repos["alpha"], repos["beta"]
    sizes = {r.name: ChunkVector.objects.filter(repository=r).count() for r in (alpha, beta)}
    monkeypatch.setattr(vectors, "REPOSITORY_INDEX_MIN_ROWS", sizes["alpha"])  # alpha is large, beta is not
    monkeypatch.setattr(vectors, "EXACT_MAX_ROWS", 0)  # always walk
    with connection.cursor() as cursor:  # as in a new transaction: the fixture's foreign-key checks done
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    _random_vectors(alpha, "test-model", 32, seed=3)  # stored again: past the threshold now
    _random_vectors(beta, "test-model", 32, seed=4)
    own = {r.name: vectors._index_name("test-model", 32, r.pk) for r in (alpha, beta)}
    with connection.cursor() as cursor:
        cursor.execute("SELECT relname FROM pg_class WHERE relname = ANY(%s)", [list(own.values())])
        assert {row[0] for row in cursor.fetchall()} == {own["alpha"]}
    query = np.ones(32, dtype=np.float32) / np.sqrt(32)
    exact = vectors.VectorStore().search(query, {alpha.pk: 0}, model="test-model", limit=10)
    with CaptureQueriesContext(connection) as statements:
        found = vectors.dense_engine().search(query, {alpha.pk: 0}, model="test-model", limit=10)
    assert [c for c, _ in found.top] == [c for c, _ in exact.top]
    walk = next(s["sql"] for s in statements if "ORDER BY" in s["sql"] and "<=>" in s["sql"])
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("ANALYZE codeindex_chunkvector, codeindex_chunk")
        # a table this small would otherwise be read whole and sorted: ask whether the index can serve
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("EXPLAIN " + walk)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert own["alpha"] in plan, plan


@pytest.mark.django_db
def test_the_in_memory_engine_serves_when_pgvector_is_missing_or_turned_off(two_synthetic_repos, settings):
    if _has_pgvector():
        settings.MCPRAG_DENSE_ENGINE = "memory"  # the same fallback, on a server that has it
    vectors.forget_engine()
    info = vectors.dense_engine_info()
    assert info.name == "in-memory"
    assert isinstance(vectors.dense_engine(), vectors.VectorStore)
    if connection.vendor == "postgresql" and settings.MCPRAG_DENSE_ENGINE != "memory":
        assert "CREATE EXTENSION vector" in info.detail and "enable_pgvector" in info.detail
    repos = two_synthetic_repos
    query = np.ones(32, dtype=np.float32) / np.sqrt(32)
    found = vectors.dense_engine().search(query, {r.pk: r.generation for r in repos.values()}, model="test-model",
                                          where=ChunkFilter(language="go"), limit=5)
    assert len(found.top) == 5
    assert set(Chunk.objects.filter(pk__in=[c for c, _ in found.top]).values_list("language", flat=True)) == {"go"}


@pytest.mark.django_db
def test_health_names_the_dense_engine_and_the_optional_extensions():
    report = health(access=SYSTEM)
    expected = "pgvector" if _has_pgvector() else "in-memory"
    assert report.dense_engine.startswith(expected)
    if connection.vendor == "postgresql":
        assert set(report.extensions) == {"vector", "pg_trgm"}
        assert report.extensions["vector"].startswith("0.") == (expected == "pgvector")
        for state in report.extensions.values():
            assert state.startswith(("0.", "1.")) or state.startswith("not installed")


@pytest.mark.django_db
def test_the_migration_marks_the_vectors_stored_before_it(two_synthetic_repos):
    import importlib
    from types import SimpleNamespace

    from django.apps import apps

    migration = importlib.import_module("codeindex.migrations.0012_vector_in_tests")
    ChunkVector.objects.update(in_tests=False)  # as the column's default leaves them
    migration.forwards(apps, SimpleNamespace(connection=connection))  # all it reads of its schema editor
    stored = list(ChunkVector.objects.values_list("chunk__path", "in_tests"))
    assert any(flag for _, flag in stored)
    assert all(path.startswith("tests/") == flag for path, flag in stored)


@pytest.mark.django_db
def test_the_vectors_outside_tests_get_their_own_index_which_an_exclude_tests_search_walks(two_synthetic_repos, monkeypatch):
    """A query near test code, with ``exclude_tests``: a walk of the whole index meets only tests'
    vectors and keeps nothing; the walk of the non-test vectors' own index finds the nearest code."""
    _needs_walks_that_stop_short()
    repos = two_synthetic_repos
    alpha = repos["alpha"]
    monkeypatch.setattr(vectors, "NONTEST_INDEX_MIN_ROWS", 1)  # beta's vectors outside tests are enough
    for name, value in (("EF_SEARCH_MIN", 12), ("EF_SEARCH_MAX", 12), ("EXACT_MAX_ROWS", 0), ("EXACT_FALLBACK_MAX_ROWS", 0)):
        monkeypatch.setattr(vectors, name, value)  # always a short walk, never an exact scan
    with connection.cursor() as cursor:  # as in a new transaction: the fixture's foreign-key checks done
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    # alpha's test vectors all lie close to the query, its other vectors anywhere
    rng = np.random.default_rng(5)
    query = rng.normal(size=32).astype(np.float32)
    query /= np.linalg.norm(query)
    rows = []
    for pk, path in Chunk.objects.filter(repository=alpha).order_by("pk").values_list("pk", "path"):
        v = query + (0.05 if path.startswith("tests/") else 3.0) * rng.normal(size=32).astype(np.float32) / np.sqrt(32)
        rows.append(vectors.VectorRow(pk, alpha.pk, "test-model", f"h{pk}", to_bytes(v / np.linalg.norm(v)), path=path))
    ChunkVector.objects.filter(repository=alpha).delete()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE codeindex_chunkvector")  # the planner's estimate decides when the index is built
    vectors.store_vectors(rows)
    own = vectors._index_name("test-model", 32, without_tests=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT relname FROM pg_class WHERE relname = %s", [own])
        assert cursor.fetchone() is not None
        cursor.execute("ANALYZE codeindex_chunkvector, codeindex_chunk")
    generations = {r.pk: 0 for r in repos.values()}
    where = ChunkFilter(exclude_tests=True)
    exact = vectors.VectorStore().search(query, generations, model="test-model", where=where, limit=10)
    with connection.cursor() as cursor:  # until the test's transaction ends: a table this small would otherwise be read whole
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
    with CaptureQueriesContext(connection) as statements:
        found = vectors.dense_engine().search(query, generations, model="test-model", where=where, limit=10)
    walk = next(s["sql"] for s in statements if "ORDER BY" in s["sql"] and "<=>" in s["sql"])
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + walk)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert own in plan, plan
    assert found.complete and [c for c, _ in found.top] == [c for c, _ in exact.top]



def _handlers(i: int, extra: bool = False) -> str:
    text = "".join(f"def handler_{i}_{j}(request):\n    value = request.get('k{j}')\n    return value * {j}\n\n\n" for j in range(2))
    return text + (f"def added_later_{i}(request):\n    return request.path\n" if extra else "")


@pytest.mark.django_db
def test_an_index_job_asks_whether_the_vector_indexes_are_due_once_not_once_per_file(make_tree, dense_embeddings, monkeypatch):
    """Each changed file whose chunks reuse stored vectors is one ``store_vectors`` call; whether the
    index of the vectors outside tests is due (the planner's estimate, ``EXPLAIN``) and whether the
    repository's own index is (a count) is read once in the job, then projected from the rows
    stored since, not read again for every file."""
    if not _has_pgvector():
        pytest.skip("needs a PostgreSQL with pgvector")
    files = {f"pkg/mod{i}.py": _handlers(i) for i in range(8)}
    root = make_tree(files, name="many")
    index_repository(root, "many", embeddings="now")
    for i in range(8):  # each file changes; its two functions keep their text, so their vectors are reused
        (root / f"pkg/mod{i}.py").write_text(_handlers(i, extra=True))
    vectors.forget_engine()  # as in a process that has read nothing yet
    monkeypatch.setattr(vectors, "_ENGINE_TTL_SECONDS", 3600.0)  # however slow this machine, one reading lasts the job
    with CaptureQueriesContext(connection) as statements:
        report = index_repository(root, "many", embeddings="skip")
    assert report.files_changed == 8 and report.vectors_reused >= 16, report
    explains = [s["sql"] for s in statements if s["sql"].lstrip().upper().startswith("EXPLAIN") and "in_tests" in s["sql"]]
    counts = [s["sql"] for s in statements if "count(*)" in s["sql"] and "codeindex_chunkvector" in s["sql"]]
    assert len(explains) == 1, explains
    assert len(counts) == 1, counts


# -- through search_page, with the real model -----------------------------------------------------

SECRET = {"vault/keys.py": 'def rotate_signing_keys(store):\n    """Rotate the signing keys of the payment vault."""\n'
          "    for key in store.keys():\n        store.retire(key)\n"}
OPEN = {"web/views.py": 'def render_home(request):\n    """Render the home page."""\n    return page("home")\n',
        # close enough in meaning to the vault's function to clear the relevance floor
        "web/sessions.py": 'def rotate_session_keys(store):\n    """Rotate the signing keys of the web sessions."""\n'
                           "    for key in store.keys():\n        store.retire(key)\n"}


@pytest.mark.django_db
def test_a_private_repository_never_leaks_through_dense_search(make_tree, dense_embeddings):
    index_repository(make_tree(OPEN, name="open"), "open")
    index_repository(make_tree(SECRET, name="vault"), "vault")
    vault = Repository.objects.get(name="vault")
    vault.visibility = Visibility.GROUPS
    vault.save()
    vault.groups.add(Group.objects.create(name="payments"))
    request = SearchRequest("rotate the signing keys of the payment vault", max_results=10)
    outsider = search_page(request, access=RepositoryAccess(groups=frozenset({"web"})))
    insider = search_page(request, access=RepositoryAccess(groups=frozenset({"payments"})))
    assert "dense" in outsider.signals_used and "dense" in insider.signals_used
    assert {hit.repository for hit in outsider.hits} == {"open"}
    assert insider.hits[0].repository == "vault"


@pytest.mark.django_db
def test_a_dense_search_cut_short_says_so_and_lexical_results_remain(make_tree, dense_embeddings, monkeypatch):
    _needs_walks_that_stop_short()
    # Every filter counts as too large to compare exactly, and a walk keeps one row: the query's
    # nearest vector, a test's, which exclude_tests then drops; no row is left to walk on from.
    for name, value in (("EF_SEARCH_MIN", 1), ("EF_SEARCH_MAX", 1), ("EXACT_MAX_ROWS", 0), ("EXACT_FALLBACK_MAX_ROWS", 0)):
        monkeypatch.setattr(vectors, name, value)
    tree = dict(OPEN, **{"tests/test_home.py": 'def test_the_home_page_renders():\n    """Test that the home page renders."""\n'
                                               '    assert render_home(None) == page("home")\n'})
    index_repository(make_tree(tree, name="open"), "open")
    question = "test that the home page renders"
    assert "dense" in search_page(SearchRequest(question), access=SYSTEM).signals_used  # the one row walked
    page = search_page(SearchRequest(question, exclude_tests=True), access=SYSTEM)
    assert page.signals_used == ["lexical"] and "too many to compare" in page.dense_note
    assert "backfill" not in page.dense_note  # the vectors exist: nothing to backfill
    assert page.hits and page.hits[0].path == "web/views.py"


@pytest.mark.django_db
def test_filters_that_leave_no_vector_say_so_instead_of_asking_for_a_backfill(make_tree, dense_embeddings):
    index_repository(make_tree(OPEN, name="open"), "open")
    page = search_page(SearchRequest("rotate the signing keys", path_glob="nowhere/**"), access=SYSTEM)
    assert page.hits == [] and page.signals_used == ["lexical"]
    assert page.dense_note == "no chunk passes the filters (path_glob 'nowhere/**')"  # every chunk has a vector


def test_coverage_is_whole_only_when_every_chunk_has_a_vector():
    # the note above says "no chunk passes the filters" from a coverage of 1.0: one missing vector
    # in 20,000 chunks must not round up to it
    assert _coverage(19_999, 20_000) == 0.9999 and _coverage(20_000, 20_000) == 1.0
    assert _coverage(29, 100) == 0.29 and _coverage(1, 3) == 0.3333 and _coverage(0, 0) == 1.0


@pytest.mark.django_db
def test_a_query_whose_unclosed_quote_matches_nothing_says_the_quote_is_the_filter(make_tree, dense_embeddings):
    # the '"' makes ' ( ) :' exact text that no chunk holds: the dense signal has nothing to rank
    index_repository(make_tree(OPEN, name="open"), "open")
    page = search_page(SearchRequest('OR AND NOT NEAR * ^ " ( ) :'), access=SYSTEM)
    assert page.hits == [] and page.signals_used == ["lexical"]
    assert page.dense_note == ("no chunk passes the filters (exact ' ( ) :' (quoted in the query: "
                               'a " starts exact text, to the next " or the end))')


@pytest.mark.django_db
def test_chunks_that_pass_the_filters_but_have_no_vector_are_told_from_filters_that_match_nothing(make_tree, dense_embeddings):
    index_repository(make_tree(OPEN, name="open"), "open")
    repository = Repository.objects.get(name="open")
    ChunkVector.objects.filter(chunk__path="web/sessions.py").delete()  # as if its embedding failed
    bump_generation(repository)
    found = search_page(SearchRequest("rotate the signing keys", path_glob="web/sessions.py"), access=SYSTEM)
    assert [hit.path for hit in found.hits] == ["web/sessions.py"] and found.signals_used == ["lexical"]
    assert found.dense_note == ("none of the chunks that pass the filters (path_glob 'web/sessions.py') has a vector yet; "
                                "50% of the chunks in scope have one (run backfill_embeddings)")
    # nothing lexical either: with chunks still unembedded, either may be why, and the note says so
    unknown = search_page(SearchRequest("zebra crossing lights", path_glob="web/session*.py"), access=SYSTEM)
    assert unknown.hits == [] and unknown.dense_note == (
        "no chunk that passes the filters (path_glob 'web/session*.py') has a vector, if any passes them; "
        "50% of the chunks in scope have one (run backfill_embeddings)")


def _version(n: int) -> dict[str, str]:
    body = "".join(f"def step_{j}_of_release_v{n}(ctx):\n    return ctx.release('marker_v{n}', {j})\n\n\n" for j in range(4))
    return {"release/steps.py": body}


@pytest.mark.django_db(transaction=True)
def test_a_reindex_under_concurrent_search_never_shows_half_a_file(make_tree, dense_embeddings):
    root = make_tree(_version(0), name="rel")
    index_repository(root, "rel")
    stop = threading.Event()
    mixed, seen, errors = [], set(), []

    def searcher():
        try:
            while not stop.is_set():
                page = search_page(SearchRequest("steps of the release", max_results=20), access=SYSTEM)
                versions = {hit.symbol.rsplit("_v", 1)[1] for hit in page.hits if hit.path == "release/steps.py"}
                seen.update(versions)
                if len(versions) > 1 or (versions and len([h for h in page.hits if h.path == "release/steps.py"]) != 4):
                    mixed.append(versions)
        except Exception as exc:  # reported below; a thread must not swallow it
            errors.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=searcher)
    thread.start()
    try:
        for n in range(1, 7):
            (root / "release/steps.py").write_text(_version(n)["release/steps.py"])
            index_repository(root, "rel")
    finally:
        stop.set()
        thread.join()
    assert not errors and not mixed
    assert len(seen) >= 2  # the searches did run while versions changed


@pytest.mark.django_db
def test_the_console_repositories_page_names_the_dense_engine(client):
    from django.contrib.auth import get_user_model
    from django.urls import reverse

    operator = get_user_model().objects.create_user("op", "op@example.com", "pw", is_staff=True, is_superuser=True)
    client.force_login(operator)
    session = client.session
    session["otp_device_id"] = None
    session.save()
    page = client.get(reverse("console:repository-list"))
    expected = "pgvector" if _has_pgvector() else "in-memory"
    assert page.status_code == 200, page.status_code
    assert f"Dense search engine: <strong>{expected}" in page.content.decode()


@pytest.mark.django_db
def test_exact_and_path_filters_match_literally_through_the_file_indexes(two_synthetic_repos):
    from codeindex.lexical import matching_chunk_ids

    def contents(where):
        return set(Chunk.objects.filter(pk__in=matching_chunk_ids(where)).values_list("content", flat=True))

    literal = contents(ChunkFilter(exact=("handler_1_",)))
    assert literal and all("handler_1_" in text for text in literal)
    assert contents(ChunkFilter(exact=("handler%1",))) == set()  # % is no wildcard
    assert contents(ChunkFilter(exact=("handler_1x",))) == set()  # nor is _
    paths = set(Chunk.objects.filter(pk__in=matching_chunk_ids(ChunkFilter(path_regex=glob_regex("api/*.go"))))
                .values_list("path", flat=True))
    assert paths and all(p.startswith("api/") and p.endswith(".go") for p in paths)
