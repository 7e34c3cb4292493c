"""Result models of the git history tools (``history.py``): each is the tool's ``outputSchema``."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class CommitModel(BaseModel):
    commit: str = Field(description="Full commit SHA.")
    short: str = Field(description="Abbreviated SHA (12 hex digits).")
    author: str
    email: str
    date: datetime = Field(description="Author date, with its UTC offset.")
    subject: str = Field(description="First line of the message.")
    body: str = Field("", description="Rest of the message (cut at 2,000 characters).")


class CommitList(BaseModel):
    repository: str
    branch: str = Field(description="The branch indexed.")
    indexed_commit: str = Field(description="The commit the history is read from (the one search answers from).")
    page: int
    next_page: int | None = Field(None, description="Pass as page for older commits; null on the last page.")
    note: str = Field("", description="Set when older commits remain past the last page served: how to reach them.")
    commits: list[CommitModel]
    note: str | None = Field(None, description="Set when the indexed working tree had uncommitted changes, which no commit holds.")


class BlameLineModel(BaseModel):
    line: int = Field(description="1-based line number at the indexed commit.")
    commit: str = Field(description="Full SHA of the commit that last changed the line.")
    author: str
    date: datetime = Field(description="Author date of that commit (UTC).")
    summary: str = Field(description="That commit's subject.")
    text: str


class BlameModel(BaseModel):
    repository: str
    path: str
    commit: str = Field(description="The commit blamed at (the indexed commit).")
    start_line: int
    end_line: int
    lines: list[BlameLineModel]
    note: str | None = Field(None, description="Set when the indexed working tree had uncommitted changes: these are the commit's lines, "
                                               "which may differ from the indexed text read_file shows.")


class DiffFileModel(BaseModel):
    path: str
    additions: int | None = Field(description="Lines added; null for a binary file.")
    deletions: int | None = Field(description="Lines deleted; null for a binary file.")


class DiffModel(BaseModel):
    repository: str
    base: str = Field(description="Full SHA of the old side; '' for a root commit.")
    head: str = Field(description="Full SHA of the new side.")
    commit: CommitModel | None = Field(None, description="The commit shown (diff only).")
    files: list[DiffFileModel]
    patch: str = Field(description="Unified diff; each file's lines decoded as read_file decodes that file (UTF-8, "
                                   "Windows-1252 or Latin-1).")
    truncated: bool = Field(description="True when the patch was cut at max_bytes.")
    max_bytes: int


class CommitMatchModel(CommitModel):
    repository: str
    matched: str = Field(description="message, or diff (the commit added or removed the text).")


class CommitSearchResults(BaseModel):
    query: str
    in_diff: bool
    matches: list[CommitMatchModel]
