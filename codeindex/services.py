"""The codeindex public API: index a directory, search it, report status.

Other apps import only this module and ``exceptions``. Every function here is synchronous and
uses the default database connection.

    report = index_repository("/srv/src/django", "django")
    hits = search("parse an HTTP date header", repository="django", max_results=5)
    hits[0].path, hits[0].symbol, hits[0].start_line   # ('django/utils/http.py', 'parse_http_date', 101)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db import transaction
from django.utils import timezone

from . import lexical
from .chunking import ChunkPiece, chunk_text, line_count
from .choices import Language, language_for_path
from .exceptions import InvalidQuery, InvalidRepositoryName, RepositoryNotFound, SourceNotFound
from .models import Chunk, Repository, SourceFile
from .sources import SourceText, SourceTree

__all__ = [
    "IndexReport",
    "SearchHit",
    "RepositoryStatus",
    "ProgressCallback",
    "index_repository",
    "search",
    "status",
    "MAX_RESULTS_LIMIT",
    "SNIPPET_MAX_LINES",
    "SNIPPET_MAX_CHARS",
]

#: ``progress(done_files, total_files, path)``, called after each file is handled.
ProgressCallback = Callable[[int, int, str], None]

MAX_RESULTS_LIMIT = 50
SNIPPET_MAX_LINES = 15
SNIPPET_MAX_CHARS = 1200

# A write transaction holds at most this many changed files or bytes of source.
_BATCH_MAX_FILES = 200
_BATCH_MAX_BYTES = 4_000_000


@dataclass
class IndexReport:
    """What one ``index_repository`` run did.

    ``files_seen`` counts every entry ``.gitignore`` let through, indexed or skipped: it equals
    ``files_new + files_changed + files_unchanged + sum(files_skipped.values())``.
    ``files_skipped`` maps a ``SkipReason`` value to a count (``{"binary": 3}``); ``errors`` lists
    ``(path, message)`` for files that could not be read (each also counted as skipped
    ``unreadable``) and for bad ``.gitignore`` lines. ``duration_ms`` is wall-clock time.
    """

    repository: str
    files_seen: int = 0
    files_new: int = 0
    files_changed: int = 0
    files_unchanged: int = 0
    files_deleted: int = 0
    files_skipped: dict[str, int] = field(default_factory=dict)
    chunks_written: int = 0
    errors: list[tuple[str, str]] = field(default_factory=list)
    duration_ms: int = 0


@dataclass(frozen=True)
class SearchHit:
    """One search result: lines ``start_line``..``end_line`` (1-based, inclusive) of ``path``.

    ``symbol`` is the qualified name (``Class.method``) or "" for windows and module code;
    ``snippet`` is the chunk's first lines (at most ``SNIPPET_MAX_LINES`` lines and
    ``SNIPPET_MAX_CHARS`` characters); ``score`` is higher for better matches and only comparable
    within one search.
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


@dataclass(frozen=True)
class RepositoryStatus:
    """An indexed repository; ``last_indexed_at`` is None until its first run completes."""

    name: str
    root_path: str
    file_count: int
    chunk_count: int
    last_indexed_at: datetime | None


def index_repository(path: str | Path, name: str, *, progress: ProgressCallback | None = None) -> IndexReport:
    """Index the directory ``path`` as repository ``name``, creating or refreshing it.

    Only files whose sha256 changed are re-chunked; files that are gone (or now skipped) are
    removed with their chunks. Each file's chunks are replaced in one transaction, so a search
    never sees half of a file's old or new chunks. Raises ``SourceNotFound`` when ``path`` is not
    an existing directory and ``InvalidRepositoryName`` when ``name`` is not slug-like.
    """
    started = time.monotonic()
    root = _source_root(path)
    _check_name(name)
    repository, _ = Repository.objects.get_or_create(name=name, defaults={"root_path": str(root)})
    report = IndexReport(repository=name)
    tree = SourceTree(root)
    indexed = _index_files(repository, tree, report, progress)
    report.files_deleted = _delete_missing(repository, indexed)
    report.files_skipped = {str(reason): count for reason, count in sorted(tree.skipped.items())}
    report.errors = list(tree.errors)
    report.files_seen = report.files_new + report.files_changed + report.files_unchanged + tree.skipped.total()
    _record_run(repository, root, report)
    report.duration_ms = round((time.monotonic() - started) * 1000)
    return report


def search(query: str, *, repository: str | None = None, language: str | None = None, max_results: int = 10) -> list[SearchHit]:
    """Chunks best matching ``query`` (plain English or identifiers), best first.

    ``repository`` (a name) and ``language`` (a ``Language`` value such as ``"python"``) narrow
    the search. Raises ``InvalidQuery`` for an empty query, one with no searchable words, an
    unknown language or ``max_results`` outside 1..50, and ``RepositoryNotFound`` when
    ``repository`` names no indexed repository.
    """
    terms = _query_terms(query)
    _check_max_results(max_results)
    repository_id = _repository_id(repository)
    _check_language(language)
    symbol = lexical.query_symbol(query)
    ranked = lexical.rank_chunks(terms, symbol=symbol, repository_id=repository_id, language=language, limit=max_results)
    chunks = Chunk.objects.select_related("repository").in_bulk([hit.chunk_id for hit in ranked])
    return [_hit(chunks[hit.chunk_id], hit.score) for hit in ranked if hit.chunk_id in chunks]


def status() -> list[RepositoryStatus]:
    """Every indexed repository, by name."""
    return [
        RepositoryStatus(r.name, r.root_path, r.file_count, r.chunk_count, r.last_indexed_at)
        for r in Repository.objects.order_by("name")
    ]


# -- indexing steps -------------------------------------------------------------------------


def _source_root(path: str | Path) -> Path:
    root = Path(path).expanduser()
    if not root.exists():
        raise SourceNotFound(f"cannot index {str(path)!r}: no such directory")
    if not root.is_dir():
        raise SourceNotFound(f"cannot index {str(path)!r}: it is a file, not a directory")
    return root.resolve()


def _check_name(name: str) -> None:
    try:
        validate_slug(name)
    except ValidationError:
        raise InvalidRepositoryName(
            f"repository name {name!r} is not valid: use letters, digits, '-' and '_' only"
        ) from None
    if len(name) > Repository._meta.get_field("name").max_length:
        raise InvalidRepositoryName(f"repository name {name[:20]!r}… is longer than 100 characters")


def _index_files(repository: Repository, tree: SourceTree, report: IndexReport, progress: ProgressCallback | None) -> set[str]:
    """Chunk the new and changed files; return the paths now indexed."""
    known = dict(repository.files.values_list("path", "content_hash"))
    paths = tree.paths()
    indexed: set[str] = set()
    batch = _WriteBatch(repository, report)
    for done, path in enumerate(paths, start=1):
        source = tree.read(path)
        if source is not None:
            indexed.add(path)
            previous = known.get(path)
            if previous == source.sha256:
                report.files_unchanged += 1
            else:
                if previous is None:
                    report.files_new += 1
                else:
                    report.files_changed += 1
                batch.add(source)
        if progress is not None:
            progress(done, len(paths), path)
    batch.flush()
    return indexed


@dataclass
class _WriteBatch:
    """Changed files waiting to be written, several per transaction (one commit per file is slow).

    A file's old chunks are deleted and its new ones inserted in the same transaction, so
    each file is still replaced atomically; a batch only commits several files at once.
    """

    repository: Repository
    report: IndexReport
    sources: list[SourceText] = field(default_factory=list)
    size_bytes: int = 0

    def add(self, source: SourceText) -> None:
        self.sources.append(source)
        self.size_bytes += source.size_bytes
        if len(self.sources) >= _BATCH_MAX_FILES or self.size_bytes >= _BATCH_MAX_BYTES:
            self.flush()

    def flush(self) -> None:
        if self.sources:
            with transaction.atomic():
                chunks = [chunk for source in self.sources for chunk in _replace_file(self.repository, source)]
                Chunk.objects.bulk_create(chunks, batch_size=500)
            self.report.chunks_written += len(chunks)
        self.sources, self.size_bytes = [], 0


def _replace_file(repository: Repository, source: SourceText) -> list[Chunk]:
    """Store ``source``'s file row, delete its old chunks, return its new (unsaved) chunks.

    Runs inside the caller's transaction, which must also save the returned chunks.
    """
    language = language_for_path(source.path)
    file, created = SourceFile.objects.update_or_create(
        repository=repository,
        path=source.path,
        defaults={
            "language": language,
            "content_hash": source.sha256,
            "size_bytes": source.size_bytes,
            "line_count": line_count(source.text),
            "indexed_at": timezone.now(),
        },
    )
    if not created:
        file.chunks.all().delete()
    return [_chunk(repository, file, piece) for piece in chunk_text(source.text, language)]


def _chunk(repository: Repository, file: SourceFile, piece: ChunkPiece) -> Chunk:
    fields = lexical.document_fields(file.path, piece.symbol, piece.content)
    return Chunk(
        repository=repository,
        file=file,
        path=file.path,
        language=file.language,
        kind=piece.kind,
        symbol=piece.symbol,
        start_line=piece.start_line,
        end_line=piece.end_line,
        content=piece.content,
        search_context=fields.context,
        search_name=fields.name,
        search_text=fields.text,
    )


def _delete_missing(repository: Repository, indexed: set[str]) -> int:
    """Remove files (and their chunks) no longer in the tree or no longer readable."""
    gone = [pk for pk, path in repository.files.values_list("pk", "path") if path not in indexed]
    for start in range(0, len(gone), 500):
        with transaction.atomic():
            SourceFile.objects.filter(pk__in=gone[start : start + 500]).delete()
    return len(gone)


def _record_run(repository: Repository, root: Path, report: IndexReport) -> None:
    repository.root_path = str(root)
    repository.file_count = repository.files.count()
    repository.chunk_count = repository.chunks.count()
    repository.skipped_counts = report.files_skipped
    repository.last_indexed_at = timezone.now()
    repository.save(update_fields=["root_path", "file_count", "chunk_count", "skipped_counts", "last_indexed_at"])


# -- search steps ---------------------------------------------------------------------------


def _query_terms(query: str) -> list[str]:
    if not isinstance(query, str) or not query.strip():
        raise InvalidQuery("the search query is empty")
    terms = lexical.query_terms(query)
    if not terms:
        raise InvalidQuery(f"the query {query.strip()[:80]!r} has no searchable words; use a name or a keyword")
    return terms


def _check_max_results(max_results: int) -> None:
    if isinstance(max_results, bool) or not isinstance(max_results, int) or not 1 <= max_results <= MAX_RESULTS_LIMIT:
        raise InvalidQuery(f"max_results must be a whole number from 1 to {MAX_RESULTS_LIMIT}, got {max_results!r}")


def _repository_id(name: str | None) -> int | None:
    if name is None:
        return None
    repository_id = Repository.objects.filter(name=name).values_list("pk", flat=True).first()
    if repository_id is None:
        raise RepositoryNotFound(f"no repository named {name!r} is indexed")
    return repository_id


def _check_language(language: str | None) -> None:
    if language is not None and language not in Language.values:
        raise InvalidQuery(f"unknown language {language!r}; use one of: {', '.join(Language.values)}")


def _hit(chunk: Chunk, score: float) -> SearchHit:
    return SearchHit(
        repository=chunk.repository.name,
        path=chunk.path,
        start_line=chunk.start_line,
        end_line=chunk.end_line,
        symbol=chunk.symbol,
        kind=chunk.kind,
        language=chunk.language,
        snippet=_snippet(chunk.content),
        score=score,
    )


def _snippet(content: str) -> str:
    """The first ``SNIPPET_MAX_LINES`` lines of ``content``, cut to ``SNIPPET_MAX_CHARS`` characters."""
    snippet = "\n".join(content.split("\n")[:SNIPPET_MAX_LINES])
    if len(snippet) > SNIPPET_MAX_CHARS:
        snippet = snippet[: SNIPPET_MAX_CHARS - 1].rstrip() + "…"
    return snippet
