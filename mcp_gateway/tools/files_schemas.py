"""Result models of the code navigation tools (``files.py``): each is the tool's ``outputSchema``."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class RepositoryEntry(BaseModel):
    name: str
    visibility: str = Field(description="everyone or groups.")
    source: str = Field(description="The git URL the tree is cloned from, or 'local directory'.")
    indexed_commit: str | None = Field(None, description="The git commit indexed, when recorded; null otherwise.")
    languages: dict[str, int] = Field(description="Indexed files per language, most first.")
    files: int
    chunks: int
    last_indexed: datetime | None


class RepositoryList(BaseModel):
    repositories: list[RepositoryEntry]


class TreeEntryModel(BaseModel):
    path: str = Field(description="Path from the repository root (POSIX separators).")
    kind: str = Field(description="file or dir.")
    language: str | None = None
    lines: int | None = Field(None, description="Lines of an indexed file.")
    bytes: int | None = Field(None, description="Size of a file, or of the indexed files below a directory.")
    files: int | None = Field(None, description="Indexed files below a directory (at any depth).")
    skipped: str | None = Field(None, description="Why a file is not indexed (binary, too_large, generated, ...).")


class FileTree(BaseModel):
    repository: str
    path: str = Field(description="The directory listed ('' for the root).")
    depth: int
    total_entries: int
    page: int
    next_page: int | None = Field(None, description="Pass as page for the next entries; null on the last page.")
    entries: list[TreeEntryModel]


class FileLinesModel(BaseModel):
    repository: str
    path: str
    language: str
    start_line: int = Field(description="First line returned, 1-based.")
    end_line: int = Field(description="Last line returned, 1-based, inclusive (start_line - 1 when none).")
    total_lines: int
    next_start_line: int | None = Field(None, description="Pass as start_line to continue; null when the range was returned whole.")
    start_column: int = Field(1, description="First character of start_line returned, 1-based.")
    next_start_column: int | None = Field(None, description="When a line was cut (it ends in '…'): the first character of it not "
                                                            "returned; pass as start_column with next_start_line. Null otherwise.")
    text: str = Field(description="The lines start_line..end_line joined with newlines (unnumbered); a line cut ends in '…', "
                                  "one read from start_column > 1 starts with '…'.")


class GrepMatchModel(BaseModel):
    repository: str
    path: str
    line: int = Field(description="1-based line number.")
    column: int = Field(description="1-based column (characters) of the first match on the line.")
    text: str = Field(description="The line (cut at 300 characters, ending in '…').")
    before: list[str] = Field(default_factory=list, description="context_lines lines before, in order.")
    after: list[str] = Field(default_factory=list, description="context_lines lines after, in order.")


class GrepResults(BaseModel):
    pattern: str
    page: int
    next_page: int | None = Field(None, description="Pass as page for more matches; null on the last page.")
    strategy: str = Field(description="trigram (candidates from the index), database scan (no trigram index) or scan (files read in path order).")
    files_searched: int
    complete: bool = Field(description="False when the pages cannot hold every match: a bounded scan stopped early, or "
                                        "matches remain past the last page served (see note).")
    note: str = ""
    matches: list[GrepMatchModel]
