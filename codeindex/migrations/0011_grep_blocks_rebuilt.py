"""grep's PostgreSQL trigram index reads punctuation as letters, so ``end()`` is one word to ``pg_trgm``.

``pg_trgm`` takes its trigrams from words of letters and digits only. Under migration 0010 the
literal ``end()`` gave the index the one word ``end``, found in most blocks of a large corpus:
on the 128k-chunk ``bench/grep.py`` corpus such short literals with punctuation were the slowest
PostgreSQL greps (about 10× the median), the database re-checking most of the table.

The generated column ``words`` of ``codeindex_filetext_block`` now also reads each ASCII
punctuation character (``_`` apart, still ``q``) as a capital letter. Capitals are free, since
the text is lower-cased first, so the re-check (a case-sensitive ``LIKE`` on ``words``) tells
``(`` from ``a``; the index, which folds case, sees ``end()`` as ``endab``, whose trigrams
``nda`` and ``dab`` are rarer than ``end``. Letters shared with real text only add candidates,
which the re-check drops. The Kelvin sign and the long s become ``k`` and ``s``, the letters they
fold to, so a case-insensitive grep asks the index for its literal lower-cased as it is, where it
used to put a ``_`` wildcard for every ``k`` and ``s`` (``test`` was ``te_t``: fewer trigrams).
``codeindex.navigation.store.block_words`` turns a literal the same way.

Each re-check decompresses a block's ``words``; the column is now compressed with LZ4 where the
server has it (PostgreSQL's default, pglz, took about 1.5× as long for a re-check-bound literal).
The column and its index are rebuilt (the table is rewritten once); only where migration 0010
made the table, i.e. where ``pg_trgm`` is installed.
"""

from django.db import DatabaseError, migrations, transaction

TABLE = "codeindex_filetext_block"
INDEX = "codeindex_filetext_block_trgm"
#: As ``codeindex.navigation.store.PUNCTUATION`` and ``PUNCTUATION_LETTERS``, plus ``_`` → ``q`` and
#: the Kelvin sign and the long s → ``k`` and ``s`` (what they fold to when grep ignores case).
PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^`{|}~_\u212a\u017f"
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEqks"
OLD_WORDS = "lower(translate(text, '_', 'q') COLLATE \"C\")"


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


WORDS = f"translate(lower(text COLLATE \"C\"), {_sql_string(PUNCTUATION)}, {_sql_string(LETTERS)})"


def _has_table(schema_editor) -> bool:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [TABLE])
        return bool(cursor.fetchone()[0])


def _has_lz4(schema_editor) -> bool:
    """Whether this server can compress with LZ4 (PostgreSQL 14+ built with it)."""
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'")
        row = cursor.fetchone()
    return bool(row and row[0])


def _rebuild(schema_editor, words: str) -> None:
    if schema_editor.connection.vendor != "postgresql" or not _has_table(schema_editor):
        return
    try:
        with transaction.atomic(using=schema_editor.connection.alias):
            # params=None: the expression holds a literal '%', which must not be read as a placeholder
            schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}", params=None)
            schema_editor.execute(f"ALTER TABLE {TABLE} DROP COLUMN IF EXISTS words", params=None)
            compression = " COMPRESSION lz4" if _has_lz4(schema_editor) else ""
            schema_editor.execute(f"ALTER TABLE {TABLE} ADD COLUMN words text{compression} GENERATED ALWAYS AS ({words}) STORED",
                                  params=None)
            schema_editor.execute(f"CREATE INDEX {INDEX} ON {TABLE} USING gin (words gin_trgm_ops)", params=None)
    except DatabaseError:  # e.g. no privilege on the operator class: grep then filters by scan
        pass


def forwards(apps, schema_editor):
    _rebuild(schema_editor, WORDS)


def backwards(apps, schema_editor):
    _rebuild(schema_editor, OLD_WORDS)


class Migration(migrations.Migration):

    dependencies = [
        ("codeindex", "0010_grep_line_blocks"),
    ]

    operations = [
        migrations.RunPython(forwards, backwards),
    ]
