"""The codeindex public API: index, search, explain, analyse, feedback, jobs, status.

Other apps import only this package, ``access``, ``exceptions`` and ``choices`` (named
constants). Every function is synchronous,
uses the default database connection, and takes ``access`` (a ``RepositoryAccess``): nothing
from a repository the caller may not see is returned, counted or named, and such a repository
is reported exactly like an unknown one.

    report = index_repository("/srv/src/django", "django")                    # command line
    job = start_index_job("https://git.example.com/shop.git", "shop", access=SYSTEM)
    hits = search("parse an HTTP date header", access=access, repository="django", max_results=5)
    page = search_page(SearchRequest("getUserName", language="java", page=2), access=access)
    hits[0].path, hits[0].symbol, hits[0].signals["lexical"]["rank"]

One module per use case; import from the package, not from its modules:

- ``results``: the frozen dataclasses every service returns;
- ``scope``: which repositories and files a caller sees (shared by all the others);
- ``index_jobs``: index now or queue a job, list jobs;
- ``retrieval``: search, explain a ranking, preview a query;
- ``feedback``: record feedback and the ranking boost it earns;
- ``analysis``: a file's imports and symbols, context for writing code, a file's text;
- ``maintenance``: caches, clear or delete a repository, check or back-fill embeddings;
- ``monitoring``: repository status and health;
- ``freshness``: indexed commits, syncs, push webhooks, private-source credentials, git history.

Code navigation is re-exported here: by file (stored texts, directory listings, grep) from the
``codeindex.navigation`` package, by symbol (outline, definitions, references) from
``codeindex.symbols``.
"""

from ..access import PUBLIC, SYSTEM, RepositoryAccess
from ..indexing import IndexReport
from .analysis import analyze_context, generation_context, read_file
from .feedback import record_feedback
from .freshness import (
    COMMITS_PAGE_SIZE,
    IN_DIFF_SCAN,
    MAX_COMMITS_PAGE,
    MAX_BLAME_LINES,
    MAX_DIFF_BYTES,
    MAX_TEXT_LENGTH,
    SHORT_SHA,
    WEBHOOK_REFUSED,
    AuthenticDelivery,
    BlameResult,
    CommitInfo,
    CommitMatches,
    CommitPage,
    DiffResult,
    accept_webhook,
    authenticate_webhook,
    blame,
    compare,
    configure_sync,
    diff,
    freshness_of,
    IndexedCommit,
    indexed_commits,
    list_commits,
    new_webhook_secret,
    receive_webhook,
    recent_deliveries,
    search_commits,
    set_repository_credential,
    short_sha,
    sync_now,
)
from .index_jobs import ProgressCallback, already_indexed, index_repository, job, jobs, name_for_source, start_index_job
from .maintenance import backfill_embeddings, cache_clear, cache_stats, clear_repository, delete_repository, validate_embeddings
from .monitoring import IndexMetrics, dense_engine, health, index_metrics, optional_extensions, status
from .results import (
    EmbeddingCheck,
    FeedbackReceipt,
    FileContext,
    FileText,
    GenerationContext,
    Health,
    JobInfo,
    QueryPreview,
    RepositoryStatus,
    SearchHit,
    SearchPage,
)
from ..navigation import (
    MAX_CONTEXT_LINES,
    MAX_DEPTH,
    MAX_GREP_PAGE,
    MAX_GREP_RESULTS,
    TREE_PAGE_SIZE,
    GrepPage,
    grep,
    list_files,
    list_repositories,
    read_lines,
    read_text,
)
from ..patterns import MAX_PATTERN_LENGTH
from ..symbols.queries import Definitions, FileOutline, References, file_outline, find_definition, find_references
from .retrieval import (
    MAX_PAGE,
    MAX_RESULTS_LIMIT,
    SNIPPET_MAX_CHARS,
    SNIPPET_MAX_LINES,
    SearchRequest,
    explain,
    preview_query,
    search,
    search_page,
)

__all__ = [
    "dense_engine", "optional_extensions",
    "RepositoryAccess", "PUBLIC", "SYSTEM",
    "IndexReport", "SearchRequest", "SearchHit", "SearchPage", "RepositoryStatus", "JobInfo", "QueryPreview", "FileContext",
    "GenerationContext", "FeedbackReceipt", "Health", "EmbeddingCheck", "FileText", "ProgressCallback",
    "index_repository", "already_indexed", "name_for_source", "start_index_job", "jobs", "job", "search", "search_page", "explain", "preview_query",
    "status", "health", "index_metrics", "IndexMetrics", "analyze_context", "generation_context", "record_feedback", "cache_stats", "cache_clear",
    "clear_repository", "delete_repository", "validate_embeddings", "backfill_embeddings", "read_file",
    "MAX_RESULTS_LIMIT", "MAX_PAGE", "SNIPPET_MAX_LINES", "SNIPPET_MAX_CHARS",
    "Definitions", "FileOutline", "References", "file_outline", "find_definition", "find_references",
    "grep", "list_files", "list_repositories", "read_lines", "read_text", "GrepPage",
    "MAX_DEPTH", "TREE_PAGE_SIZE", "MAX_GREP_RESULTS", "MAX_GREP_PAGE", "MAX_CONTEXT_LINES", "MAX_PATTERN_LENGTH",
    "freshness_of", "IndexedCommit", "indexed_commits", "short_sha", "SHORT_SHA", "configure_sync", "sync_now", "set_repository_credential", "new_webhook_secret",
    "receive_webhook", "authenticate_webhook", "accept_webhook", "AuthenticDelivery", "WEBHOOK_REFUSED", "recent_deliveries", "list_commits", "blame", "diff", "compare", "search_commits",
    "CommitInfo", "CommitPage", "BlameResult", "DiffResult", "CommitMatches",
    "COMMITS_PAGE_SIZE", "MAX_COMMITS_PAGE", "IN_DIFF_SCAN", "MAX_BLAME_LINES", "MAX_DIFF_BYTES", "MAX_TEXT_LENGTH",
]
