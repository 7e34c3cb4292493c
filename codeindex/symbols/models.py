"""The symbol table and the occurrence table (migration ``0006_symbols``).

Both hang off ``SourceFile`` and are written in the transaction that writes the file's chunks
(``indexing._replace_file``), so a reader sees a file's old symbols or its new ones, never a
mix; deleting a file deletes its rows. Nothing here depends on another file: which definition
an occurrence refers to across files is decided when a question is asked (``resolve.py``), from
the stored import rows and the ``ImportEdge`` table, so it stays right when other files change.
"""

from __future__ import annotations

from django.db import models

__all__ = ["Symbol", "Occurrence"]


class Symbol(models.Model):
    """A definition: ``name`` (``parse``), ``qualified_name`` (``Parser.parse``), ``kind``
    (function, method, class, interface, module, constant, type, macro, field), ``signature``
    (its first line), ``start_line``..``end_line`` (1-based, inclusive), the name's ``line`` and
    ``column`` (1-based), and ``scope``, the qualified name of the definition it is nested in."""

    repository = models.ForeignKey("codeindex.Repository", on_delete=models.CASCADE, related_name="+")
    file = models.ForeignKey("codeindex.SourceFile", on_delete=models.CASCADE, related_name="symbols")
    name = models.CharField(max_length=200)
    qualified_name = models.TextField()
    kind = models.CharField(max_length=32)
    signature = models.TextField(blank=True, default="")
    start_line = models.PositiveIntegerField()
    end_line = models.PositiveIntegerField()
    line = models.PositiveIntegerField()
    column = models.PositiveIntegerField()
    scope = models.TextField(blank=True, default="")

    class Meta:
        app_label = "codeindex"
        indexes = [
            # kind last: search's look-up of a name's constants (``queries.definition_sites``) reads
            # only the matching entries, not every method of a common name; (repository, name) look-ups use its prefix
            models.Index(fields=["repository", "name", "kind"], name="codeindex_symbol_name_kind"),
            models.Index(fields=["file", "start_line"], name="codeindex_symbol_file_line"),
        ]


class Occurrence(models.Model):
    """A name a file uses at ``line``:``column`` (1-based). ``kind``: call, reference, import,
    class, type …; ``qualifier`` the object in ``obj.name`` (``""`` bare, ``"?"`` an expression);
    ``enclosing`` the qualified name of the definition around it; ``text`` its line, stripped.
    Import occurrences also keep ``module`` (as written) and ``alias`` (the local name)."""

    repository = models.ForeignKey("codeindex.Repository", on_delete=models.CASCADE, related_name="+")
    file = models.ForeignKey("codeindex.SourceFile", on_delete=models.CASCADE, related_name="occurrences")
    name = models.CharField(max_length=200)
    line = models.PositiveIntegerField()
    column = models.PositiveIntegerField()
    kind = models.CharField(max_length=32)
    qualifier = models.CharField(max_length=200, blank=True, default="")
    enclosing = models.TextField(blank=True, default="")
    text = models.TextField(blank=True, default="")
    module = models.TextField(blank=True, default="")
    alias = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        app_label = "codeindex"
        indexes = [
            models.Index(fields=["repository", "name"], name="codeindex_occurrence_repo_name"),
            models.Index(fields=["file", "line"], name="codeindex_occurrence_file_line"),
        ]
