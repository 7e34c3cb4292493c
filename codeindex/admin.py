"""Django admin for the index: repositories editable by name, files and chunks read-only.

Files and chunks are written only by ``services.index_repository``; the admin shows them.
"""

from __future__ import annotations

from django.contrib import admin

from mcprag_site.read_only_admin import ReadOnlyAdmin

from .models import Chunk, ChunkVector, FileText, ImportEdge, IndexJob, Repository, SearchFeedback, SkippedFile, SourceFile, WebhookDelivery
from .symbols.models import Occurrence, Symbol

__all__ = ["RepositoryAdmin", "SourceFileAdmin", "ChunkAdmin", "ChunkVectorAdmin", "ImportEdgeAdmin", "IndexJobAdmin", "SearchFeedbackAdmin",
           "FileTextAdmin", "SkippedFileAdmin", "SymbolAdmin", "OccurrenceAdmin", "WebhookDeliveryAdmin"]


@admin.register(Repository)
class RepositoryAdmin(admin.ModelAdmin):
    list_display = ["name", "visibility", "root_path", "file_count", "chunk_count", "skipped_count", "last_indexed_at"]
    list_filter = ["visibility"]
    search_fields = ["name", "root_path", "source_url"]
    filter_horizontal = ["groups"]
    readonly_fields = ["created_at", "last_indexed_at", "file_count", "chunk_count", "skipped_counts", "generation", "indexed_commit",
                       "fetched_at", "sync_attempted_at", "sync_error", "sync_error_at", "sync_note"]
    exclude = ["webhook_secret_sealed", "credential_sealed"]  # set on the console's freshness page, never shown


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "repository", "provider", "event", "ref", "outcome"]
    list_filter = ["provider", "repository"]
    list_select_related = ["repository"]


@admin.register(SourceFile)
class SourceFileAdmin(ReadOnlyAdmin):
    list_display = ["path", "repository", "language", "line_count", "size_bytes", "indexed_at"]
    list_filter = ["repository", "language"]
    list_select_related = ["repository"]
    search_fields = ["path"]
    show_full_result_count = False


@admin.register(Chunk)
class ChunkAdmin(ReadOnlyAdmin):
    list_display = ["path", "symbol", "kind", "start_line", "end_line", "repository", "language"]
    list_filter = ["repository", "language", "kind"]
    list_select_related = ["repository"]
    search_fields = ["path", "symbol"]
    exclude = ["search_context", "search_name", "search_text"]
    show_full_result_count = False


@admin.register(ChunkVector)
class ChunkVectorAdmin(ReadOnlyAdmin):
    list_display = ["chunk_id", "repository", "model", "dim"]
    list_filter = ["repository", "model"]
    exclude = ["vector"]
    show_full_result_count = False


@admin.register(ImportEdge)
class ImportEdgeAdmin(ReadOnlyAdmin):
    list_display = ["source", "module", "target", "repository"]
    list_filter = ["repository"]
    list_select_related = ["source", "target", "repository"]
    search_fields = ["module"]
    show_full_result_count = False


@admin.register(IndexJob)
class IndexJobAdmin(ReadOnlyAdmin):
    """Jobs are written only by ``codeindex.jobs``; the console follows them."""

    list_display = ["id", "repository", "kind", "status", "files_done", "files_total", "created_at", "finished_at"]
    list_filter = ["status", "kind", "repository"]
    list_select_related = ["repository"]


@admin.register(SearchFeedback)
class SearchFeedbackAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "repository", "path", "symbol", "kind", "value", "actor"]
    list_filter = ["kind", "repository"]
    list_select_related = ["repository"]
    search_fields = ["query", "path", "symbol"]


@admin.register(FileText)
class FileTextAdmin(ReadOnlyAdmin):
    """The stored texts ``read_file`` and ``grep`` serve; the text itself is not shown here."""

    list_display = ["file"]
    list_select_related = ["file"]
    exclude = ["data", "text"]
    show_full_result_count = False


@admin.register(SkippedFile)
class SkippedFileAdmin(ReadOnlyAdmin):
    list_display = ["path", "reason", "repository"]
    list_filter = ["repository", "reason"]
    search_fields = ["path"]


@admin.register(Symbol)
class SymbolAdmin(ReadOnlyAdmin):
    list_display = ["qualified_name", "kind", "file", "start_line", "end_line"]
    list_filter = ["repository", "kind"]
    list_select_related = ["file"]
    search_fields = ["name", "qualified_name"]
    show_full_result_count = False


@admin.register(Occurrence)
class OccurrenceAdmin(ReadOnlyAdmin):
    list_display = ["name", "kind", "file", "line", "column", "enclosing"]
    list_filter = ["repository", "kind"]
    list_select_related = ["file"]
    search_fields = ["name"]
    show_full_result_count = False
