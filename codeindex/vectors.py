"""Query-time dense scoring on vectors kept in memory: one numpy matrix per repository.

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

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np

from .embeddings import from_bytes
from .models import ChunkVector
from .patterns import compiled

__all__ = ["VectorStore", "DenseResult", "QueryVectorCache", "vector_store", "query_vector_cache"]


@dataclass
class _Block:
    generation: int
    ids: np.ndarray  # int64, sorted
    matrix: np.ndarray  # float32, n × dim
    languages: np.ndarray  # object (str) per row
    path_index: np.ndarray  # int32 per row, into paths
    paths: list[str]
    loaded_at: float = field(default_factory=time.time)

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
    _blocks: list[tuple[_Block, np.ndarray, np.ndarray]] = field(default_factory=list, repr=False)

    def lookup(self, chunk_ids) -> dict[int, float]:
        """Cosine scores of the given chunks, where they passed the filters."""
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
    def __init__(self) -> None:
        self._blocks: dict[tuple[int, str], _Block] = {}
        self._lock = threading.Lock()
        self.loads = 0

    def search(self, query: np.ndarray, generations: dict[int, int], *, model: str, language: str | None = None,
               path_regex: str | None = None, allowed: set[int] | None = None, limit: int = 200) -> DenseResult:
        q = np.asarray(query, dtype=np.float32)
        parts, kept = [], []
        for repo_id, generation in generations.items():
            block = self._block(repo_id, generation, model)
            if block is None or not len(block.ids):
                continue
            rows = self._rows(block, language, path_regex, allowed)
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
        return DenseResult(parts[:limit], low, high, sum(len(s) for _, _, s in kept), kept)

    def _rows(self, block: _Block, language: str | None, path_regex: str | None, allowed: set[int] | None):
        mask = None
        if language is not None:
            mask = block.languages == language
        if path_regex is not None:
            pattern = compiled(path_regex)
            ok_paths = np.fromiter((bool(pattern.search(p)) for p in block.paths), dtype=bool, count=len(block.paths))
            by_path = ok_paths[block.path_index]
            mask = by_path if mask is None else mask & by_path
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
