"""Symbols read again from the stored file texts, so fields are definitions in indexes made before.

``codeindex.symbols.tags`` now captures fields (attributes assigned in a Python class body or in
its ``__init__`` as ``self.name = …``, class fields of JavaScript, TypeScript, Java and C#, C#
properties, struct fields of Go, Rust and C/C++) and, in JavaScript and TypeScript, top-level
``const``/``let``/``var``, constructors, enums and type aliases; ``module.exports = name`` is read
as what ``require`` of that file gives (``find_definition("Settings.timeout")``, the outline and
search's definition sites read them). A file is only re-chunked when its sha256
changes, so without this the ``Symbol`` and ``Occurrence`` rows of files indexed before stay as
they were (an ``__init__``'s ``self.name = …`` stays a plain occurrence).

For each repository, its files of those languages are read 500 at a time in primary-key order
(the stored text of ``FileText``: zlib-compressed ``data`` on SQLite, ``text`` on PostgreSQL);
a batch's symbols and occurrences are replaced with ``symbols.extract.extract_symbols``'s, in a
transaction of its own. Memory holds one batch's texts. The migration is not atomic, so a large
index is not locked as a whole; it may be run again. A file without a stored text keeps its rows
(a re-index rewrites them). It reads every such file once: about as long as the extraction part
of indexing them (mcprag's own 300 files take a few seconds).
"""

import zlib

from django.db import migrations, transaction

BATCH_FILES = 500
LANGUAGES = ("python", "javascript", "typescript", "java", "csharp", "go", "rust", "c", "cpp")


def _text(data, text: str) -> str:
    return zlib.decompress(bytes(data)).decode("utf-8") if data is not None else text


def forwards(apps, schema_editor):
    from codeindex.symbols.extract import extract_symbols

    SourceFile = apps.get_model("codeindex", "SourceFile")
    FileText = apps.get_model("codeindex", "FileText")
    Symbol = apps.get_model("codeindex", "Symbol")
    Occurrence = apps.get_model("codeindex", "Occurrence")
    alias = schema_editor.connection.alias
    last = 0
    while True:
        batch = list(SourceFile.objects.using(alias).filter(pk__gt=last, language__in=LANGUAGES)
                     .order_by("pk").values_list("pk", "repository_id", "language")[:BATCH_FILES])
        if not batch:
            break
        last = batch[-1][0]
        texts = {pk: _text(data, text) for pk, data, text in
                 FileText.objects.using(alias).filter(file_id__in=[pk for pk, _, _ in batch]).values_list("file_id", "data", "text")}
        symbols, occurrences = [], []
        for pk, repository_id, language in batch:
            if pk not in texts:
                continue
            found = extract_symbols(texts[pk], language)
            symbols += [Symbol(repository_id=repository_id, file_id=pk, name=d.name, qualified_name=d.qualified_name, kind=d.kind,
                               signature=d.signature, start_line=d.start_line, end_line=d.end_line, line=d.line, column=d.column,
                               scope=d.scope) for d in found.definitions]
            occurrences += [Occurrence(repository_id=repository_id, file_id=pk, name=o.name, line=o.line, column=o.column,
                                       kind=o.kind, qualifier=o.qualifier, enclosing=o.enclosing, text=o.text, module=o.module,
                                       alias=o.alias) for o in found.occurrences]
        with transaction.atomic(using=alias):
            Symbol.objects.using(alias).filter(file_id__in=list(texts)).delete()
            Occurrence.objects.using(alias).filter(file_id__in=list(texts)).delete()
            Symbol.objects.using(alias).bulk_create(symbols, batch_size=500)
            Occurrence.objects.using(alias).bulk_create(occurrences, batch_size=500)


class Migration(migrations.Migration):

    atomic = False

    dependencies = [("codeindex", "0017_lexical_nfc")]

    operations = [
        migrations.RunPython(forwards, migrations.RunPython.noop, elidable=False),
    ]
