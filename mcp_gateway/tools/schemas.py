"""Result models of the tools: each becomes the tool's ``outputSchema`` and ``structuredContent``."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class SearchHitModel(BaseModel):
    repository: str
    path: str = Field(description="File path relative to the repository root (POSIX separators).")
    start_line: int = Field(description="First line of the chunk, 1-based.")
    end_line: int = Field(description="Last line of the chunk, 1-based, inclusive.")
    symbol: str | None = Field(None, description="Qualified name of the function/class/method, if any.")
    kind: str = Field(description="function, method, class, module or window.")
    language: str
    snippet: str = Field(description="The first lines of the chunk.")
    score: float = Field(description="Relevance; higher is better. Comparable only within one result list.")


class SearchResults(BaseModel):
    query: str
    total: int = Field(description="Number of hits returned.")
    hits: list[SearchHitModel]


class RepositoryStatusModel(BaseModel):
    name: str
    file_count: int
    chunk_count: int
    last_indexed_at: datetime | None


class IndexStatus(BaseModel):
    repositories: list[RepositoryStatusModel]


class HealthStatus(BaseModel):
    status: str = Field(description='"ok" when every component answered, else "degraded".')
    database: str
    lexical_index: str
    repositories: int
    version: str
