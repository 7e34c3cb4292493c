"""Dense search: nearest chunks to a query vector, in PostgreSQL with pgvector or in memory.

Two engines answer the same ``search`` call (``dense_engine()`` picks one per database):

=========  ===========================================================================================
pgvector   PostgreSQL with the ``vector`` extension: each vector is also stored in
           ``codeindex_chunkvector.embedding`` (type ``vector``), written by ``store_vectors`` in the
           transaction that writes its chunk, and searched in SQL through an HNSW index for cosine
           distance (one partial expression index per model and dimension, and one per large
           repository, ``ensure_dense_index``).
           Repository access, repository, language, path and exact filters are part of the same
           statement. Processes keep no copy of the vectors; a commit is searchable at once.
in-memory  everywhere else (SQLite, PostgreSQL without pgvector, or ``MCPRAG_DENSE_ENGINE=memory``):
           ``VectorStore`` below, one numpy matrix per repository in each process.
=========  ===========================================================================================

pgvector 0.6 has no iterative index scan, so a filter applied after the HNSW walk can leave fewer
than ``limit`` rows. ``PgVectorEngine`` therefore asks the planner (``EXPLAIN``, no scan) how many
vectors of the model there are and how many pass the search's repository and other filters: at
most ``EXACT_MAX_ROWS`` are compared exactly (every filtered row, through the b-tree indexes, in one
scan that also gives the lowest cosine); more are found by an HNSW walk whose ``hnsw.ef_search`` is
``limit`` × 4 divided by the share of vectors kept (at least ``EF_SEARCH_MIN``, at most the
extension's 1000), run once more at 1000 when it came back short from a walk of at most 500. A walk
that still came back short is followed by an exact comparison of the filtered vectors when there are
at most ``EXACT_FALLBACK_MAX_ROWS`` of them, so such a query returns its ``limit`` rows when they
exist. A filter keeping more (``exclude_tests`` over a large index, with a query among test code)
does not scan most of the index: it walks on from the filtered vectors it did find (``RESEED_WALKS``
walks, each ordered by distance to one of them and scored against the query: filtered vectors lie
together, as the files of a folder do) and returns what it found, with ``DenseResult.complete``
False when that is fewer than ``limit``.
A repository with at least ``REPOSITORY_INDEX_MIN_ROWS`` vectors also has an HNSW index of its own
(partial, ``WHERE repository_id = N``), which the planner uses for a search limited to that
repository: its walk visits that repository's vectors only. Likewise, once a model has more than
``NONTEST_INDEX_MIN_ROWS`` vectors outside test files, those have an index of their own (``WHERE
NOT in_tests``, ``ChunkVector.in_tests`` set from ``testpaths`` when a vector is stored), which an
``exclude_tests`` search walks: a query near test code then still finds the nearest code. ``bench/scale.py`` measures the paths.
Where the extension has iterative scans (0.8+), ``hnsw.iterative_scan = relaxed_order`` is set and
the walk goes on until the filter is satisfied (the walk from −query that bounds the score scale
turns it off: a bound needs no filtered row). The planner's estimates that size a walk depend on the
filters only, so a process reuses them for ``_ENGINE_TTL_SECONDS``.

Measured at 1M chunks on pgvector 0.8.6 (``bench/scale.py``, 2 cores, queries near a chunk the
filters keep, ``shared_buffers`` holding the indexes): recall@10 0.96-1.0 under every filter, p50
10-18 ms, p99 at most 31 ms. A query with no kept chunk near it (a path filter on folders far from
it) gets 0.63: its exact top 10 are hardly nearer than the thousands after them (cosine 0.19
against 0.16 for the 100th), and those found are within 5 %.

In-memory engine:

The store is a per-process cache of ``ChunkVector`` rows, never a source of truth. Each block
remembers the repository's ``generation`` it was loaded at; a search passes the generations it
read from the database (one small query it makes anyway for access control), and only blocks
whose generation moved are reloaded. There is no per-request reload and no timer.

    store = vector_store()
    result = store.search(query_vector, {repo_id: generation}, model="all-MiniLM-L6-v2", limit=200)
    result.top           # [(chunk_id, cosine), ...] best first
    result.lookup([17])  # cosine of chunk 17 (for lexical candidates outside the top)
"""

from __future__ import annotations

import hashlib
import json
import math
import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field, replace

import numpy as np
from django.db import DatabaseError, connection, transaction

from .app_settings import app_settings
from .embeddings import from_bytes
from .lexical import ChunkFilter, chunk_filter_sql, matching_chunk_ids
from .models import ChunkVector
from .patterns import compiled
from .testpaths import is_test_path

__all__ = [
    "VectorStore", "PgVectorEngine", "DenseResult", "DenseEngineInfo", "VectorRow", "QueryVectorCache", "vector_store",
    "query_vector_cache", "dense_engine", "dense_engine_info", "store_vectors", "ensure_dense_index", "ensure_repository_indexes",
    "enable_pgvector", "ensure_nontest_index", "NONTEST_INDEX_MIN_ROWS",
    "forget_engine",
]

log = logging.getLogger(__name__)

#: In-memory engine: path filters whose per-file result a block keeps (``_Block.path_mask``).
PATH_MASKS_KEPT = 16


@dataclass
class _Block:
    generation: int
    ids: np.ndarray  # int64, sorted
    matrix: np.ndarray  # float32, n × dim
    languages: np.ndarray  # object (str) per row
    path_index: np.ndarray  # int32 per row, into paths
    paths: list[str]
    loaded_at: float = field(default_factory=time.time)
    #: path regex → bool per entry of ``paths``. A block is replaced when its generation moves, so a
    #: kept mask is never stale; a repeated filter such as ``exclude_tests`` runs its regex once per
    #: file until ``PATH_MASKS_KEPT`` other patterns have filled the cache, which is then emptied
    #: whole (not least-recently-used: one atomic step, as searches share blocks across threads).
    path_masks: dict = field(default_factory=dict, repr=False)

    def path_mask(self, regex: str) -> np.ndarray:
        """Whether each of ``paths`` matches ``regex`` (cached: up to about ``PATH_MASKS_KEPT`` patterns;
        two threads may compute the same mask once)."""
        mask = self.path_masks.get(regex)
        if mask is None:
            pattern = compiled(regex)
            mask = np.fromiter((bool(pattern.search(p)) for p in self.paths), dtype=bool, count=len(self.paths))
            if len(self.path_masks) >= PATH_MASKS_KEPT:
                self.path_masks.clear()
            self.path_masks[regex] = mask
        return mask

    @property
    def nbytes(self) -> int:
        return int(self.matrix.nbytes + self.ids.nbytes + self.path_index.nbytes)


@dataclass
class DenseResult:
    """Dense scores of one query over the filtered chunks: the best ``limit`` and every score's
    range (``low``..``high``) for min-max normalisation."""

    top: list[tuple[int, float]]
    low: float
    high: float
    scored: int
    #: False when an approximate search found fewer than ``limit`` rows and an exact scan of the
    #: filtered vectors was too large to run (``EXACT_FALLBACK_MAX_ROWS``): more may exist.
    complete: bool = True
    _blocks: list[tuple[_Block, np.ndarray, np.ndarray]] = field(default_factory=list, repr=False)
    _lookup: object = field(default=None, repr=False)  # pgvector: chunk ids → {id: cosine}, in SQL

    def lookup(self, chunk_ids) -> dict[int, float]:
        """Cosine scores of the given chunks, where they passed the filters."""
        if self._lookup is not None:
            return self._lookup(chunk_ids)
        found: dict[int, float] = {}
        wanted = np.asarray(sorted(set(chunk_ids)), dtype=np.int64)
        for block, rows, scores in self._blocks:
            ids = block.ids[rows]
            pos = np.searchsorted(ids, wanted)
            pos[pos >= len(ids)] = 0
            hit = ids[pos] == wanted if len(ids) else np.zeros(len(wanted), bool)
            for chunk_id, p in zip(wanted[hit], pos[hit]):
                found[int(chunk_id)] = float(scores[p])
        return found


class VectorStore:
    """The in-memory engine: each repository's vectors as one numpy matrix, loaded on first use
    and reloaded when the repository's generation moves."""

    name = "in-memory"

    def __init__(self) -> None:
        self._blocks: dict[tuple[int, str], _Block] = {}
        self._lock = threading.Lock()
        self.loads = 0

    def search(self, query: np.ndarray, generations: dict[int, int], *, model: str, where: ChunkFilter | None = None,
               language: str | None = None, path_regex: str | None = None, allowed: set[int] | None = None,
               limit: int = 200) -> DenseResult:
        """The ``limit`` best chunks by cosine among the repositories in ``generations`` (id →
        generation read with access control) that pass ``where`` (or ``language``, ``path_regex``
        and ``allowed`` ids)."""
        if where is not None:
            language, path_regex = where.language, where.path_regex
            if where.exact:
                allowed = matching_chunk_ids(replace(where, repository_ids=tuple(generations)))
        q = np.asarray(query, dtype=np.float32)
        parts, kept = [], []
        for repo_id, generation in generations.items():
            block = self._block(repo_id, generation, model)
            if block is None or not len(block.ids):
                continue
            rows = self._rows(block, language, path_regex, allowed, where)
            if rows is not None and not len(rows):
                continue
            rows = np.arange(len(block.ids)) if rows is None else rows
            scores = block.matrix[rows] @ q if len(rows) != len(block.ids) else block.matrix @ q
            kept.append((block, rows, scores))
            take = min(limit, len(scores))
            best = np.argpartition(-scores, take - 1)[:take]
            parts.extend(zip(block.ids[rows][best].tolist(), scores[best].tolist()))
        if not kept:
            return DenseResult([], 0.0, 0.0, 0)
        parts.sort(key=lambda item: (-item[1], item[0]))
        low = min(float(s.min()) for _, _, s in kept)
        high = max(float(s.max()) for _, _, s in kept)
        return DenseResult(parts[:limit], low, high, sum(len(s) for _, _, s in kept), _blocks=kept)

    def _rows(self, block: _Block, language: str | None, path_regex: str | None, allowed: set[int] | None,
              where: ChunkFilter | None = None):
        """Row numbers of ``block`` passing the filters, or None for every row."""
        conditions = []
        if language is not None:
            conditions.append(block.languages == language)
        if path_regex is not None:
            conditions.append(block.path_mask(path_regex)[block.path_index])
        if where is not None and where.excluded_paths_regex is not None:
            conditions.append(~block.path_mask(where.excluded_paths_regex)[block.path_index])
        if where is not None and where.exclude_languages:
            conditions.append(~np.isin(block.languages, list(where.exclude_languages)))
        mask = None
        for condition in conditions:
            mask = condition if mask is None else mask & condition
        if allowed is not None:
            by_id = np.isin(block.ids, np.fromiter(allowed, dtype=np.int64, count=len(allowed)))
            mask = by_id if mask is None else mask & by_id
        return None if mask is None else np.flatnonzero(mask)

    def _block(self, repo_id: int, generation: int, model: str) -> _Block | None:
        key = (repo_id, model)
        block = self._blocks.get(key)
        if block is not None and block.generation == generation:
            return block
        with self._lock:
            block = self._blocks.get(key)
            if block is None or block.generation != generation:
                block = _load(repo_id, generation, model)
                self._blocks[key] = block
                self.loads += 1
        return block

    def forget(self, repo_id: int | None = None) -> None:
        with self._lock:
            if repo_id is None:
                self._blocks.clear()
            else:
                for key in [k for k in self._blocks if k[0] == repo_id]:
                    del self._blocks[key]

    def stats(self, repo_ids: set[int] | None = None) -> dict:
        blocks = [b for (rid, _), b in self._blocks.items() if repo_ids is None or rid in repo_ids]
        return {
            "repositories": len(blocks),
            "vectors": int(sum(len(b.ids) for b in blocks)),
            "bytes": int(sum(b.nbytes for b in blocks)),
            "loads": self.loads,
        }


def _load(repo_id: int, generation: int, model: str) -> _Block:
    rows = list(
        ChunkVector.objects.filter(repository_id=repo_id, model=model)
        .order_by("chunk_id")
        .values_list("chunk_id", "vector", "chunk__language", "chunk__path")
    )
    if not rows:
        return _Block(generation, np.zeros(0, np.int64), np.zeros((0, 0), np.float32), np.zeros(0, object), np.zeros(0, np.int32), [])
    paths: dict[str, int] = {}
    path_index = np.fromiter((paths.setdefault(r[3], len(paths)) for r in rows), dtype=np.int32, count=len(rows))
    matrix = np.vstack([from_bytes(r[1]) for r in rows])
    return _Block(
        generation=generation,
        ids=np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows)),
        matrix=np.ascontiguousarray(matrix, dtype=np.float32),
        languages=np.asarray([r[2] for r in rows], dtype=object),
        path_index=path_index,
        paths=list(paths),
    )


_STORE = VectorStore()


def vector_store() -> VectorStore:
    """The process's store (a cache: any replica rebuilds it from the database)."""
    return _STORE


class QueryVectorCache:
    """The last ``size`` query vectors (keyed by model and text), so a repeated or paged query
    skips the embedding step (~14 ms on two CPU cores)."""

    def __init__(self, size: int = 1024) -> None:
        self.size = size
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, provider, text: str) -> np.ndarray:
        key = (provider.model, text)
        with self._lock:
            vector = self._items.get(key)
            if vector is not None:
                self._items.move_to_end(key)
                self.hits += 1
                return vector
            self.misses += 1
        vector = provider.embed_query(text)
        with self._lock:
            self._items[key] = vector
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return vector

    def stats(self) -> dict:
        return {"entries": len(self._items), "hits": self.hits, "misses": self.misses, "capacity": self.size}

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self.hits = self.misses = 0


_QUERY_VECTORS = QueryVectorCache()


def query_vector_cache() -> QueryVectorCache:
    return _QUERY_VECTORS


# -- engine choice ----------------------------------------------------------------------------

#: ``hnsw.ef_search`` bounds: 1000 is the extension's maximum; at least 400 because recall@10 of an
#: unfiltered walk over 1M chunks (``bench/scale.py``, m = 16, ef_construction = 128) is 0.80 at 100,
#: 0.91 at 200 and 0.95 at 400 (pgvector's default, 40, gives 0.64).
EF_SEARCH_MIN = 400
EF_SEARCH_MAX = 1000
#: ``hnsw.ef_search`` at least for the walk from −query that finds the lowest cosine (min-max fusion
#: needs a bound, not the exact top).
EF_SEARCH_FARTHEST = 100
#: A search whose filters keep at most this many vectors (the planner's estimate) compares them
#: all exactly: cheaper than a walk that would have to visit many others to find them.
EXACT_MAX_ROWS = 5_000
#: A repository with at least this many vectors of a model gets its own HNSW index (partial, ``WHERE
#: repository_id = N``): a search limited to it then walks a graph of its vectors only, where a walk of
#: the whole index with the repository as a post-filter kept a few of ``ef_search`` rows (at 1M
#: chunks, one repository of 20: recall@10 0.87 at 193 ms, most of it the exact fallback). Each vector
#: is then in two graphs (twice the index size and insert cost).
REPOSITORY_INDEX_MIN_ROWS = 2 * EXACT_MAX_ROWS
#: A walk that came back short is followed by an exact comparison of the filtered vectors when the
#: planner estimates at most this many of them. A filter keeping more (``exclude_tests`` on a large
#: index, with a query among test code: at 1M chunks an exact scan of the ~730k vectors it keeps took
#: 17 s) walks on from the filtered vectors found instead, and returns what those walks found, fewer
#: than asked when they found fewer (``DenseResult.complete`` is then False).
EXACT_FALLBACK_MAX_ROWS = 100_000
#: A model with more than this many vectors outside test files gets an HNSW index of those alone
#: (partial, ``WHERE NOT in_tests``), which ``exclude_tests`` searches walk. Fewer are answered by the
#: global index and, when its walk comes back short, the exact comparison above. At 1M chunks
#: (``bench/scale.py``, ~730k outside tests, ``ef_search`` 400), recall@10 of ``exclude_tests``:
#: queries near code 0.84 from the global index's walk less its test rows, 1.0 from this index;
#: queries among test code 0.34 (from none at all for 14 of 100 queries before): there the nearest
#: code of the benchmark's synthetic vectors is hardly nearer than any other.
NONTEST_INDEX_MIN_ROWS = EXACT_FALLBACK_MAX_ROWS
#: How many of the filtered vectors found a walk walks on from (``PgVectorEngine._reseeded``).
RESEED_WALKS = 3
#: How long a process trusts what it read about the database's extensions (an operator enabling
#: pgvector is picked up without a restart), a missing index, and the row counts that decide when
#: an index is built (``_Tally``: rows other processes store are counted after at most this long).
_ENGINE_TTL_SECONDS = 30.0

_EMBEDDING_COLUMN = "embedding"


@dataclass(frozen=True)
class DenseEngineInfo:
    """Which dense engine serves this database and why: ``name`` is ``pgvector`` or
    ``in-memory``; ``version`` the extension's (pgvector only); ``detail`` one line for health
    checks and the console, e.g. "pgvector 0.6.2: HNSW cosine index in PostgreSQL"."""

    name: str
    version: str
    detail: str
    #: The ``embedding`` column exists (pgvector enabled): every stored vector must fill it.
    stores_embeddings: bool = False

    def __str__(self) -> str:
        return self.detail


_engine_cache: dict[str, tuple[float, DenseEngineInfo]] = {}
_engine_lock = threading.Lock()


def forget_engine() -> None:
    """Read the database's extensions again on the next search (tests, ``enable_pgvector``)."""
    with _engine_lock:
        _engine_cache.clear()
    _known_indexes.clear()
    _missing_indexes.clear()
    _nontest_rows.clear()
    _repository_rows.clear()
    _row_estimates.clear()


def dense_engine_info() -> DenseEngineInfo:
    """The engine ``dense_engine()`` uses on the default database, read at most every 30 s."""
    key = f"{connection.vendor}:{connection.settings_dict.get('NAME')}:{app_settings.DENSE_ENGINE}"
    now = time.monotonic()
    cached = _engine_cache.get(key)
    if cached is not None and now - cached[0] < _ENGINE_TTL_SECONDS:
        return cached[1]
    info = _detect()
    with _engine_lock:
        _engine_cache[key] = (now, info)
    return info


def _detect() -> DenseEngineInfo:
    memory = "in-memory: vectors in each process's memory (numpy)"
    if connection.vendor != "postgresql":
        return DenseEngineInfo("in-memory", "", f"{memory}; {connection.vendor} has no pgvector")
    state = _pg_vector_state()
    if app_settings.DENSE_ENGINE == "memory":
        return DenseEngineInfo("in-memory", "", f"{memory}; MCPRAG_DENSE_ENGINE=memory",
                               stores_embeddings=bool(state["installed"] and state["column"]))
    if state["installed"] and state["column"]:
        extra = "iterative index scans" if _has_iterative_scan(state["installed"]) else "filters widen the index walk"
        return DenseEngineInfo("pgvector", state["installed"],
                               f"pgvector {state['installed']}: HNSW cosine index in PostgreSQL ({extra})",
                               stores_embeddings=True)
    if state["installed"]:
        return DenseEngineInfo("in-memory", "", f"{memory}; pgvector {state['installed']} is installed but not enabled"
                               " for mcprag: run `python manage.py enable_pgvector`")
    if state["available"]:
        return DenseEngineInfo("in-memory", "", f"{memory}; pgvector is available on this server but not created in"
                               f" this database: {enable_instructions()}")
    return DenseEngineInfo("in-memory", "", f"{memory}; pgvector is not installed on this PostgreSQL server:"
                           f" {enable_instructions()}")


def enable_instructions() -> str:
    """What an operator runs to move this database to pgvector (one line)."""
    name = connection.settings_dict.get("NAME") or "<database>"
    return (f"install the pgvector package for this PostgreSQL version (e.g. postgresql-16-pgvector), then as a role"
            f" that may create extensions run `CREATE EXTENSION vector;` in database \"{name}\", then"
            " `python manage.py enable_pgvector`")


def _pg_vector_state() -> dict:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT extversion FROM pg_extension WHERE extname = 'vector'),"
            " EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'vector'),"
            " EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass('codeindex_chunkvector')"
            f"  AND attname = '{_EMBEDDING_COLUMN}' AND NOT attisdropped)"
        )
        installed, available, column = cursor.fetchone()
    return {"installed": installed or "", "available": bool(available), "column": bool(column)}


def _has_iterative_scan(version: str) -> bool:
    try:
        major, minor = (int(part) for part in version.split(".")[:2])
    except ValueError:
        return False
    return (major, minor) >= (0, 8)


def dense_engine():
    """The engine for this database: a ``PgVectorEngine`` where pgvector is enabled, else this
    process's ``VectorStore``. Both have ``search(query, generations, model=, where=, limit=)``."""
    info = dense_engine_info()
    if info.name == "pgvector":
        return PgVectorEngine(info)
    return vector_store()


# -- pgvector ----------------------------------------------------------------------------------


def _vector_literal(vector) -> str:
    """pgvector's text form, ``[0.1,0.2,...]`` (float32 values printed exactly)."""
    return "[" + ",".join(repr(x) for x in np.asarray(vector, dtype=np.float32).tolist()) + "]"


def _sql_string(text: str) -> str:
    """A SQL string literal (standard_conforming_strings is on since PostgreSQL 9.1)."""
    return "'" + text.replace("'", "''") + "'"


def _index_name(model: str, dim: int, repository_id: int | None = None, *, without_tests: bool = False) -> str:
    name = f"codeindex_vector_hnsw_{dim}_{hashlib.sha256(model.encode()).hexdigest()[:10]}"
    if without_tests:
        return f"{name}_nt"
    return name if repository_id is None else f"{name}_r{int(repository_id)}"


_known_indexes: set[str] = set()
#: index name → monotonic time it was last found missing (looked up again after ``_ENGINE_TTL_SECONDS``)
_missing_indexes: dict[str, float] = {}


class _Tally:
    """Row counts ``store_vectors`` decides index builds by (``ensure_nontest_index``,
    ``ensure_repository_indexes``), as this process last read them plus the rows it stored since.

    Between two stores of one job the count moves only by what the job stored, so it is read from
    the database once and then projected: read again when the projection reaches the threshold
    (the rows stored may have made the index due; deletions are not subtracted, so the projection
    errs towards reading again) or when the reading is ``_ENGINE_TTL_SECONDS`` old (other processes
    store too: an index their rows made due is built by a store at most that much later). Keys are
    ``(model, dim)`` or ``(model, dim, repository id)``."""

    def __init__(self) -> None:
        self._seen: dict[tuple, tuple[float, int]] = {}

    def projected(self, key: tuple) -> int | None:
        """The count read plus the rows stored since, or None when there is no fresh reading."""
        seen = self._seen.get(key)
        if seen is None or time.monotonic() - seen[0] >= _ENGINE_TTL_SECONDS:
            return None
        return seen[1]

    def read(self, key: tuple, count: int) -> None:
        self._seen[key] = (time.monotonic(), count)

    def stored(self, key: tuple, rows: int) -> None:
        seen = self._seen.get(key)
        if seen is not None:
            self._seen[key] = (seen[0], seen[1] + rows)

    def clear(self) -> None:
        self._seen.clear()

    def __len__(self) -> int:
        return len(self._seen)


#: the planner's estimate of the vectors of (model, dim) outside test files, projected
_nontest_rows = _Tally()
#: the vectors of (model, dim, repository id), projected
_repository_rows = _Tally()
#: the planner's estimates a dense search sizes its walk by, per statement and parameters: an agent
#: repeats its filters, and at 1M chunks planning one with a path regex took up to 6 ms a search
_row_estimates = _Tally()
#: more distinct filters than this (exact strings differ per query) and the estimates start over
_ROW_ESTIMATES_MAX = 1024


def _has_index(name: str) -> bool:
    """Whether the index ``name`` exists (found ones are remembered; missing ones for 30 s)."""
    if name in _known_indexes:
        return True
    missing_since = _missing_indexes.get(name)
    if missing_since is not None and time.monotonic() - missing_since < _ENGINE_TTL_SECONDS:
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_class WHERE relname = %s AND relkind = 'i'", [name])
        found = cursor.fetchone() is not None
    if found:
        _known_indexes.add(name)
        _missing_indexes.pop(name, None)
    else:
        _missing_indexes[name] = time.monotonic()
    return found


def ensure_dense_index(model: str, dim: int, repository_id: int | None = None, *, without_tests: bool = False) -> bool:
    """Create the HNSW cosine index for vectors of ``model`` with ``dim`` dimensions unless it
    exists: ``CREATE INDEX … USING hnsw ((embedding::vector(dim)) vector_cosine_ops) WITH (m = 16,
    ef_construction = 128) WHERE model = … AND dim = …`` (ef_construction 128 rather than the
    default 64: recall@10 0.97 instead of 0.90 at ef_search 100 in ``bench/scale.py``, for about
    a third more build time). With ``repository_id``, the index of that repository's vectors only
    (``… AND repository_id = N``; see ``REPOSITORY_INDEX_MIN_ROWS``); with ``without_tests``, of the
    vectors outside test files (``… AND NOT in_tests``; see ``NONTEST_INDEX_MIN_ROWS``). Returns
    whether it was created now. pgvector only; runs in the caller's transaction (its lock blocks
    other writers of the table until commit)."""
    name = _index_name(model, dim, repository_id, without_tests=without_tests)
    if name in _known_indexes:
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_class WHERE relname = %s AND relkind = 'i'", [name])
        exists = cursor.fetchone() is not None
        if not exists:
            repository = "" if repository_id is None else f" AND repository_id = {int(repository_id)}"
            if without_tests:
                repository = " AND NOT in_tests"
            cursor.execute(
                f"CREATE INDEX IF NOT EXISTS {name} ON codeindex_chunkvector USING hnsw"
                f" (({_EMBEDDING_COLUMN}::vector({int(dim)})) vector_cosine_ops) WITH (m = 16, ef_construction = 128)"
                f" WHERE model = {_sql_string(model)} AND dim = {int(dim)}{repository}"
            )
    _known_indexes.add(name)
    _missing_indexes.pop(name, None)
    return not exists


def ensure_nontest_index(model: str, dim: int, *, adding: int | None = None) -> bool:
    """Create the HNSW index of the vectors of ``model`` and ``dim`` outside test files
    (``ensure_dense_index(…, without_tests=True)``) once the planner estimates more than
    ``NONTEST_INDEX_MIN_ROWS`` of them. Returns whether it was created now.

    ``adding`` (``store_vectors``): how many vectors outside test files the caller is about to
    store; the estimate is then asked for (``EXPLAIN``) only when this process has no fresh one or
    the rows it stored since could have carried it past the threshold (``_Tally``), not once per
    call. None asks every time.

    pgvector only; in the caller's transaction, in a savepoint (see ``ensure_repository_indexes``:
    a refused build is left to the next call)."""
    name = _index_name(model, dim, without_tests=True)
    if name in _known_indexes:
        return False
    key = (model, int(dim))
    estimate = _nontest_rows.projected(key) if adding is not None else None
    if estimate is None or estimate > NONTEST_INDEX_MIN_ROWS:
        clauses = [f"v.model = {_sql_string(model)}", f"v.dim = {int(dim)}", "NOT v.in_tests"]
        estimate = PgVectorEngine._row_estimate(clauses, [], join=False)
        _nontest_rows.read(key, estimate)
    if estimate <= NONTEST_INDEX_MIN_ROWS:
        _nontest_rows.stored(key, adding or 0)
        return False
    try:
        with transaction.atomic():
            return ensure_dense_index(model, dim, without_tests=True)
    except DatabaseError as exc:
        log.info("HNSW index of the vectors outside test files left for later: %s", exc)
        return False


def ensure_repository_indexes(model: str, dim: int, adding: dict[int, int] | None = None) -> list[int]:
    """Give each repository holding at least ``REPOSITORY_INDEX_MIN_ROWS`` vectors of ``model`` and
    ``dim`` its own HNSW index (``ensure_dense_index(model, dim, repository_id)``). ``adding`` maps
    repository id → vectors the caller is about to store (only those repositories are looked at);
    None looks at every repository. Returns the repository ids whose index was created now. With
    ``adding``, a repository's count is read only when this process has no fresh reading of it or
    the rows it stored since could have carried it past the threshold (``_Tally``).

    pgvector only; in the caller's transaction, in a savepoint: PostgreSQL refuses to index a table
    this transaction already inserted into (pending foreign-key checks), and then the index is left
    to the next call (``store_vectors`` calls this before inserting)."""
    if adding is not None:
        adding = {int(r): n for r, n in adding.items() if _index_name(model, dim, r) not in _known_indexes}
        if not adding:
            return []
    with connection.cursor() as cursor:
        if adding is None:
            cursor.execute("SELECT repository_id FROM codeindex_chunkvector WHERE model = %s AND dim = %s"
                           " GROUP BY repository_id HAVING count(*) >= %s ORDER BY repository_id",
                           [model, dim, REPOSITORY_INDEX_MIN_ROWS])
            big = [row[0] for row in cursor.fetchall()]
        else:
            counts = {r: _repository_rows.projected((model, int(dim), r)) for r in adding}
            unread = sorted(r for r, n in adding.items() if counts[r] is None or counts[r] + n >= REPOSITORY_INDEX_MIN_ROWS)
            if unread:
                cursor.execute("SELECT repository_id, count(*) FROM codeindex_chunkvector WHERE model = %s AND dim = %s"
                               " AND repository_id = ANY(%s) GROUP BY repository_id", [model, dim, unread])
                stored = dict(cursor.fetchall())
                for r in unread:
                    counts[r] = stored.get(r, 0)
                    _repository_rows.read((model, int(dim), r), counts[r])
            big = sorted(r for r, n in adding.items() if counts[r] + n >= REPOSITORY_INDEX_MIN_ROWS)
            for r, n in adding.items():
                if r not in big:
                    _repository_rows.stored((model, int(dim), r), n)
    created = []
    for repository_id in big:
        try:
            with transaction.atomic():
                if ensure_dense_index(model, dim, repository_id):
                    created.append(repository_id)
        except DatabaseError as exc:
            log.info("HNSW index of repository %s left for later: %s", repository_id, exc)
    return created


@dataclass(frozen=True)
class VectorRow:
    """One vector to store: the chunk it embeds, its repository, model, sha256 of the embedded
    text, the float32 little-endian bytes (``embeddings.to_bytes``), and the chunk's file path
    (which sets ``ChunkVector.in_tests``)."""

    chunk_id: int
    repository_id: int
    model: str
    text_hash: str
    vector: bytes
    path: str = field(kw_only=True)


def store_vectors(rows: list[VectorRow]) -> int:
    """Insert vectors for chunks written in the caller's transaction (the only writer of
    ``ChunkVector`` rows): on pgvector also into the ``embedding`` column and its HNSW index, so
    a chunk and its vector commit together. Returns the number of rows written."""
    if not rows:
        return 0
    if not dense_engine_info().stores_embeddings:
        ChunkVector.objects.bulk_create(
            [ChunkVector(chunk_id=r.chunk_id, repository_id=r.repository_id, model=r.model, dim=len(r.vector) // 4,
                         text_hash=r.text_hash, vector=r.vector, in_tests=is_test_path(r.path)) for r in rows],
            batch_size=500,
        )
        return len(rows)
    for (model, dim), adding in _by_model(rows).items():
        ensure_dense_index(model, dim)
        ensure_repository_indexes(model, dim, adding)
        ensure_nontest_index(model, dim, adding=sum(1 for r in rows if r.model == model and len(r.vector) // 4 == dim
                                                    and not is_test_path(r.path)))
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 500):
            part = rows[start : start + 500]
            values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s::vector)"] * len(part))
            params = []
            for r in part:
                params += [r.chunk_id, r.repository_id, r.model, len(r.vector) // 4, r.text_hash, r.vector,
                           is_test_path(r.path), _vector_literal(from_bytes(r.vector))]
            cursor.execute(
                "INSERT INTO codeindex_chunkvector (chunk_id, repository_id, model, dim, text_hash, vector, in_tests,"
                f" {_EMBEDDING_COLUMN}) VALUES {values}", params)
    return len(rows)


def _by_model(rows: list[VectorRow]) -> dict[tuple[str, int], dict[int, int]]:
    """{(model, dim): {repository id: vectors}} of ``rows``."""
    out: dict[tuple[str, int], dict[int, int]] = {}
    for r in rows:
        per_repository = out.setdefault((r.model, len(r.vector) // 4), {})
        per_repository[r.repository_id] = per_repository.get(r.repository_id, 0) + 1
    return out


def enable_pgvector(*, create_extension: bool = True, log_to=None) -> DenseEngineInfo:
    """Move this PostgreSQL database to the pgvector engine: create the extension (when the role
    may), add the ``embedding`` column, fill it from the stored vectors in batches of 5,000, and
    build the HNSW index of each model present. Idempotent; raises ``DatabaseError`` only when
    the extension is missing and cannot be created (the message says what to run)."""
    if connection.vendor != "postgresql":
        raise DatabaseError("pgvector needs PostgreSQL; this database is " + connection.vendor)
    say = log_to or (lambda line: None)
    state = _pg_vector_state()
    if not state["installed"]:
        if not (create_extension and state["available"]):
            raise DatabaseError(f"pgvector is not installed in this database: {enable_instructions()}")
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("CREATE EXTENSION IF NOT EXISTS vector")
        except DatabaseError as exc:
            raise DatabaseError(f"this role may not create the vector extension ({exc.__class__.__name__}):"
                                f" {enable_instructions()}") from None
        say("created the vector extension")
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE codeindex_chunkvector ADD COLUMN IF NOT EXISTS {_EMBEDDING_COLUMN} vector")
    filled = 0
    while True:
        with transaction.atomic():
            rows = list(ChunkVector.objects.extra(where=[f"{_EMBEDDING_COLUMN} IS NULL"])
                        .values_list("chunk_id", "vector")[:5000])
            if not rows:
                break
            with connection.cursor() as cursor:
                cursor.executemany(
                    f"UPDATE codeindex_chunkvector SET {_EMBEDDING_COLUMN} = %s::vector WHERE chunk_id = %s",
                    [(_vector_literal(from_bytes(v)), pk) for pk, v in rows])
        filled += len(rows)
        say(f"filled {filled} vectors")
    forget_engine()
    for model, dim in ChunkVector.objects.values_list("model", "dim").distinct():
        if ensure_dense_index(model, dim):
            say(f"built the HNSW index for {model} ({dim} dimensions)")
        for repository_id in ensure_repository_indexes(model, dim):
            say(f"built the HNSW index of repository {repository_id} for {model}")
        if ensure_nontest_index(model, dim):
            say(f"built the HNSW index of the vectors outside test files for {model}")
    forget_engine()
    return dense_engine_info()


class PgVectorEngine:
    """Dense search in SQL on pgvector (see the module docstring for how filters keep ``limit``)."""

    name = "pgvector"

    def __init__(self, info: DenseEngineInfo) -> None:
        self.info = info

    def search(self, query: np.ndarray, generations: dict[int, int], *, model: str, where: ChunkFilter | None = None,
               language: str | None = None, path_regex: str | None = None, allowed: set[int] | None = None,
               limit: int = 200) -> DenseResult:
        """As ``VectorStore.search``; ``allowed`` is not used here (``where.exact`` is applied in SQL)."""
        where = where or ChunkFilter(language=language, path_regex=path_regex)
        repository_ids = list(generations)
        if not repository_ids:
            return DenseResult([], 0.0, 0.0, 0)
        q = np.asarray(query, dtype=np.float32)
        dim = int(q.shape[0])
        clauses, params = self._filters(repository_ids, model, dim, where)
        filtered = bool(where.language or where.path_regex or where.exact or where.excludes)
        vector = _vector_literal(q)
        # the vectors of the index a walk visits: every vector of this model, or those outside tests
        walked = 3 if where.exclude_tests and _has_index(_index_name(model, dim, without_tests=True)) else 2
        graph = self._row_estimate(clauses[:walked], [], join=False)
        kept = self._row_estimate(clauses, params, join=filtered)
        share = kept / max(graph, 1)  # the part of the index the filters keep
        low = None
        complete = True
        if kept <= EXACT_MAX_ROWS:
            top, low = self._exact(vector, dim, clauses, params, limit)
        else:
            top = self._walk_for(vector, dim, clauses, params, limit, share)
            if len(top) < limit and kept <= EXACT_FALLBACK_MAX_ROWS:  # compare every filtered vector
                top, low = self._exact(vector, dim, clauses, params, limit)
            elif len(top) < limit:  # too many to compare: walk on from the filtered vectors found
                if top:
                    top = self._reseeded(vector, dim, clauses, params, limit, top, share)
                if len(top) < limit:
                    complete = False
                    log.info("dense search kept %d of %d rows asked: its filters keep ~%d vectors, too many to compare exactly",
                             len(top), limit, kept)
        if not top:
            return DenseResult([], 0.0, 0.0, 0, complete=complete)
        if low is None:
            # The lowest cosine over the filtered vectors, for min-max fusion, is the nearest to −q:
            # one walk, not widened (a walk that finds none of them leaves the lowest of the top).
            # Without iterative scanning: that walk only bounds the scale, and going on until a filtered
            # vector turns up cost 16-78 ms a query at 1M chunks (bench/scale.py), 5-10 ms without.
            farthest = self._walk(_vector_literal(-q), dim, clauses, params, 1,
                                  self._ef(1, share, floor=EF_SEARCH_FARTHEST), iterative=False)
            low = -farthest[0][1] if farthest else min(score for _, score in top)
        high = top[0][1]

        def lookup(chunk_ids) -> dict[int, float]:
            ids = sorted({int(i) for i in chunk_ids})
            if not ids:
                return {}
            sql = (f"SELECT v.chunk_id, 1 - ({self._distance(dim)}) FROM codeindex_chunkvector v"
                   f" JOIN codeindex_chunk c ON c.id = v.chunk_id WHERE {' AND '.join(clauses)} AND v.chunk_id = ANY(%s)")
            with connection.cursor() as cursor:
                cursor.execute(sql, [vector, *params, ids])
                return {chunk_id: float(score) for chunk_id, score in cursor.fetchall()}

        return DenseResult(top, float(min(low, high)), float(high), len(top), _lookup=lookup, complete=complete)

    def _reseeded(self, vector: str, dim: int, clauses: list[str], params: list, limit: int,
                  found: list[tuple[int, float]], share: float) -> list[tuple[int, float]]:
        """``found`` (a short walk's rows) and the filtered vectors near them: a walk from each of the
        best ``RESEED_WALKS`` found vectors (the filtered vectors lie together, as a folder's files
        do, while the query's own neighbourhood held few of them), every row scored against the
        query; the best ``limit``. pgvector 0.6 has no iterative index scan to walk on with."""
        ef = self._ef(limit, share)
        iterative = _has_iterative_scan(self.info.version)
        scored = dict(found)
        for seed, _ in found[:RESEED_WALKS]:
            scored.update(self._walk(vector, dim, clauses, params, limit, ef, iterative=iterative, toward=seed))
            if len(scored) >= 2 * limit:
                break
        return sorted(scored.items(), key=lambda item: (-item[1], item[0]))[:limit]

    @staticmethod
    def _distance(dim: int) -> str:
        return f"(v.{_EMBEDDING_COLUMN}::vector({dim})) <=> %s::vector({dim})"

    @staticmethod
    def _filters(repository_ids: list[int], model: str, dim: int, where: ChunkFilter) -> tuple[list[str], list]:
        # model, dim and in_tests are literals so the planner can match a partial index's predicate
        # (``NOT v.in_tests``: the index of the vectors outside test files; the path filter is applied too).
        # Rows whose column enable_pgvector has not filled yet are left out (their cosine is NULL).
        clauses = [f"v.model = {_sql_string(model)}", f"v.dim = {dim}"] + (["NOT v.in_tests"] if where.exclude_tests else [])
        clauses += ["v.repository_id = ANY(%s::bigint[])", f"v.{_EMBEDDING_COLUMN} IS NOT NULL"]
        more, more_params = chunk_filter_sql(where)
        return clauses + more, [repository_ids, *more_params]

    def _walk_for(self, vector: str, dim: int, clauses: list[str], params: list, limit: int, share: float, *,
                  widen: bool = True, floor: int | None = None) -> list[tuple[int, float]]:
        """[(chunk_id, cosine)] best first from an HNSW walk sized to ``share`` (0..1), the part of
        the index the filters keep (the planner's estimate): ``hnsw.ef_search`` = ``limit`` × 4 /
        ``share``, within ``floor`` (default ``EF_SEARCH_MIN``)..``EF_SEARCH_MAX``. With ``widen``, a walk that comes back
        short is run once more at ``EF_SEARCH_MAX`` when that is at least twice as wide. May return
        fewer than ``limit`` rows (the caller then compares exactly, or walks on from the rows found)."""
        iterative = _has_iterative_scan(self.info.version)
        ef = self._ef(limit, share, floor=floor)
        rows = self._walk(vector, dim, clauses, params, limit, ef, iterative=iterative)
        if widen and len(rows) < limit and 2 * ef <= EF_SEARCH_MAX:
            rows = self._walk(vector, dim, clauses, params, limit, EF_SEARCH_MAX, iterative=iterative)
        return rows

    @staticmethod
    def _ef(limit: int, share: float, *, floor: int | None = None) -> int:
        """``hnsw.ef_search`` for a walk that should keep ``limit`` rows when the filters keep
        ``share`` (0..1) of the index: ``limit`` × 4 / ``share``, within ``floor`` (default
        ``EF_SEARCH_MIN``)..``EF_SEARCH_MAX``."""
        share = min(max(share, 1e-9), 1.0)
        return min(EF_SEARCH_MAX, max(EF_SEARCH_MIN if floor is None else floor, math.ceil(4 * limit / share)))

    def _walk(self, vector: str, dim: int, clauses: list[str], params: list, limit: int, ef: int, *, iterative: bool,
              toward: int | None = None) -> list[tuple[int, float]]:
        """[(chunk_id, cosine to ``vector``)] from one HNSW walk at ``ef``: best first, or with
        ``toward`` (a chunk id) in the order of distance to that chunk's vector (the caller sorts).
        ``iterative``: go on past ``ef`` until ``limit`` rows pass the filters (pgvector 0.8+, relaxed
        order); False turns it off even where the server's configuration turns it on."""
        target = (f"%s::vector({dim})" if toward is None else
                  f"(SELECT s.{_EMBEDDING_COLUMN}::vector({dim}) FROM codeindex_chunkvector s WHERE s.chunk_id = %s)")
        sql = (f"SELECT v.chunk_id, 1 - ({self._distance(dim)}) AS cosine FROM codeindex_chunkvector v"
               f" JOIN codeindex_chunk c ON c.id = v.chunk_id WHERE {' AND '.join(clauses)}"
               f" ORDER BY (v.{_EMBEDDING_COLUMN}::vector({dim})) <=> {target} LIMIT %s")
        with transaction.atomic(), connection.cursor() as cursor:
            if _has_iterative_scan(self.info.version):  # stated either way: the server's default may differ
                cursor.execute("SELECT set_config('hnsw.ef_search', %s, true), set_config('hnsw.iterative_scan', %s, true)",
                               [str(ef), "relaxed_order" if iterative else "off"])
            else:
                cursor.execute("SELECT set_config('hnsw.ef_search', %s, true)", [str(ef)])
            cursor.execute(sql, [vector, *params, vector if toward is None else toward, limit])
            rows = [(chunk_id, float(score)) for chunk_id, score in cursor.fetchall()]
        if iterative:  # relaxed order: sort what the walk returned
            rows.sort(key=lambda item: (-item[1], item[0]))
        return rows

    def _exact(self, vector: str, dim: int, clauses: list[str], params: list, limit: int):
        """(the ``limit`` best [(chunk_id, cosine)], the lowest cosine or None) over every filtered
        vector, in one scan."""
        # Nothing is ordered by the bare distance, so no HNSW index can serve this: every filtered row
        # is compared ("+ 0" says so, and marks the exact scan in the statement). The scores are
        # kept once (a materialised CTE) and read twice, by min() and by a top-N heap sort of ``limit``
        # rows: a window ``min(cosine) OVER ()`` sorted and buffered every row on disk instead (at 1M
        # chunks, a path filter keeping 164k: 2.3 s, now 0.8 s).
        sql = (f"WITH scored AS MATERIALIZED (SELECT v.chunk_id, 1 - (({self._distance(dim)}) + 0) AS cosine"
               f" FROM codeindex_chunkvector v JOIN codeindex_chunk c ON c.id = v.chunk_id WHERE {' AND '.join(clauses)})"
               " SELECT chunk_id, cosine, (SELECT min(cosine) FROM scored) FROM scored ORDER BY cosine DESC, chunk_id LIMIT %s")
        with connection.cursor() as cursor:
            cursor.execute(sql, [vector, *params, limit])
            rows = cursor.fetchall()
        return [(chunk_id, float(score)) for chunk_id, score, _ in rows], (float(rows[0][2]) if rows else None)

    @staticmethod
    def _row_estimate(clauses: list[str], params: list, *, join: bool) -> int:
        """The planner's estimate of the vectors passing ``clauses`` (EXPLAIN: no scan), read again
        after ``_ENGINE_TTL_SECONDS`` (it only sizes a walk, and moves slowly as an index grows)."""
        source = "codeindex_chunkvector v JOIN codeindex_chunk c ON c.id = v.chunk_id" if join else "codeindex_chunkvector v"
        statement = f"EXPLAIN (FORMAT JSON) SELECT 1 FROM {source} WHERE {' AND '.join(clauses)}"
        key = (connection.settings_dict.get("NAME"), statement, json.dumps(params, default=str))
        known = _row_estimates.projected(key)
        if known is not None:
            return known
        with connection.cursor() as cursor:
            cursor.execute(statement, params)
            plan = cursor.fetchone()[0]
        if isinstance(plan, str):
            plan = json.loads(plan)
        if len(_row_estimates) >= _ROW_ESTIMATES_MAX:
            _row_estimates.clear()
        rows = int(plan[0]["Plan"]["Plan Rows"])
        _row_estimates.read(key, rows)
        return rows
