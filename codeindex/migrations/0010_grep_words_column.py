"""grep's PostgreSQL trigram index: over a stored, lower-cased copy of each text in which ``_``
reads as a letter, so an identifier is one word to ``pg_trgm``.

``pg_trgm`` takes its trigrams from words of letters and digits. The old index on
``codeindex_filetext.text`` (migration 0005) saw ``_default_value`` as the words ``default`` and
``value``: a search for it matched every file holding both (2,156 of 8,715 files on the
128k-chunk ``bench/grep.py`` corpus), and PostgreSQL then re-read each whole file to check it
(0.2 s with ``LIKE``, 0.8 s with ``ILIKE``). The column ``words`` holds
``lower(translate(text, '_', 'q'))`` (ASCII case only: ``COLLATE "C"``), where the identifier is
the one word ``qdefaultqvalue``: only the files holding it share its trigrams, and the re-check is
a plain ``LIKE`` even when grep ignores case. ``q`` is arbitrary; a file that really holds
``qdefaultqvalue`` is one more candidate, dropped when its lines are checked
(``codeindex.navigation.grep``). The copy costs about as much space as the text (LZ4 where the
server has it).

Only where ``pg_trgm`` is installed; nothing changes on SQLite (its FTS5 table) or on a
PostgreSQL without ``pg_trgm`` (grep filters by scan there).
"""

from django.db import migrations, transaction

OLD_INDEX = "codeindex_filetext_text_trgm"
NEW_INDEX = "codeindex_filetext_words_trgm"
WORDS = "lower(translate(text, '_', 'q') COLLATE \"C\")"


def _has_pg_trgm(schema_editor) -> bool:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
        return cursor.fetchone() is not None


def _try(schema_editor, *statements: str) -> bool:
    try:
        with transaction.atomic(using=schema_editor.connection.alias):
            for sql in statements:
                schema_editor.execute(sql)
    except Exception:  # an older server or a missing privilege: the next option applies
        return False
    return True


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql" or not _has_pg_trgm(schema_editor):
        return
    index = (f"CREATE INDEX IF NOT EXISTS {NEW_INDEX} ON codeindex_filetext USING gin (words gin_trgm_ops)",
             f"DROP INDEX IF EXISTS {OLD_INDEX}")
    _try(schema_editor, f"ALTER TABLE codeindex_filetext ADD COLUMN words text COMPRESSION lz4 GENERATED ALWAYS AS ({WORDS}) STORED",
         *index) or _try(schema_editor, f"ALTER TABLE codeindex_filetext ADD COLUMN words text GENERATED ALWAYS AS ({WORDS}) STORED",
                         *index)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql" or not _has_pg_trgm(schema_editor):
        return
    schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {OLD_INDEX} ON codeindex_filetext USING gin (text gin_trgm_ops)")
    schema_editor.execute(f"DROP INDEX IF EXISTS {NEW_INDEX}")
    schema_editor.execute("ALTER TABLE codeindex_filetext DROP COLUMN IF EXISTS words")


class Migration(migrations.Migration):

    dependencies = [
        ("codeindex", "0009_freshness_sources"),
    ]

    operations = [
        migrations.RunPython(forwards, backwards),
    ]
