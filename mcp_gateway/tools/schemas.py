"""Result models of the tools: each becomes the tool's ``outputSchema`` and ``structuredContent``."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class SignalModel(BaseModel):
    rank: int | None = Field(None, description="1-based rank among this signal's own results; null when it did not rank the chunk.")
    score: float | None = Field(None, description="Raw score of this signal (lexical: BM25-like; dense: cosine similarity).")
    normalized: float = Field(description="Score after min-max normalisation, 0..1.")


class FeedbackSignalModel(BaseModel):
    boost: float = Field(description="Factor applied for feedback on this result (1.0 = none; bounded 0.8..1.25).")
    events: int = Field(description="Feedback events counted for this result.")


class SignalsModel(BaseModel):
    lexical: SignalModel
    dense: SignalModel
    dense_weight: float = Field(description="Weight w of the dense signal: fused = (1-w)·lexical + w·dense.")
    fused: float = Field(description="Fused score before feedback.")
    feedback: FeedbackSignalModel
    test_factor: float = Field(1.0, description="Factor for a chunk of a test file the query did not ask for (1.0 = none).")


class SearchHitModel(BaseModel):
    repository: str
    path: str = Field(description="File path relative to the repository root (POSIX separators).")
    start_line: int = Field(description="First line of the chunk, 1-based.")
    end_line: int = Field(description="Last line of the chunk, 1-based, inclusive.")
    symbol: str | None = Field(None, description="Qualified name of the function/class/method, if any.")
    kind: str = Field(description="function, method, class, module or window.")
    language: str | None = Field(None, description="The file's language (with detail_level=full).")
    snippet: str | None = Field(None, description="The chunk's first 15 lines (with detail_level=full; a compact answer has its snippets in the text content only).")
    score: float = Field(description="Relevance from 0 to 1, higher is better (see the README's 'Search scores').")
    signals: SignalsModel | None = Field(None, description="Why it ranked here (per-signal ranks and scores; with detail_level=full).")


class ContinueWith(BaseModel):
    page: int = Field(description="Pass as page.")
    max_results: int = Field(description="Pass as max_results (the other arguments as in this call).")


class SearchResults(BaseModel):
    total: int = Field(description="Number of hits returned on this page.")
    hits_in_all: int = Field(0, description="Number of hits the query has over all its pages (this page's among them).")
    page: int = 1
    next_page: int | None = Field(None, description="Pass as page, with the same max_results, for the hits after this page; null on the last page, and when hits of this page were left out for max_tokens (omitted > 0: next_page would skip them; use continue_with).")
    continue_with: ContinueWith | None = Field(None, description="The page and max_results whose page starts right after the last hit shown here: every hit is seen, none twice. Set whenever more hits follow (at most page 20); when omitted > 0, its max_results is the number of hits shown.")
    intent: str = Field("natural_language", description="identifier, path or natural_language.")
    signals_used: list[str] = Field(default_factory=list, description="Signals that ranked this query.")
    dense_note: str = Field("", description="Why the dense signal was not used, if it was not.")
    dense_coverage: float | None = Field(None, description="Share 0-1 of the searched chunks the dense signal could rank (the rest have no vector yet); null without embeddings.")
    omitted: int = Field(0, description="Hits of this page left out to stay under max_tokens.")
    note: str = Field("", description="Set when more hits remain past the last page served: how to reach them.")
    hits: list[SearchHitModel]


class ExplainedHit(BaseModel):
    position: int
    repository: str
    path: str
    start_line: int
    end_line: int
    symbol: str | None
    score: float
    signals: SignalsModel


class RankingExplanation(BaseModel):
    query: str
    intent: str
    signals_used: list[str]
    dense_note: str
    dense_weight: float
    formula: str
    results: list[ExplainedHit]


class QueryPreviewModel(BaseModel):
    query: str
    text: str = Field(description="The query text after inline filters and quoted terms were taken out.")
    tokens: list[str] = Field(description="Words sent to the lexical index (identifiers split, stop words dropped).")
    intent: str
    symbol: str | None = Field(None, description="The name that gets the exact-name bonus, if the query is a name.")
    rewrites: list[str]
    filters: dict
    signals: list[str]
    dense_note: str


class JobPhaseModel(BaseModel):
    name: str = Field(description="files (read and compare), chunks (chunk and index lexically) or embeddings.")
    label: str
    unit: str = Field(description="What done and total count: files or chunks.")
    done: int
    total: int
    state: str = Field(description="waiting, running, done or stopped (the job failed in it).")
    percent: int


class JobModel(BaseModel):
    id: int
    repository: str
    kind: str
    status: str = Field(description="queued, running, complete or failed.")
    files_done: int
    files_total: int
    chunks_done: int = Field(description="Chunks embedded so far in the embedding phase.")
    chunks_total: int
    phase: str = Field("", description="The phase running now: files, chunks or embeddings (empty once complete).")
    percent: int = Field(0, description="Whole percent done, 0-100; it only moves forward, and is 100 only when complete.")
    phases: list[JobPhaseModel] = Field(default_factory=list, description="The job's phases in order, with counts.")
    current_path: str
    message: str
    error_count: int
    errors: list[dict]
    timings_ms: dict
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class RepositoryStatusModel(BaseModel):
    name: str
    file_count: int
    chunk_count: int
    embedded_chunks: int = 0
    last_indexed_at: datetime | None
    source_url: str = ""
    visibility: str = "everyone"
    skipped_counts: dict = Field(default_factory=dict)
    active_job: JobModel | None = None
    last_job: JobModel | None = None
    embedding_coverage: float | None = Field(None, description="Share 0-1 of chunks with a vector; null without an embedding provider.")
    embedding_job: JobModel | None = Field(None, description="The embeddings job computing the missing vectors, while queued or running.")


class IndexStatus(BaseModel):
    repositories: list[RepositoryStatusModel]


class HealthStatus(BaseModel):
    status: str = Field(description='"ok" when every component answered, else "degraded".')
    database: str
    lexical_index: str
    embeddings: str = Field("ok", description='"ok", "loading: …" while the server loads the model, or "unavailable: <reason>" (search then runs lexically).')
    embedding_provider: str = ""
    embedding_model: str = ""
    repositories: int
    chunks: int = 0
    embedded_chunks: int = 0
    embedding_coverage: float | None = Field(None, description="Share 0-1 of chunks with a vector (the dense signal ranks only those); null without an embedding provider.")
    dense_engine: str = Field("", description='Which engine answers dense queries: "pgvector …" (in the database) or "in-memory …" (with why not pgvector).')
    extensions: dict[str, str] = Field(default_factory=dict, description='Optional database extensions: version, or "not installed: <effect>".')
    version: str
    signed_in_as: str = Field("", description="Who the calling token acts for: the person's username, or the service client's name.")
    tier: str = Field("", description="The caller's tier now (public, developer, admin, service).")


class ImportModel(BaseModel):
    module: str
    path: str | None = Field(None, description="The indexed file it resolves to; null for third-party or unresolved.")


class SymbolModel(BaseModel):
    symbol: str
    kind: str
    start_line: int
    end_line: int


class FileContextModel(BaseModel):
    repository: str
    path: str
    language: str
    line_count: int
    imports: list[ImportModel]
    symbols: list[SymbolModel]
    depends_on: list[str]
    depended_on_by: list[str]


class ExampleModel(BaseModel):
    repository: str
    path: str
    symbol: str
    start_line: int
    end_line: int
    code: str


class GeneratedCode(BaseModel):
    description: str
    language: str
    generated: bool = Field(description="True when the client's model wrote code (MCP sampling); false when none was available.")
    code: str | None = None
    model: str | None = None
    note: str
    conventions: list[str]
    examples: list[ExampleModel]
    context: FileContextModel | None = None


class FeedbackReceiptModel(BaseModel):
    id: int
    kind: str
    value: float
    repository: str
    path: str
    symbol: str
    net_for_result: float = Field(description="Sum of feedback values for this result (this query's count double).")
    boost_now: float = Field(description="The ranking factor this result gets now.")


class CacheStats(BaseModel):
    vectors: dict
    query_vectors: dict
    embedding_provider: str
    embedding_model: str


class CacheCleared(BaseModel):
    cleared: CacheStats


class RepositoryList(BaseModel):
    action: str
    repositories: list[RepositoryStatusModel]
    deleted: str | None = None
    files_removed: int = 0


class ClearedDocuments(BaseModel):
    repository: str
    files_removed: int


class EmbeddingValidation(BaseModel):
    repository: str
    model: str
    chunks: int
    current: int
    missing: int
    other_model: int
    wrong_dimension: int
    stale: int
    ok: bool
