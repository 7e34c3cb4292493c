"""The lexical index in Unicode normalization form C (``identifiers.search_text_for``).

Chunks indexed before this migration from text not in NFC (a path, symbol or content written with
combining marks, as macOS writes names: ``e`` + U+0301 for ``é``) hold words cut at each mark
(``cre me`` for ``crème``), which no query meets. Their three word streams (``search_context``,
``search_name``, ``search_text``) are made again with ``lexical.document_fields``; the full-text
index follows them (SQLite's FTS5 triggers, PostgreSQL's generated columns). Chunks are read in
batches of 2,000 (path, symbol, content: every chunk's text is read once); only those with a field
not in NFC are written, each batch in a transaction of its own (the migration is not atomic, so a
large index is not locked as a whole; it may be run again).
"""

import unicodedata

from django.db import migrations, transaction

BATCH_CHUNKS = 2000


def _in_nfc(text: str) -> bool:
    return text.isascii() or unicodedata.is_normalized("NFC", text)


def forwards(apps, schema_editor):
    from codeindex.lexical import document_fields

    Chunk = apps.get_model("codeindex", "Chunk")
    alias = schema_editor.connection.alias
    last = 0
    while True:
        rows = list(Chunk.objects.using(alias).filter(pk__gt=last).order_by("pk")
                    .values_list("pk", "path", "symbol", "content")[:BATCH_CHUNKS])
        if not rows:
            break
        last = rows[-1][0]
        stale = [(pk, document_fields(path, symbol, content)) for pk, path, symbol, content in rows
                 if not (_in_nfc(path) and _in_nfc(symbol) and _in_nfc(content))]
        if stale:
            with transaction.atomic(using=alias):
                for pk, fields in stale:
                    Chunk.objects.using(alias).filter(pk=pk).update(
                        search_context=fields.context, search_name=fields.name, search_text=fields.text)


class Migration(migrations.Migration):

    atomic = False

    dependencies = [("codeindex", "0016_imports_read_again")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop, elidable=False)]
