"""What the index stores: repositories, their source files, and the chunks search returns.

A ``Chunk`` is the unit of retrieval: a function, method, class header, run of module-level code
or window of lines, with 1-based inclusive line numbers into its file. The lexical index over
chunks lives in vendor-specific objects created by migration ``0002_lexical_index`` (see
``lexical.py``); the ORM never writes them directly.
"""

from __future__ import annotations

from django.db import models

from .choices import ChunkKind, Language

__all__ = ["Repository", "SourceFile", "Chunk"]


class Repository(models.Model):
    """A directory tree indexed under a short unique name, e.g. ``django`` → ``/srv/src/django``.

    ``file_count`` and ``chunk_count`` are as of ``last_indexed_at`` (None until the first run
    completes); ``skipped_counts`` maps a ``SkipReason`` value to how many files the last run
    left out for it, e.g. ``{"binary": 12, "too_large": 1}``.
    """

    name = models.SlugField(max_length=100, unique=True)
    root_path = models.TextField(help_text="Absolute path of the directory that was indexed.")
    created_at = models.DateTimeField(auto_now_add=True)
    last_indexed_at = models.DateTimeField(null=True, blank=True)
    file_count = models.PositiveIntegerField(default=0)
    chunk_count = models.PositiveIntegerField(default=0)
    skipped_counts = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "repositories"

    def __str__(self) -> str:
        return self.name

    @property
    def skipped_count(self) -> int:
        """Files the last run left out, all reasons together."""
        return sum(self.skipped_counts.values())


class SourceFile(models.Model):
    """One indexed file: relative posix ``path`` (``pkg/mod.py``), sha256 of its bytes, sizes."""

    repository = models.ForeignKey(Repository, on_delete=models.CASCADE, related_name="files")
    path = models.TextField()
    language = models.CharField(max_length=16, choices=Language.choices)
    content_hash = models.CharField(max_length=64, help_text="sha256 of the file's bytes, hex.")
    size_bytes = models.PositiveIntegerField()
    line_count = models.PositiveIntegerField()
    indexed_at = models.DateTimeField(help_text="When this content was last chunked.")

    class Meta:
        ordering = ["repository", "path"]
        constraints = [models.UniqueConstraint(fields=["repository", "path"], name="codeindex_sourcefile_unique_path")]

    def __str__(self) -> str:
        return f"{self.repository_id}:{self.path}"


class Chunk(models.Model):
    """A retrievable piece of a file, lines ``start_line``..``end_line`` (1-based, inclusive).

    ``symbol`` is the qualified name (``Outer.method``) for syntax chunks and "" for windows and
    module-level code. ``path`` and ``language`` repeat the file's so search filters need no join.
    ``search_context`` (path and enclosing names), ``search_name`` (the symbol's own name) and
    ``search_text`` (content) are the word streams the lexical index reads, identifiers split
    (``lexical.document_fields``).
    """

    repository = models.ForeignKey(Repository, on_delete=models.CASCADE, related_name="chunks")
    file = models.ForeignKey(SourceFile, on_delete=models.CASCADE, related_name="chunks")
    path = models.TextField()
    language = models.CharField(max_length=16, choices=Language.choices)
    kind = models.CharField(max_length=16, choices=ChunkKind.choices)
    symbol = models.TextField(blank=True, default="")
    start_line = models.PositiveIntegerField()
    end_line = models.PositiveIntegerField()
    content = models.TextField()
    search_context = models.TextField(blank=True, default="")
    search_name = models.TextField(blank=True, default="")
    search_text = models.TextField(blank=True, default="")

    class Meta:
        indexes = [models.Index(fields=["repository", "language"], name="codeindex_chunk_repo_lang")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(start_line__gte=1, end_line__gte=models.F("start_line")),
                name="codeindex_chunk_line_range",
            )
        ]

    def __str__(self) -> str:
        where = f"{self.path}:{self.start_line}-{self.end_line}"
        return f"{where} {self.symbol}" if self.symbol else where
