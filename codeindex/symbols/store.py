"""Writing one file's symbols and occurrences (inside the indexer's per-file transaction)."""

from __future__ import annotations

from .extract import FileSymbols
from .models import Occurrence, Symbol

__all__ = ["replace_file_symbols"]


def replace_file_symbols(repository, file, found: FileSymbols, *, created: bool) -> None:
    """Replace ``file``'s rows with ``found``. Call it inside the transaction that writes the
    file's chunks, so both change together."""
    if not created:
        Symbol.objects.filter(file=file).delete()
        Occurrence.objects.filter(file=file).delete()
    Symbol.objects.bulk_create(
        [Symbol(repository=repository, file=file, name=d.name, qualified_name=d.qualified_name, kind=d.kind, signature=d.signature,
                start_line=d.start_line, end_line=d.end_line, line=d.line, column=d.column, scope=d.scope)
         for d in found.definitions],
        batch_size=500,
    )
    Occurrence.objects.bulk_create(
        [Occurrence(repository=repository, file=file, name=o.name, line=o.line, column=o.column, kind=o.kind, qualifier=o.qualifier,
                    enclosing=o.enclosing, text=o.text, module=o.module, alias=o.alias)
         for o in found.occurrences],
        batch_size=500,
    )
