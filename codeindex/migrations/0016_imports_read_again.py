"""Import edges read again from the stored file texts, with the extraction of this release.

``codeindex.imports.extract_imports`` changed: Python, JavaScript and TypeScript imports are read
from the syntax tree (the old Python pattern ran into the next line and lost about half of all
``from … import`` lines), and the other languages' patterns read one line each. A file is only
re-chunked when its sha256 changes, so without this the ``ImportEdge`` rows of files indexed
before keep the old, incomplete list: ``analyze_context``'s imports and "depended on by",
``generate_code``'s most imported modules and symbol resolution read them.

For each repository, its files are read 500 at a time in primary-key order (path, language and
the stored text of ``FileText``: zlib-compressed ``data`` on SQLite, ``text`` on PostgreSQL); a
batch's edges are replaced, and resolved against the repository's paths with
``imports.resolve`` (an import of the file itself resolves to nothing, as in
``indexing._resolve_imports``), in a transaction of its own. Memory holds one repository's paths
and one batch's texts. The migration is not atomic, so a large index is not locked as a whole;
it may be run again. A file without a stored text keeps its edges (a re-index rewrites them).
"""

import zlib

from django.db import migrations, transaction

BATCH_FILES = 500


def _text(data, text: str) -> str:
    return zlib.decompress(bytes(data)).decode("utf-8") if data is not None else text


def forwards(apps, schema_editor):
    from codeindex.imports import PathIndex, extract_imports, resolve

    Repository = apps.get_model("codeindex", "Repository")
    SourceFile = apps.get_model("codeindex", "SourceFile")
    FileText = apps.get_model("codeindex", "FileText")
    ImportEdge = apps.get_model("codeindex", "ImportEdge")
    alias = schema_editor.connection.alias
    for repository_id in Repository.objects.using(alias).order_by("pk").values_list("pk", flat=True):
        files = dict(SourceFile.objects.using(alias).filter(repository_id=repository_id).values_list("path", "pk"))
        if not files:
            continue
        index = PathIndex(files)
        last = 0
        while True:
            batch = list(SourceFile.objects.using(alias).filter(repository_id=repository_id, pk__gt=last)
                         .order_by("pk").values_list("pk", "path", "language")[:BATCH_FILES])
            if not batch:
                break
            last = batch[-1][0]
            texts = {pk: _text(data, text) for pk, data, text in
                     FileText.objects.using(alias).filter(file_id__in=[pk for pk, _, _ in batch]).values_list("file_id", "data", "text")}
            edges = []
            for pk, path, language in batch:
                if pk not in texts:
                    continue
                for module in extract_imports(texts[pk], language):
                    target = resolve(path, module, language, index)
                    edges.append(ImportEdge(repository_id=repository_id, source_id=pk, module=module,
                                            target_id=files[target] if target and target != path else None))
            with transaction.atomic(using=alias):
                ImportEdge.objects.using(alias).filter(source_id__in=list(texts)).delete()
                ImportEdge.objects.using(alias).bulk_create(edges, batch_size=500)


class Migration(migrations.Migration):

    atomic = False

    dependencies = [("codeindex", "0015_symbol_name_kind_index")]

    operations = [
        migrations.RunPython(forwards, migrations.RunPython.noop, elidable=False),
    ]
