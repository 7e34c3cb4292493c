"""Admin tools: caches, and removing indexed data."""

from __future__ import annotations

from typing import Annotated, Literal

from mcp_types import CallToolResult
from pydantic import Field

from codeindex import services
from oauth_app.tiers import SCOPE_INDEX_ADMIN

from ..errors import ToolError, run_service
from ..registry import tool
from ._support import access_of, repository_model, result
from .schemas import CacheCleared, CacheStats, ClearedDocuments, RepositoryList

__all__ = ["cache_stats", "cache_clear", "clear_repository_documents", "manage_index"]


def _stats_text(s: dict) -> str:
    v, q = s["vectors"], s["query_vectors"]
    return (f"vectors in memory: {v['vectors']} in {v['repositories']} repositories ({v['bytes'] / 1e6:.1f} MB, {v['loads']} loads); "
            f"query vectors: {q['entries']}/{q['capacity']} (hits {q['hits']}, misses {q['misses']}); "
            f"embeddings: {s['embedding_provider']} {s['embedding_model']}")


@tool(kind="admin", scope=SCOPE_INDEX_ADMIN, title="Cache statistics")
async def cache_stats() -> Annotated[CallToolResult, CacheStats]:
    """Show this server process's in-memory caches: dense vectors per repository and cached query embeddings."""
    stats = await run_service(services.cache_stats, access=access_of())
    return result(CacheStats(**stats), _stats_text(stats))


@tool(kind="admin", scope=SCOPE_INDEX_ADMIN, title="Clear caches", read_only=False, idempotent=True)
async def cache_clear() -> Annotated[CallToolResult, CacheCleared]:
    """Drop this process's cached vectors (of the repositories you can see) and query embeddings;
    they reload from the database on the next search. Indexed data is not touched."""
    before = await run_service(services.cache_clear, access=access_of())
    return result(CacheCleared(cleared=CacheStats(**before)), "Cleared: " + _stats_text(before))


@tool(kind="admin", scope=SCOPE_INDEX_ADMIN, title="Clear a repository's documents", read_only=False, idempotent=True, destructive=True)
async def clear_repository_documents(
    name: Annotated[str, Field(description="Repository whose files, chunks and vectors to delete.")],
) -> Annotated[CallToolResult, ClearedDocuments]:
    """Delete every indexed file, chunk and vector of a repository, keeping the repository, its
    access settings and job history (index_repository fills it again)."""
    removed = await run_service(services.clear_repository, name, access=access_of())
    return result(ClearedDocuments(repository=name, files_removed=removed), f"Removed {removed} file(s) from {name}.")


@tool(kind="admin", scope=SCOPE_INDEX_ADMIN, title="Manage the index", read_only=False, idempotent=True, destructive=True)
async def manage_index(
    action: Annotated[Literal["list", "delete"], Field(description="list: the repositories you can see; delete: remove one entirely.")],
    name: Annotated[str | None, Field(description="The repository to delete (action=delete).")] = None,
) -> Annotated[CallToolResult, RepositoryList]:
    """List repositories, or delete one with everything indexed for it (files, chunks, vectors,
    jobs, feedback)."""
    access = access_of()
    removed = 0
    if action == "delete":
        if not name:
            raise ToolError("action=delete needs the repository name")
        removed = await run_service(services.delete_repository, name, access=access)
    rows = await run_service(services.status, access=access)
    model = RepositoryList(action=action, repositories=[repository_model(r) for r in rows],
                           deleted=name if action == "delete" else None, files_removed=removed)
    listing = "\n".join(f"{r.name}: {r.file_count} files, {r.chunk_count} chunks, {r.visibility}" for r in rows) or "No repository."
    head = f"Deleted {name} ({removed} files).\n" if action == "delete" else ""
    return result(model, head + listing)
