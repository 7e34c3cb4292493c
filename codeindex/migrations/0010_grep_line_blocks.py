"""grep's PostgreSQL trigram index: over blocks of 64 lines of each text, lower-cased, with ``_``
read as a letter, so an identifier is one word to ``pg_trgm`` and a candidate is a block.

The old index on ``codeindex_filetext.text`` (migration 0005) had two costs on the 128k-chunk
``bench/grep.py`` corpus:

* ``pg_trgm`` takes its trigrams from words of letters and digits, so it saw ``_default_value``
  as the words ``default`` and ``value``, and a search for it matched every file holding both
  (2,156 of 8,715 files);
* each candidate is re-checked by the database, so a candidate file meant re-reading the whole
  file (0.2 s for those with ``LIKE``, 0.8 s with ``ILIKE``).

The table ``codeindex_filetext_block`` holds, per file, its lines in blocks of 64 (a match never
spans lines, so every literal of a matching line is in one block), with the generated column
``words`` = ``lower(translate(text, '_', 'q'))`` in ASCII case only, under the GIN index.
``_default_value`` is then the one word ``qdefaultqvalue``, a candidate is a block rather than a
file, the re-check reads a block's ``words`` with a plain ``LIKE`` even when grep ignores case
(computing them at each re-check cost 0.8 s for a common word), and grep cuts only the candidate
blocks into lines, not whole files. ``q`` is arbitrary: a block that really holds
``qdefaultqvalue`` is one more candidate, dropped when its lines are checked. The blocks take
about twice as much space as the text. ``codeindex.navigation.store`` writes and deletes them
with the text, in the same transaction (no foreign key: Django, which does not know this table,
empties ``codeindex_filetext`` with ``TRUNCATE`` in tests).

Only where ``pg_trgm`` is installed: nothing changes on SQLite (its FTS5 table) or on a
PostgreSQL without ``pg_trgm`` (grep filters by scan there). Existing texts are cut into blocks
here, in SQL.
"""

from django.db import DatabaseError, migrations, transaction

OLD_INDEX = "codeindex_filetext_text_trgm"
TABLE = "codeindex_filetext_block"
INDEX = "codeindex_filetext_block_trgm"
LINES = 64
#: The indexed column ``words``, as computed from ``text`` (``codeindex.navigation.store.block_words``).
WORDS = "lower(translate(text, '_', 'q') COLLATE \"C\")"


def _has_pg_trgm(schema_editor) -> bool:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
        return cursor.fetchone() is not None


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql" or not _has_pg_trgm(schema_editor):
        return
    try:
        with transaction.atomic(using=schema_editor.connection.alias):
            schema_editor.execute(
                f"CREATE TABLE IF NOT EXISTS {TABLE} ("
                " file_id bigint NOT NULL,"
                " block integer NOT NULL, text text NOT NULL,"
                f" words text GENERATED ALWAYS AS ({WORDS}) STORED, PRIMARY KEY (file_id, block))")
            schema_editor.execute(
                f"INSERT INTO {TABLE} (file_id, block, text) "
                f"SELECT t.file_id, (l.n - 1) / {LINES}, string_agg(l.line, E'\\n' ORDER BY l.n) "
                "FROM codeindex_filetext t, regexp_split_to_table(t.text, E'\\n') WITH ORDINALITY AS l(line, n) "
                f"GROUP BY t.file_id, (l.n - 1) / {LINES} ON CONFLICT DO NOTHING")
            schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {INDEX} ON {TABLE} USING gin (words gin_trgm_ops)")
            schema_editor.execute(f"DROP INDEX IF EXISTS {OLD_INDEX}")
    except DatabaseError:  # e.g. no privilege on the operator class: the old index stays, grep filters by scan
        pass


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql" or not _has_pg_trgm(schema_editor):
        return
    schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {OLD_INDEX} ON codeindex_filetext USING gin (text gin_trgm_ops)")
    schema_editor.execute(f"DROP TABLE IF EXISTS {TABLE}")


class Migration(migrations.Migration):

    dependencies = [
        ("codeindex", "0009_freshness_sources"),
    ]

    operations = [
        migrations.RunPython(forwards, backwards),
    ]
