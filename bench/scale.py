"""The index at scale: PostgreSQL + pgvector side by side with the in-memory dense engine.

Corpus: real code chunks (``codeindex.chunking``) of the Python files of the standard library and
the installed packages, repeated under new paths until ``--chunks`` rows, split into 20
repositories; one repository holds 10k chunks (the small-index anchor). Vectors do not come from
the model (this measures the engines, not the embedder): 384-d unit vectors clustered like real
embeddings (folder centre + file offset + chunk noise). Rows are loaded with COPY into the
database ``BENCH_DATABASE_URL`` names (a PostgreSQL with pgvector; it is emptied first), then the
HNSW index is built.

Measured in one run (the machine is shared, so absolute times are noisy; read the ratios):

* dense top-10 p50/p99 (of a second pass over the queries: the first, whose p50 is shown too, reads
  index pages into PostgreSQL's buffers), no filter and with a language / path / ``exclude_tests``
  / repository filter, on pgvector and on the in-memory engine (the exact search), and recall@10
  of pgvector against it. Each query
  is near one chunk (cosine ≈ 0.9): drawn from the whole index ("anywhere"), and for a filter also
  from the chunks it keeps ("in the filter"), as a person filtering on a folder asks about that
  folder. With synthetic vectors, a query anywhere has no filtered chunk near it when the filter
  keeps other folders: its exact top 10 are hardly nearer than the rest of the filtered chunks (at
  1M chunks, path ``**/tests/**``: cosine 0.19-0.22 for the first, 0.16-0.17 for the 100th), so
  that row's recall says how the engine orders far, nearly equidistant vectors. The last column,
  the mean cosine of pgvector's top 10 over the exact top 10's, says how much nearer the missed
  ones were;
* lexical p50/p99 of identifier queries (``lexical.rank_chunks``, what ``search_code`` runs);
* a gateway worker's peak RSS (a fresh process running dense searches): pgvector over the whole
  index, in-memory over the whole index, in-memory over the 10k-chunk repository;
* time from a commit of a new chunk in another process until a search here returns it;
* load and index build time (the whole index, then each repository's own).

Targets (issue #20, at 1M chunks): worker RSS ≤ 10k-index worker + 100 MB; dense p50 ≤ 20 ms and
p99 ≤ 60 ms with filters; recall@10 ≥ 0.95; lexical p50 ≤ 50 ms (≤ 20 ms at 130k); a commit
searchable from another process within 1 s.

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5433/mcprag_scale python bench/scale.py --chunks 1000000
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

import numpy as np

from bench_support import percentile, table

ROOT = Path(__file__).resolve().parents[1]
DIM = 384
MODEL = "bench-synthetic-384"
REPOSITORIES = 20
SMALL = 10_000


def _setup(migrate: bool = True) -> None:
    if not os.environ.get("BENCH_DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("set BENCH_DATABASE_URL to a PostgreSQL database (with pgvector) this benchmark may empty")
    os.environ["DATABASE_URL"] = os.environ["BENCH_DATABASE_URL"]
    os.environ["MCPRAG_EMBEDDINGS"] = "none"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mcprag_site.settings")
    os.environ.pop("REDIS_URL", None)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    if migrate:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)


# -- corpus --------------------------------------------------------------------------------------


def _source_files():
    roots = [Path(os.__file__).parent, *{Path(p) for p in sys.path if p.endswith("site-packages")}]
    seen = set()
    for root in roots:
        for path in sorted(root.rglob("*.py")):
            if path.is_file() and path.stat().st_size < 400_000 and path not in seen:
                seen.add(path)
                yield root, path


def _chunks(limit: int):
    """(path, pieces of one file) until ``limit`` pieces in all; the files are chunked once and
    repeated under ``copyN/`` as needed (the last file's pieces are cut at ``limit``)."""
    from codeindex.chunking import chunk_text

    corpus, made = [], 0
    for root, path in _source_files():
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        rel, pieces = str(path.relative_to(root)), chunk_text(text, "python")
        if not pieces:
            continue
        corpus.append((rel, pieces))
        yield rel, pieces[: limit - made]
        made += len(pieces)
        if made >= limit:
            return
    round_ = 1
    while True:
        for rel, pieces in corpus:
            yield f"copy{round_}/{rel}", pieces[: limit - made]
            made += len(pieces)
            if made >= limit:
                return
        round_ += 1


def load(n: int) -> None:
    from django.db import connection

    from codeindex.embeddings import text_hash
    from codeindex.lexical import document_fields
    from codeindex.testpaths import is_test_path
    from codeindex.vectors import enable_pgvector, forget_engine

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE codeindex_repository, codeindex_sourcefile, codeindex_chunk, codeindex_chunkvector CASCADE")
        # bulk load: the GIN indexes are built once at the end (as pg_restore does)
        gin = [(f"codeindex_chunk_{column}", f"CREATE INDEX IF NOT EXISTS codeindex_chunk_{column} ON codeindex_chunk USING gin ({column})")
               for column in ("search_context_vector", "search_name_vector", "search_vector")]  # as migration 0002
        for name, _ in gin:
            cursor.execute(f"DROP INDEX IF EXISTS {name}")
        cursor.execute("SELECT indexname FROM pg_indexes WHERE indexname LIKE 'codeindex_vector_hnsw_%%'")
        for (name,) in cursor.fetchall():  # built after the load
            cursor.execute(f"DROP INDEX {name}")
    forget_engine()
    enable_pgvector()
    rng = np.random.default_rng(5)
    centres: dict[str, np.ndarray] = {}
    started = time.monotonic()
    repo_rows = [(i + 1, f"repo{i:02d}", f"/bench/repo{i:02d}") for i in range(REPOSITORIES)]
    file_ids: dict[str, tuple[int, int]] = {}
    files, chunks, vecs = io.StringIO(), io.StringIO(), io.StringIO()
    chunk_id = flushed = 0
    counts = [0] * REPOSITORIES

    def esc(text: str) -> str:
        return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r").replace("\x00", "")

    def flush() -> None:
        with connection.cursor() as cursor:
            raw = cursor.cursor
            for table_name, columns, buffer in (
                ("codeindex_sourcefile", "id, repository_id, path, language, content_hash, size_bytes, line_count, indexed_at", files),
                ("codeindex_chunk", "id, repository_id, file_id, path, language, kind, symbol, start_line, end_line, content,"
                 " search_context, search_name, search_text", chunks),
                ("codeindex_chunkvector", "chunk_id, repository_id, model, dim, text_hash, vector, embedding, in_tests", vecs),
            ):
                with raw.copy(f"COPY {table_name} ({columns}) FROM STDIN") as copy:
                    copy.write(buffer.getvalue())
                buffer.seek(0)
                buffer.truncate()

    from codeindex.models import Repository

    Repository.objects.bulk_create([Repository(id=pk, name=name, root_path=root, visibility="everyone", generation=1)
                                    for pk, name, root in repo_rows])
    vector_format = ",".join(["%.9g"] * DIM)  # float32 printed exactly
    fields_of: dict[tuple[str, str], tuple[str, str]] = {}  # (symbol, content) → (name, text) words: the copies repeat them
    for rel, pieces in _chunks(n):
        if not pieces:
            continue
        # repository 0 is the small index; the others share the rest by folder
        folder = rel.rsplit("/", 1)[0]
        repo = 0 if counts[0] < SMALL and len(file_ids) % 50 == 0 else 1 + zlib.crc32(folder.encode()) % (REPOSITORIES - 1)
        file_ids[rel] = file_id = len(file_ids) + 1
        files.write(f"{file_id}\t{repo + 1}\t{esc(rel)}\tpython\t{'0' * 64}\t1\t1\t2026-01-01\n")
        if folder not in centres:
            centres[folder] = rng.normal(size=DIM).astype(np.float32)
        file_centre = centres[folder] + 0.6 * rng.normal(size=DIM).astype(np.float32)
        matrix = file_centre + 0.5 * rng.normal(size=(len(pieces), DIM)).astype(np.float32)
        matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
        matrix = matrix.astype("<f4")
        for piece, vector in zip(pieces, matrix):
            chunk_id += 1
            counts[repo] += 1
            key = (piece.symbol, piece.content)
            if key not in fields_of:
                fields = document_fields(rel, piece.symbol, piece.content)
                fields_of[key] = (fields.name, fields.text)
            name_words, text_words = fields_of[key]
            context = document_fields(rel, piece.symbol, "").context
            chunks.write(f"{chunk_id}\t{repo + 1}\t{file_id}\t{esc(rel)}\t{'python' if chunk_id % 4 else 'go'}\t{piece.kind}\t"
                         f"{esc(piece.symbol)}\t{piece.start_line}\t{piece.end_line}\t{esc(piece.content)}\t{esc(context)}\t"
                         f"{esc(name_words)}\t{esc(text_words)}\n")
            vecs.write(f"{chunk_id}\t{repo + 1}\t{MODEL}\t{DIM}\t{text_hash(str(chunk_id))}\t\\\\x{vector.tobytes().hex()}\t"
                       f"[{vector_format % tuple(vector.tolist())}]\t{'t' if is_test_path(rel) else 'f'}\n")
        if chunk_id - flushed >= 20_000:
            flush()
            flushed = chunk_id
            print(f"  loaded {chunk_id:,} chunks ({time.monotonic() - started:.0f} s)", flush=True)
    flush()
    with connection.cursor() as cursor:
        for i, count in enumerate(counts):
            cursor.execute("UPDATE codeindex_repository SET chunk_count = %s WHERE id = %s", [count, i + 1])
        for table_name in ("codeindex_sourcefile", "codeindex_chunk"):
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table_name}', 'id'), (SELECT max(id) FROM {table_name}))")
        cursor.execute("SET maintenance_work_mem = '1GB'")
        for _, definition in gin:
            cursor.execute(definition)
        cursor.execute("ANALYZE codeindex_chunk")
        cursor.execute("ANALYZE codeindex_chunkvector")
    load_seconds = time.monotonic() - started
    built = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '6GB'")
        cursor.execute("SET max_parallel_maintenance_workers = 1")
    forget_engine()
    from codeindex.vectors import ensure_dense_index, ensure_nontest_index, ensure_repository_indexes

    ensure_dense_index(MODEL, DIM)
    ensure_repository_indexes(MODEL, DIM)  # each repository of 10k+ vectors: its own graph
    ensure_nontest_index(MODEL, DIM)  # the vectors outside test files: their own graph
    build_seconds = time.monotonic() - built
    Path(os.environ.get("BENCH_STATE") or os.path.join(tempfile.gettempdir(), "mcprag-scale.json")).write_text(json.dumps(
        {"chunks": chunk_id, "load_seconds": load_seconds, "build_seconds": build_seconds}))
    print(f"  {chunk_id:,} chunks loaded in {load_seconds:.0f} s, HNSW index built in {build_seconds:.0f} s", flush=True)


# -- measurements --------------------------------------------------------------------------------


def _filters():
    from codeindex.lexical import ChunkFilter
    from codeindex.patterns import glob_regex

    return {
        "none": ChunkFilter(),
        "language=go (25%)": ChunkFilter(language="go"),
        "path **/tests/**": ChunkFilter(path_regex=glob_regex("**/tests/**")),
        "exclude_tests": ChunkFilter(exclude_tests=True),
        "repository repo05": "repo05",
    }


def _queries(count: int, where=None, repository_ids: list[int] | None = None) -> list[np.ndarray]:
    """``count`` query vectors, each near a chunk drawn at random (the same chunks in every run):
    from the whole index, or with ``where`` / ``repository_ids`` from the chunks those filters keep
    (a person filtering on a folder asks about that folder)."""
    from django.db import connection

    from codeindex.embeddings import from_bytes
    from codeindex.models import ChunkVector
    from codeindex.vectors import PgVectorEngine

    # the same chunks in every run (ORDER BY random() drew new ones, and recall@10 moved by ±0.05)
    top = ChunkVector.objects.order_by("-chunk_id").values_list("chunk_id", flat=True).first() or 0
    if where is None:
        picked = sorted(random.Random(9).sample(range(1, top + 1), min(top, 2 * count)))
        ids = list(ChunkVector.objects.filter(chunk_id__in=picked).order_by("chunk_id").values_list("vector", flat=True)[:count])
    else:
        from codeindex.models import Repository

        repository_ids = repository_ids or list(Repository.objects.values_list("pk", flat=True))
        clauses, params = PgVectorEngine._filters(repository_ids, MODEL, DIM, where)
        picked = sorted(random.Random(9).sample(range(1, top + 1), min(top, 200 * count)))
        with connection.cursor() as cursor:
            cursor.execute("SELECT v.vector FROM codeindex_chunkvector v JOIN codeindex_chunk c ON c.id = v.chunk_id"
                           f" WHERE {' AND '.join(clauses)} AND v.chunk_id = ANY(%s) ORDER BY v.chunk_id LIMIT %s",
                           [*params, picked, count])
            ids = [bytes(raw) for raw, in cursor.fetchall()]
    rng = np.random.default_rng(9)
    out = []
    for raw in ids:
        # a query near a chunk (cosine ≈ 0.9 to it), as a question is near its answer
        q = from_bytes(raw) + 0.5 * rng.normal(size=DIM).astype(np.float32) / np.sqrt(DIM)
        out.append((q / np.linalg.norm(q)).astype(np.float32))
    return out


def dense(queries: int) -> list[list]:
    from codeindex.lexical import ChunkFilter
    from codeindex.models import Repository
    from codeindex.vectors import PgVectorEngine, VectorStore, dense_engine_info, forget_engine

    forget_engine()
    info = dense_engine_info()
    assert info.name == "pgvector", info.detail
    pg, memory = PgVectorEngine(info), VectorStore()
    all_repos = dict(Repository.objects.values_list("pk", "generation"))
    load = time.monotonic()
    memory.search(np.ones(DIM, np.float32), all_repos, model=MODEL, limit=10)
    load_seconds = time.monotonic() - load
    rows = []
    anywhere = _queries(queries)
    for label, where in _filters().items():
        repos = all_repos
        if isinstance(where, str):
            repos = {pk: g for pk, g in Repository.objects.filter(name=where).values_list("pk", "generation")}
            where = ChunkFilter()
        sets = [("anywhere", anywhere)]
        if label != "none":  # and near what the filters keep: a query about the folder filtered on
            sets.append(("in the filter", _queries(queries, where, list(repos))))
        for near, qs in sets:
            # each engine answers the whole set in its own loop, as a worker serving one engine does
            # (interleaved, the in-memory scan of 1.5 GB between two SQL searches slowed them by ~50 %)
            # Timed twice: the first pass reads the pages of the walk's index that are not in
            # PostgreSQL's shared buffers yet (after another filter's index, or a restart); the
            # second is a server whose buffers hold the index, as sized in the README.
            times, results, first = {}, {}, {}
            for engine, search in (("pgvector", pg.search), ("in-memory", memory.search)):
                for _pass in range(2):
                    times[engine], results[engine] = [], []
                    for q in qs:
                        t = time.perf_counter()
                        results[engine].append(search(q, repos, model=MODEL, where=where, limit=10).top)
                        times[engine].append(time.perf_counter() - t)
                    first.setdefault(engine, percentile([s * 1000 for s in times[engine]], 0.5))
            recall, ratio = [], []
            for found, exact in zip(results["pgvector"], results["in-memory"]):
                truth = {c for c, _ in exact}
                recall.append(len(truth & {c for c, _ in found}) / max(len(truth), 1))
                ratio.append(np.mean([s for _, s in found] or [0.0]) / max(np.mean([s for _, s in exact] or [1.0]), 1e-9))
            for engine, samples in times.items():
                ms = [s * 1000 for s in samples]
                rows.append([label, near, engine, f"{first[engine]:.1f}", f"{percentile(ms, 0.5):.1f}", f"{percentile(ms, 0.99):.1f}",
                             f"{np.mean(recall):.3f}" if engine == "pgvector" else "1 (exact)",
                             f"{np.mean(ratio):.3f}" if engine == "pgvector" else "1"])
    rows.append(["(in-memory first load)", "", "in-memory", "", f"{load_seconds * 1000:.0f}", "", "", ""])
    return rows


def lexical(queries: int) -> list[list]:
    from codeindex import lexical as lex
    from codeindex.models import Chunk

    names = sorted({s.rsplit(".", 1)[-1] for s in Chunk.objects.exclude(symbol="").values_list("symbol", flat=True)[:200_000]
                    if len(s.rsplit(".", 1)[-1]) >= 6 and not s.rsplit(".", 1)[-1].startswith("_")})
    sample = random.Random(11).sample(names, min(queries, len(names)))
    from codeindex.identifiers import identifier_words

    for q in sample[:5]:
        lex.rank_chunks([identifier_words(q)[0]], symbol=q.lower(), limit=200)
    ms = []
    for q in sample:
        t = time.perf_counter()
        lex.rank_chunks([identifier_words(q)[0]], symbol=q.lower(), limit=200)
        ms.append((time.perf_counter() - t) * 1000)
    words = ["parse", "request", "value", "error", "config", "tensor"]
    ms_words = []
    for i in range(queries):
        terms = random.Random(i).sample(words, 3)
        t = time.perf_counter()
        lex.rank_chunks(terms, limit=200)
        ms_words.append((time.perf_counter() - t) * 1000)
    return [["identifier (joined key + symbol)", f"{percentile(ms, 0.5):.1f}", f"{percentile(ms, 0.99):.1f}"],
            ["three common words OR-ed", f"{percentile(ms_words, 0.5):.1f}", f"{percentile(ms_words, 0.99):.1f}"]]


def worker(engine: str, scope: str) -> None:
    """A fresh process (as a gateway worker) running 30 dense searches; prints its peak RSS in MB."""
    os.environ["MCPRAG_DENSE_ENGINE"] = "memory" if engine == "in-memory" else "auto"
    _setup(migrate=False)
    from codeindex.models import Repository
    from codeindex.vectors import dense_engine

    repos = Repository.objects.all() if scope == "all" else Repository.objects.filter(name="repo00")
    generations = dict(repos.values_list("pk", "generation"))
    rng = np.random.default_rng(1)
    for _ in range(30):
        q = rng.normal(size=DIM).astype(np.float32)
        dense_engine().search(q / np.linalg.norm(q), generations, model=MODEL, limit=10)
    print(type(dense_engine()).__name__, file=sys.stderr)
    # VmHWM: this process's own peak (ru_maxrss would carry the parent's across fork and exec)
    peak = next(line for line in Path("/proc/self/status").read_text().splitlines() if line.startswith("VmHWM"))
    print(int(peak.split()[1]) // 1024)


def _worker_rss(engine: str, scope: str) -> int:
    out = subprocess.run([sys.executable, __file__, "--worker", engine, scope], capture_output=True, text=True, check=True)
    return int(out.stdout.strip().splitlines()[-1])


def writer(engine: str) -> None:
    """Commit one new chunk with a vector far from the corpus; print the commit's wall time."""
    os.environ["MCPRAG_DENSE_ENGINE"] = "memory" if engine == "in-memory" else "auto"
    _setup(migrate=False)
    from django.db import transaction
    from django.db.models import F

    from codeindex.embeddings import to_bytes
    from codeindex.models import Chunk, Repository, SourceFile
    from codeindex.vectors import VectorRow, store_vectors

    repo = Repository.objects.get(name="repo00")
    vector = _fresh_vector(int(sys.argv[-1]))
    with transaction.atomic():
        file = SourceFile.objects.create(repository=repo, path=f"fresh/{time.time_ns()}.py", language="python", content_hash="0" * 64,
                                         size_bytes=1, line_count=1, indexed_at="2026-01-01T00:00:00Z")
        chunk = Chunk.objects.create(repository=repo, file=file, path=file.path, language="python", kind="function",
                                     symbol="fresh", start_line=1, end_line=1, content="def fresh(): pass")
        store_vectors([VectorRow(chunk.pk, repo.pk, MODEL, "fresh", to_bytes(vector), path=file.path)])
        Repository.objects.filter(pk=repo.pk).update(generation=F("generation") + 1)
    print(json.dumps({"committed": time.time(), "chunk": chunk.pk}), flush=True)


def _fresh_vector(seed: int) -> np.ndarray:
    """A random direction no earlier run wrote (the seed is the run's clock)."""
    vector = np.random.default_rng(seed).normal(size=DIM).astype(np.float32)
    return vector / np.linalg.norm(vector)


def freshness(engine: str, axis: int) -> float:
    """Seconds from the writer's commit until a search in this process returns the new chunk
    (searching all along, as a gateway would; the writer is another process)."""
    from codeindex.models import Repository
    from codeindex.vectors import PgVectorEngine, dense_engine_info, vector_store

    search = PgVectorEngine(dense_engine_info()).search if engine == "pgvector" else vector_store().search
    generations = lambda: dict(Repository.objects.filter(name="repo00").values_list("pk", "generation"))  # noqa: E731
    axis = time.time_ns() % 2**32 + axis
    query = _fresh_vector(axis)
    search(query, generations(), model=MODEL, limit=1)  # warm (in-memory: loaded)
    writer_process = subprocess.Popen([sys.executable, __file__, "--writer", engine, str(axis)], stdout=subprocess.PIPE, text=True)
    started = time.time()
    while time.time() - started < 300:
        found = search(query, generations(), model=MODEL, limit=1)
        if found.top and found.top[0][1] > 0.999:
            seen = time.time()
            break
    else:
        seen = float("inf")
    out, _ = writer_process.communicate()
    return seen - json.loads(out.strip().splitlines()[-1])["committed"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chunks", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--reuse", action="store_true", help="measure the rows a previous run loaded")
    parser.add_argument("--dense-only", action="store_true", help="measure dense search only (no lexical, RSS or freshness)")
    parser.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--writer", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(*args.worker)
    if args.writer:
        return writer(args.writer[0])
    _setup()
    if not args.reuse:
        load(args.chunks)
    state = json.loads(Path(os.environ.get("BENCH_STATE") or os.path.join(tempfile.gettempdir(), "mcprag-scale.json")).read_text())
    print(f"\n{state['chunks']:,} chunks; load {state['load_seconds']:.0f} s; HNSW build {state['build_seconds']:.0f} s\n")
    print("dense top-10 (ms)")
    print(table(["filter", "queries near a chunk", "engine", "first pass p50", "p50", "p99", "recall@10", "cosine found/exact"], dense(args.queries)))
    if args.dense_only:
        return
    print("\nlexical, 200 candidates (ms)")
    print(table(["query", "p50", "p99"], lexical(args.queries)))
    rss = {(e, s): _worker_rss(e, s) for e, s in [("pgvector", "all"), ("in-memory", "all"), ("in-memory", "small")]}
    print("\nworker peak RSS (MB)")
    print(table(["engine", "index searched", "RSS"], [[e, f"{state['chunks']:,} chunks" if s == "all" else f"{SMALL:,} chunks", v]
                                                   for (e, s), v in rss.items()]))
    print("\ncommit in another process → searchable here (s)")
    print(table(["engine", "seconds"], [["pgvector", f"{freshness('pgvector', 3):.3f}"], ["in-memory", f"{freshness('in-memory', 5):.3f}"]]))


if __name__ == "__main__":
    main()
