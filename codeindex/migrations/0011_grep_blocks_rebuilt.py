"""grep's PostgreSQL trigram index, rebuilt: punctuation read as letters, blocks of 16 lines.

Two changes to the table of migration 0010 (``codeindex_filetext_block``), each found on the
128k-chunk ``bench/grep.py`` corpus, where the slowest PostgreSQL greps were short literals with
punctuation (``end()``, ``size()``: about 10× the median grep) and the database re-checked most
of the table for them:

* ``pg_trgm`` takes its trigrams from words of letters and digits only, so the literal ``end()``
  gave the index the one word ``end``, found in most blocks. The generated column ``words`` now
  also reads each ASCII punctuation character (``_`` apart, still ``q``) as a capital letter.
  Capitals are free, since the text is lower-cased first, so the re-check (a case-sensitive
  ``LIKE`` on ``words``) tells ``(`` from ``a``; the index, which folds case, sees ``end()`` as
  ``endhi``, whose trigrams ``ndh`` and ``dhi`` come almost only from ``nd(`` and ``d()``. Letters
  shared with real text only add candidates, which the re-check drops. The Kelvin sign and the
  long s become ``k`` and ``s``, the letters they fold to, so a case-insensitive grep asks the
  index for its literal lower-cased as it is, where it used to put a ``_`` wildcard for every
  ``k`` and ``s`` (``test`` was ``te_t``: fewer trigrams).
  ``codeindex.navigation.store.block_words`` turns a literal the same way.
* A block is 16 lines instead of 64: a candidate is then a block holding the literal's trigrams
  within 16 lines, not 64, and its re-check reads a quarter of the text (rows this small are not
  compressed either). The candidate query for ``end()`` went from 26 ms to 4 ms, for
  ``return None`` from 111 ms to 36 ms, while a rare identifier's went from 1.5 to 2.4 ms; the
  table with its index grew from 163 MB (migration 0010) to 339 MB for 108 MB of source.

The table is cut again from ``codeindex_filetext`` and its index rebuilt, only where migration
0010 made it (where ``pg_trgm`` is installed). ``words`` is compressed with LZ4 where the server
has it (cheaper to re-check than pglz, for the few blocks still long enough to be compressed).
"""

from django.db import DatabaseError, migrations, transaction

TABLE = "codeindex_filetext_block"
INDEX = "codeindex_filetext_block_trgm"
LINES, OLD_LINES = 16, 64
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


def _rebuild(schema_editor, words: str, lines: int) -> None:
    if schema_editor.connection.vendor != "postgresql" or not _has_table(schema_editor):
        return
    compression = " COMPRESSION lz4" if _has_lz4(schema_editor) else ""
    try:
        with transaction.atomic(using=schema_editor.connection.alias):
            # params=None: the expression holds a literal '%', which must not be read as a placeholder
            schema_editor.execute(f"DROP TABLE {TABLE}", params=None)
            schema_editor.execute(
                f"CREATE TABLE {TABLE} (file_id bigint NOT NULL, block integer NOT NULL, text text NOT NULL,"
                f" words text{compression} GENERATED ALWAYS AS ({words}) STORED, PRIMARY KEY (file_id, block))", params=None)
            schema_editor.execute(
                f"INSERT INTO {TABLE} (file_id, block, text) "
                f"SELECT t.file_id, (l.n - 1) / {lines}, string_agg(l.line, E'\\n' ORDER BY l.n) "
                "FROM codeindex_filetext t, regexp_split_to_table(t.text, E'\\n') WITH ORDINALITY AS l(line, n) "
                f"GROUP BY t.file_id, (l.n - 1) / {lines}", params=None)
            schema_editor.execute(f"CREATE INDEX {INDEX} ON {TABLE} USING gin (words gin_trgm_ops)", params=None)
    except DatabaseError:  # e.g. no privilege on the operator class: the table stays as it was
        pass


def forwards(apps, schema_editor):
    _rebuild(schema_editor, WORDS, LINES)


def backwards(apps, schema_editor):
    _rebuild(schema_editor, OLD_WORDS, OLD_LINES)


class Migration(migrations.Migration):

    dependencies = [
        ("codeindex", "0010_grep_line_blocks"),
    ]

    operations = [
        migrations.RunPython(forwards, backwards),
    ]
