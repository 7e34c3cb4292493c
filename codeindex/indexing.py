"""The indexing engine: walk, chunk, index and embed one repository's files, incrementally.

``jobs.py`` runs this inside an ``IndexJob``; nothing else calls it. A run goes in phases, each
with a total known when it starts (``codeindex.progress``):

1. **files**: lists the candidate files (the whole tree, or the paths of a ``changed_files``
   job), reads each one and compares its sha256 with the stored one; only new and changed files
   go on;
2. **chunks**: chunks them, reads their imports, definitions and name occurrences
   (``symbols/``), reuses the vectors of chunk texts already embedded (same text hash), then in
   **one transaction** per batch replaces each file's row, stored text (``navigation.store``),
   chunks (with their lexical index entries), import edges, symbols and occurrences, so a search
   or a read sees a file's old pieces or its new ones, never a mix; then removes files that are
   gone, records the skipped ones (``SkippedFile``), resolves import edges and bumps the
   repository's ``generation``. Search works (lexically) from here on;
3. **embeddings** (``embed_missing``, run by the follow-up ``embeddings`` job): embeds the chunks
   still lacking a vector for the current model, shortest texts first, a batch per commit.
"""

from __future__ import annotations

import logging
import posixpath
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np
from django.db import DatabaseError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from . import lexical
from .app_settings import app_settings
from .chunking import ChunkPiece, chunk_text, line_count
from .choices import language_for_path
from .embeddings import EmbeddingProvider, document_text, get_provider, text_hash, to_bytes
from .exceptions import EmbeddingsUnavailable, InvalidArgument
from .imports import PathIndex, extract_imports, resolve
from .models import Chunk, ChunkVector, ImportEdge, Repository, SkippedFile, SourceFile
from .vectors import VectorRow, store_vectors
from .navigation.store import forget_texts, save_text
from .sources import SourceText, SourceTree
from .symbols.extract import FileSymbols, extract_symbols
from .symbols.store import replace_file_symbols

logger = logging.getLogger(__name__)

__all__ = ["IndexReport", "Progress", "index_tree", "embed_missing", "needs_embeddings", "store_computed_vectors", "clear_documents",
           "normalize_paths"]

#: ``progress(phase, done, total, path)``: phase "files", "chunks" or "embeddings" (``codeindex.progress``).
Progress = Callable[[str, int, int, str], None]

# A write transaction holds at most this many changed files or bytes of source.
_BATCH_MAX_FILES = 200
_BATCH_MAX_BYTES = 4_000_000
_EMBED_BATCH = 256
# While embedding, the repository's generation is bumped this often, so the vectors written so far
# reach every process's in-memory dense index (each bump reloads them there).
_PUBLISH_VECTORS_S = 20.0
# Changed files' texts kept in memory between the two phases, in bytes; beyond it they are read again.
_KEEP_TEXT_BYTES = 256_000_000
#: On PostgreSQL, a run that wrote at least this many chunks ends with ``_settle_indexes``.
ANALYZE_AFTER_CHUNKS = 10_000


@dataclass
class IndexReport:
    """What one indexing run did.

    ``files_seen`` counts every entry the ignore files let through, indexed or skipped: it equals
    ``files_new + files_changed + files_unchanged + sum(files_skipped.values())``.
    ``files_skipped`` maps a ``SkipReason`` value to a count (``{"binary": 3}``); ``errors`` lists
    ``(path, message)`` for files that could not be read and bad ignore-file lines.
    ``vectors_written`` counts newly embedded chunks, ``vectors_reused`` chunks whose text was
    already embedded; ``embedding_error`` says why no vectors were written, if so;
    ``embeddings_job`` is the id of the embeddings job left queued to compute the rest, if any.
    ``timings_ms`` maps a phase to milliseconds.
    """

    repository: str
    files_seen: int = 0
    files_new: int = 0
    files_changed: int = 0
    files_unchanged: int = 0
    files_deleted: int = 0
    files_skipped: dict[str, int] = field(default_factory=dict)
    chunks_written: int = 0
    lines_written: int = 0
    vectors_written: int = 0
    vectors_reused: int = 0
    embedding_error: str = ""
    embeddings_job: int | None = None
    imports_resolved: int = 0
    errors: list[tuple[str, str]] = field(default_factory=list)
    timings_ms: dict[str, int] = field(default_factory=dict)
    duration_ms: int = 0

    def as_json(self) -> dict:
        data = asdict(self)
        data["errors"] = [{"path": p, "message": m} for p, m in self.errors]
        return data


class _Timer:
    def __init__(self, report: IndexReport, phase: str):
        self.report, self.phase = report, phase

    def __enter__(self):
        self.started = time.monotonic()

    def __exit__(self, *exc):
        spent = round((time.monotonic() - self.started) * 1000)
        self.report.timings_ms[self.phase] = self.report.timings_ms.get(self.phase, 0) + spent


#: Longest path ``normalize_paths`` accepts (Linux's PATH_MAX).
MAX_CHANGED_PATH_CHARS = 4096
_UNUSABLE_IN_PATH = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")


def normalize_paths(paths: list[str]) -> list[str]:
    """Relative posix paths from user input; refuses absolute paths, ``..``, control characters
    and unpaired surrogates (no file is named so, and PostgreSQL's JSON cannot store a NUL), and
    paths over ``MAX_CHANGED_PATH_CHARS`` characters."""
    out: dict[str, None] = {}
    for raw in paths:
        if not isinstance(raw, str) or not raw.strip():
            raise InvalidArgument("paths must be non-empty strings")
        if len(raw) > MAX_CHANGED_PATH_CHARS:
            raise InvalidArgument(f"paths must be at most {MAX_CHANGED_PATH_CHARS:,} characters long")
        if _UNUSABLE_IN_PATH.search(raw):
            raise InvalidArgument(f"{raw[:80]!r} contains a control character or an unpaired surrogate")
        path = posixpath.normpath(raw.strip().replace("\\", "/"))
        if path.startswith("/") or path in (".", "..") or path.startswith("../"):
            raise InvalidArgument(f"{raw[:80]!r} is not a path inside the repository")
        out[path] = None
    return list(out)


def index_tree(repository: Repository, tree: SourceTree, report: IndexReport, *, paths: list[str] | None = None,
               progress: Progress | None = None) -> None:
    """Index ``tree`` into ``repository`` (all files, or only ``paths``), filling ``report``.

    Two phases, each reported through ``progress`` with a total known when it starts: "files"
    (read and hash every candidate; the path is given only for files that are indexed, never for
    skipped ones) and "chunks" (chunk the new and changed files and write them with their lexical
    index entries, a batch per transaction). Vectors are reused for chunk texts already embedded;
    the rest are left to ``embed_missing`` (the follow-up embeddings job), so search works
    lexically as soon as this returns.
    """
    provider = get_provider()
    with _Timer(report, "walk"):
        candidates = tree.paths()
        listed = set(candidates)
        if paths is not None:
            candidates = [p for p in paths if p in listed]
    known = dict(repository.files.values_list("path", "content_hash"))
    stored = set(repository.files.filter(stored__isnull=False).values_list("path", flat=True))
    indexed: set[str] = set()
    skipped: dict[str, str] = {}
    changed: list[SourceText | str] = []  # the text while it fits _KEEP_TEXT_BYTES, else the path (read again)
    kept_bytes = 0
    for done, path in enumerate(candidates, start=1):
        with _Timer(report, "read"):
            before = tree.skipped.copy()
            source = tree.read(path)
        if source is None:
            reason = next(iter(tree.skipped - before), None)
            if reason is not None:
                skipped[path] = str(reason)
        else:
            indexed.add(path)
            previous = known.get(path)
            if previous == source.sha256 and path in stored:  # files indexed before texts were stored get one
                report.files_unchanged += 1
            else:
                report.files_new += previous is None
                report.files_changed += previous is not None
                keep = kept_bytes + source.size_bytes <= _KEEP_TEXT_BYTES
                kept_bytes += source.size_bytes if keep else 0
                changed.append(source if keep else path)
        if progress is not None:
            progress("files", done, len(candidates), path if source is not None else "")
    batch = _WriteBatch(repository, report, provider if provider.name != "none" else None, progress)
    if progress is not None:
        progress("chunks", 0, len(changed), "")
    for done, item in enumerate(changed, start=1):
        source = item if isinstance(item, SourceText) else tree.read(item)
        if source is not None:
            batch.add(source)
        if progress is not None:
            progress("chunks", done, len(changed), source.path if source is not None else "")
    batch.flush()
    gone = [p for p in known if p not in indexed] if paths is None else [p for p in paths if p in known and p not in indexed]
    with _Timer(report, "delete"):
        report.files_deleted = _delete_files(repository, gone)
        _record_skipped(repository, skipped, paths)
    if connection.vendor == "postgresql" and report.chunks_written >= ANALYZE_AFTER_CHUNKS:
        with _Timer(report, "statistics"):
            _settle_indexes()
    report.files_skipped = {str(reason): count for reason, count in sorted(tree.skipped.items())}
    report.errors = list(tree.errors)
    report.files_seen = report.files_new + report.files_changed + report.files_unchanged + tree.skipped.total()
    with _Timer(report, "imports"):
        report.imports_resolved = _resolve_imports(repository, batch.changed_file_ids, paths_changed=bool(report.files_new or report.files_deleted))
    bump_generation(repository)


def _settle_indexes() -> None:
    """After a large write on PostgreSQL, do at once what autovacuum would do later (if it runs):

    * ``ANALYZE`` the chunk and file tables (sampled: about a second whatever their size). Lexical
      ranking reads word frequencies from ``pg_stats``; while the table has none it counts every
      query word in every stream (39 ms of a search at 130k chunks, against 2 ms).
    * move the GIN indexes' pending lists into the indexes (``gin_clean_pending_list``): rows
      written since the last vacuum sit in an unsorted list that every search through that index
      reads whole (up to ``gin_pending_list_limit``, 4 MB by default: 9 of a 16 ms ranking query
      at 130k chunks).

    Errors (a role that does not own the tables) are logged and leave the indexes as they were.
    """
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("ANALYZE codeindex_chunk, codeindex_sourcefile")
            cursor.execute(
                "SELECT gin_clean_pending_list(i.indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
                " JOIN pg_am a ON a.oid = c.relam WHERE a.amname = 'gin' AND i.indrelid = ANY(ARRAY["
                "to_regclass('codeindex_chunk'), to_regclass('codeindex_sourcefile'), to_regclass('codeindex_filetext_block')]::oid[])")
    except DatabaseError as exc:
        logger.warning("could not refresh the search indexes' statistics after a large index run: %s", exc)


def needs_embeddings(repository: Repository) -> bool:
    """Whether an embedding provider is configured and some chunk of ``repository`` lacks its vector."""
    provider = get_provider()
    if provider.name == "none":
        return False
    return _pending_chunks(repository, provider.model).exists()


def _pending_chunks(repository: Repository, model: str):
    return Chunk.objects.filter(repository=repository).exclude(vector__model=model)


def _usable_provider(report: IndexReport) -> EmbeddingProvider | None:
    provider = get_provider()
    ok, reason = provider.available()
    if not ok:
        report.embedding_error = reason
        return None
    return provider


def _fresh_connection() -> None:
    """An embedding phase can leave the database connection idle for minutes; if the server (or a
    pooler) dropped it meanwhile, close it so the next query opens a new one."""
    if not connection.in_atomic_block:
        if connection.connection is not None and not connection.is_usable():
            connection.close()


def bump_generation(repository: Repository) -> None:
    Repository.objects.filter(pk=repository.pk).update(generation=F("generation") + 1)


@dataclass
class _WriteBatch:
    """Changed files waiting to be written, several per transaction (one commit per file is slow)."""

    repository: Repository
    report: IndexReport
    provider: EmbeddingProvider | None
    progress: Progress | None
    sources: list[_Prepared] = field(default_factory=list)
    size_bytes: int = 0
    changed_file_ids: list[int] = field(default_factory=list)

    def add(self, source: SourceText) -> None:
        with _Timer(self.report, "chunk"):
            self.sources.append(_Prepared.of(source))
        self.size_bytes += source.size_bytes
        if len(self.sources) >= _BATCH_MAX_FILES or self.size_bytes >= _BATCH_MAX_BYTES:
            self.flush()

    def flush(self) -> None:
        if not self.sources:
            return
        prepared = self.sources
        vectors = self.vectors(prepared)
        _fresh_connection()
        with _Timer(self.report, "write"), transaction.atomic():
            for item in prepared:
                self.changed_file_ids.append(_replace_file(self.repository, item, vectors, self.provider))
        self.report.chunks_written += sum(len(item.pieces) for item in prepared)
        self.report.lines_written += sum(item.lines for item in prepared)
        self.sources, self.size_bytes = [], 0

    def vectors(self, prepared: list[_Prepared]) -> dict[str, bytes]:
        """text hash → vector bytes for the pieces whose text is already embedded (the rest wait
        for the embeddings phase)."""
        if self.provider is None:
            return {}
        texts = {h for item in prepared for h in item.hashes}
        with _Timer(self.report, "reuse"):
            found = _stored_vectors(self.repository, self.provider.model, list(texts))
        self.report.vectors_reused += sum(1 for item in prepared for h in item.hashes if h in found)
        return found


@dataclass
class _Prepared:
    source: SourceText
    language: str
    pieces: list[ChunkPiece]
    texts: list[str]
    hashes: list[str]
    imports: list[str]
    lines: int
    symbols: FileSymbols

    @classmethod
    def of(cls, source: SourceText) -> _Prepared:
        language = language_for_path(source.path)
        pieces = chunk_text(source.text, language)
        texts = [document_text(source.path, p.symbol, p.content) for p in pieces]
        return cls(source, language, pieces, texts, [text_hash(t) for t in texts], extract_imports(source.text, language),
                   line_count(source.text), extract_symbols(source.text, language))


def _stored_vectors(repository: Repository, model: str, hashes: list[str]) -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    for start in range(0, len(hashes), 500):
        rows = ChunkVector.objects.filter(repository=repository, model=model, text_hash__in=hashes[start : start + 500])
        for digest, vector in rows.values_list("text_hash", "vector"):
            found.setdefault(digest, bytes(vector))
    return found


def _replace_file(repository: Repository, item: _Prepared, vectors: dict[str, bytes], provider: EmbeddingProvider | None) -> int:
    """Store one file's row, replacing its chunks, vectors, import edges, symbols and occurrences.
    Runs in the caller's transaction."""
    source = item.source
    file, created = SourceFile.objects.update_or_create(
        repository=repository, path=source.path,
        defaults={"language": item.language, "content_hash": source.sha256, "size_bytes": source.size_bytes,
                  "line_count": item.lines, "indexed_at": timezone.now()},
    )
    save_text(file, source.text, replacing=not created)
    if not created:
        ChunkVector.objects.filter(chunk__file=file).delete()
        file.chunks.all().delete()
        file.imports.all().delete()
    chunks = Chunk.objects.bulk_create([_chunk(repository, file, piece) for piece in item.pieces], batch_size=500)
    if provider is not None and vectors:
        store_vectors([VectorRow(chunk.pk, repository.pk, provider.model, h, vectors[h], path=source.path)
                       for chunk, h in zip(chunks, item.hashes) if h in vectors])
    ImportEdge.objects.bulk_create([ImportEdge(repository=repository, source=file, module=m) for m in item.imports], batch_size=500)
    replace_file_symbols(repository, file, item.symbols, created=created)
    return file.pk


def _chunk(repository: Repository, file: SourceFile, piece: ChunkPiece) -> Chunk:
    fields = lexical.document_fields(file.path, piece.symbol, piece.content)
    return Chunk(
        repository=repository, file=file, path=file.path, language=file.language, kind=piece.kind, symbol=piece.symbol,
        start_line=piece.start_line, end_line=piece.end_line, content=piece.content,
        search_context=fields.context, search_name=fields.name, search_text=fields.text,
    )


def _delete_files(repository: Repository, paths: list[str]) -> int:
    """Remove files (and, by cascade, their chunks, vectors, import edges, symbols and occurrences)."""
    ids = list(repository.files.filter(path__in=paths).values_list("pk", flat=True)) if paths else []
    for start in range(0, len(ids), 500):
        with transaction.atomic():
            part = ids[start : start + 500]
            forget_texts(part)
            ChunkVector.objects.filter(chunk__file_id__in=part).delete()
            Chunk.objects.filter(file_id__in=part).delete()
            SourceFile.objects.filter(pk__in=part).delete()
    return len(ids)


def _record_skipped(repository: Repository, skipped: dict[str, str], listed: list[str] | None) -> None:
    """Replace the skipped-file records of a full run (``listed`` None) or of the listed paths."""
    with transaction.atomic():
        rows = SkippedFile.objects.filter(repository=repository)
        rows = rows if listed is None else rows.filter(path__in=listed)
        rows.delete()
        SkippedFile.objects.bulk_create(
            [SkippedFile(repository=repository, path=p, reason=r) for p, r in skipped.items()], batch_size=500)


def _resolve_imports(repository: Repository, changed_ids: list[int], *, paths_changed: bool) -> int:
    """Point import edges of changed files at the files they name; when files were added or
    removed, also retry every unresolved edge (a new file may be what it names). Edited files
    alone leave other edges as they were, which keeps a one-file re-index fast."""
    if not changed_ids and not paths_changed:
        return ImportEdge.objects.filter(repository=repository, target__isnull=False).count()
    files = dict(repository.files.values_list("path", "pk"))
    index = PathIndex(files)
    scope = Q(source_id__in=changed_ids) | Q(target__isnull=True) if paths_changed else Q(source_id__in=changed_ids)
    edges = ImportEdge.objects.filter(repository=repository).filter(scope)
    updates = []
    for edge in edges.select_related("source").only("id", "module", "target_id", "source__path", "source__language"):
        target_path = resolve(edge.source.path, edge.module, edge.source.language, index)
        target = files.get(target_path) if target_path and target_path != edge.source.path else None
        if target != edge.target_id:
            edge.target_id = target
            updates.append(edge)
    ImportEdge.objects.bulk_update(updates, ["target"], batch_size=500)
    return ImportEdge.objects.filter(repository=repository, target__isnull=False).count()


def embed_missing(repository: Repository, report: IndexReport, provider: EmbeddingProvider | None = None,
                  progress: Progress | None = None) -> None:
    """Embed the chunks of ``repository`` that have no vector for the current model (the
    "embeddings" phase: ``progress("embeddings", done, total, "")`` after each batch).

    Texts are sorted by length before batching, so each batch pads little (a batch of short
    chunks no longer runs at the length of its longest one). Each batch commits on its own, so
    search uses the vectors written so far while the rest are still being computed."""
    provider = provider or _usable_provider(report)
    if provider is None:
        return
    rows = list(_pending_chunks(repository, provider.model).values_list("pk", "path", "symbol", "content"))
    if progress is not None:
        progress("embeddings", 0, len(rows), "")
    if not rows:
        return
    items = sorted(((pk, document_text(path, symbol, content)) for pk, path, symbol, content in rows), key=lambda r: len(r[1]))
    batch_size = max(1, app_settings.EMBEDDING_BATCH_SIZE) * 8
    done, published = 0, time.monotonic()
    with _Timer(report, "embed"):
        for start in range(0, len(items), batch_size):
            part = items[start : start + batch_size]
            try:
                matrix = provider.embed_documents([text for _, text in part])
            except EmbeddingsUnavailable as exc:
                report.embedding_error = str(exc)
                return
            report.vectors_written += store_computed_vectors(repository, provider.model, [(pk, text, row) for (pk, text), row in zip(part, matrix)])
            done += len(part)
            if time.monotonic() - published >= _PUBLISH_VECTORS_S:  # let searches use the vectors written so far
                bump_generation(repository)
                published = time.monotonic()
            if progress is not None:
                progress("embeddings", done, len(items), "")


def store_computed_vectors(repository: Repository, model: str, rows: list[tuple[int, str, np.ndarray]]) -> int:
    """Write one vector per ``(chunk id, embedded text, vector)`` for ``model``, replacing any the
    chunk had, in one transaction, through :func:`codeindex.vectors.store_vectors` (the one writer,
    which also fills pgvector's column where it is the engine); chunks deleted meanwhile (a
    re-index replaced them) are left out. Returns how many were written."""
    _fresh_connection()
    with transaction.atomic():
        ids = [pk for pk, _, _ in rows]
        alive = dict(Chunk.objects.filter(pk__in=ids).values_list("pk", "path"))
        ChunkVector.objects.filter(chunk_id__in=ids).delete()
        return store_vectors([VectorRow(pk, repository.pk, model, text_hash(text), to_bytes(vector), path=alive[pk])
                              for pk, text, vector in rows if pk in alive])


def clear_documents(repository: Repository) -> int:
    """Delete every file, chunk, vector and import edge of ``repository``; keep the repository."""
    count = repository.files.count()
    with transaction.atomic():
        forget_texts(repository.files.values_list("pk", flat=True))
        SkippedFile.objects.filter(repository=repository).delete()
        ChunkVector.objects.filter(repository=repository).delete()
        ImportEdge.objects.filter(repository=repository).delete()
        Chunk.objects.filter(repository=repository).delete()
        SourceFile.objects.filter(repository=repository).delete()
        Repository.objects.filter(pk=repository.pk).update(file_count=0, chunk_count=0, skipped_counts={}, generation=F("generation") + 1)
    return count
