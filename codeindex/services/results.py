"""The shapes the codeindex services return: frozen dataclasses, compared by value."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from ..choices import JobStatus, Visibility

__all__ = [
    "SearchHit", "SearchPage", "JobInfo", "RepositoryStatus", "QueryPreview", "FileContext", "GenerationContext",
    "FeedbackReceipt", "Health", "EmbeddingCheck", "FileText",
]


@dataclass(frozen=True)
class SearchHit:
    """One search result: lines ``start_line``..``end_line`` (1-based, inclusive) of ``path``.

    ``symbol`` is the qualified name (``Class.method``) or "" for windows and module code (a
    search for a name gives such a chunk holding that name's definition the definition's
    qualified name, ``SGR_STYLE_MAP``);
    ``snippet`` is the chunk's first lines (at most ``SNIPPET_MAX_LINES`` lines and
    ``SNIPPET_MAX_CHARS`` characters; only the first line with ``detail_level="compact"``);
    ``score`` is higher for better matches and only comparable within one search. ``signals``
    explains it: ``{"lexical": {"rank", "score", "normalized"}, "dense": {…}, "fused": …,
    "feedback": {"boost", "events"}, "dense_weight": …}``.
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
    signals: dict = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class SearchPage:
    """One page of results; ``next_page`` is None on the last page. ``signals_used`` lists the
    signals that ranked this query (``lexical``, ``dense``) and ``dense_note`` why dense was not."""

    query: str
    hits: list[SearchHit]
    page: int
    page_size: int
    next_page: int | None
    candidates: int
    intent: str
    signals_used: list[str]
    dense_note: str
    dense_weight: float
    dense_coverage: float | None = None
    note: str = ""  # results remain past the last page served (MAX_PAGE)


@dataclass(frozen=True)
class JobInfo:
    id: int
    repository: str
    kind: str
    status: str
    source: str
    files_done: int
    files_total: int
    chunks_done: int
    chunks_total: int
    current_path: str
    message: str
    error_count: int
    errors: list[dict]
    timings_ms: dict
    report: dict
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    requested_by: str = ""
    phase: str = ""
    phases: dict = field(default_factory=dict)

    @property
    def finished(self) -> bool:
        return self.status in (JobStatus.COMPLETE, JobStatus.FAILED)

    @property
    def percent(self) -> int:
        """Whole percent done, only moving forward (``codeindex.progress.percent``)."""
        from ..progress import percent

        return percent(self)

    @property
    def phase_rows(self) -> list[dict]:
        """Each phase with label, counts, state and percent (``codeindex.progress.phase_rows``)."""
        from ..progress import phase_rows

        return phase_rows(self)


@dataclass(frozen=True)
class RepositoryStatus:
    """An indexed repository; ``last_indexed_at`` is None until its first run completes.
    ``active_job`` is the queued or running job, if any; ``last_job`` the latest finished one."""

    name: str
    root_path: str
    file_count: int
    chunk_count: int
    last_indexed_at: datetime | None
    source_url: str = ""
    visibility: str = Visibility.EVERYONE
    embedded_chunks: int = 0
    skipped_counts: dict = field(default_factory=dict)
    active_job: JobInfo | None = None
    last_job: JobInfo | None = None
    embedding_coverage: float | None = None
    embedding_job: JobInfo | None = None
    branch: str = ""
    indexed_commit: str = ""
    fetched_at: datetime | None = None
    sync_error: str = ""


@dataclass(frozen=True)
class QueryPreview:
    query: str
    text: str
    tokens: list[str]
    intent: str
    symbol: str | None
    rewrites: list[str]
    filters: dict
    signals: list[str]
    dense_note: str


@dataclass(frozen=True)
class FileContext:
    repository: str
    path: str
    language: str
    line_count: int
    imports: list[dict]  # {"module", "path"} (path None when third-party or unresolved)
    symbols: list[dict]  # {"symbol", "kind", "start_line", "end_line"}
    depends_on: list[str]
    depended_on_by: list[str]


@dataclass(frozen=True)
class GenerationContext:
    description: str
    language: str
    examples: list[dict]  # {"repository", "path", "symbol", "start_line", "end_line", "code"}
    conventions: list[str]
    context: FileContext | None
    prompt: str


@dataclass(frozen=True)
class FeedbackReceipt:
    id: int
    kind: str
    value: float
    repository: str
    path: str
    symbol: str
    net_for_result: float
    boost_now: float


@dataclass(frozen=True)
class Health:
    status: str
    database: str
    lexical_index: str
    embeddings: str
    embedding_provider: str
    embedding_model: str
    repositories: int
    chunks: int
    embedded_chunks: int
    embedding_coverage: float | None = None
    #: Which engine answers dense queries, and why: "pgvector 0.6.2: HNSW cosine index in
    #: PostgreSQL (…)" or "in-memory: … ; <why not pgvector and what to run>".
    dense_engine: str = ""
    #: PostgreSQL's optional extensions: {"vector": "0.6.2" | "not installed: …", "pg_trgm": …};
    #: on SQLite {"fts5 trigram": …}.
    extensions: dict = field(default_factory=dict)


@dataclass(frozen=True)
class EmbeddingCheck:
    repository: str
    model: str
    chunks: int
    current: int
    missing: int
    other_model: int
    wrong_dimension: int
    stale: int
    ok: bool


@dataclass(frozen=True)
class FileText:
    repository: str
    path: str
    language: str
    text: str
    stale: bool
