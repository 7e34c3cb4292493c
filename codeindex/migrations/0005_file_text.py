
"""Stored file texts (``FileText``), skipped files with their reason (``SkippedFile``), and the
trigram index ``grep`` narrows its candidates with.

SQLite: ``codeindex_filetext_trigram``, a contentless FTS5 table (``tokenize='trigram'``,
SQLite 3.34+), rowid = the file's id. Contentless, so the text is not stored a second time;
``codeindex.navigation.store`` inserts and deletes its rows in the transaction that writes the
``FileText`` row (a contentless table needs the old text to delete, which only Python has
uncompressed). Where the tokenizer is missing the table is not created and grep scans instead.

PostgreSQL: a GIN ``gin_trgm_ops`` index on ``codeindex_filetext.text`` when the ``pg_trgm``
extension is installed or may be installed here (``CREATE EXTENSION IF NOT EXISTS`` is tried in
a savepoint; refusing it is not an error), and LZ4 compression of that column where the server
has it. Without ``pg_trgm`` grep filters with ``ILIKE`` over the stored texts (a full scan).
Nothing here fails when an extension or tokenizer is missing.
"""

import django.db.models.deletion
from django.db import migrations, models, transaction

SQLITE_TRIGRAM = "codeindex_filetext_trigram"
PG_TRIGRAM_INDEX = "codeindex_filetext_text_trgm"


def _try(schema_editor, sql: str) -> bool:
    """Run ``sql`` in a savepoint; False (and nothing changed) when the database refuses it."""
    try:
        with transaction.atomic(using=schema_editor.connection.alias):
            schema_editor.execute(sql)
    except Exception:  # a missing tokenizer, extension or privilege: the fallback applies
        return False
    return True


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        _try(schema_editor, f"CREATE VIRTUAL TABLE IF NOT EXISTS {SQLITE_TRIGRAM} USING fts5(text, content='', tokenize='trigram')")
    elif vendor == "postgresql":
        _try(schema_editor, "ALTER TABLE codeindex_filetext ALTER COLUMN text SET COMPRESSION lz4")
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")
            available = cursor.fetchone() is not None
        if available and _try(schema_editor, "CREATE EXTENSION IF NOT EXISTS pg_trgm"):
            _try(schema_editor, f"CREATE INDEX IF NOT EXISTS {PG_TRIGRAM_INDEX} ON codeindex_filetext USING gin (text gin_trgm_ops)")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(f"DROP TABLE IF EXISTS {SQLITE_TRIGRAM}")
    elif schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {PG_TRIGRAM_INDEX}")


class Migration(migrations.Migration):

    dependencies = [
        ('codeindex', '0004_job_worker'),
    ]

    operations = [
        migrations.CreateModel(
            name='FileText',
            fields=[
                ('file', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='stored', serialize=False, to='codeindex.sourcefile')),
                ('data', models.BinaryField(blank=True, null=True)),
                ('text', models.TextField(blank=True, default='')),
            ],
        ),
        migrations.CreateModel(
            name='SkippedFile',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('path', models.TextField()),
                ('reason', models.CharField(choices=[('binary', 'Binary (NUL byte or not UTF-8)'), ('too_large', 'Larger than MCPRAG_MAX_FILE_BYTES'), ('outside_root', 'Symbolic link pointing outside the repository'), ('not_regular', 'Not a regular file (socket, FIFO, device)'), ('unreadable', 'Could not be read (see errors)'), ('generated', "Generated or minified (lock files, *_pb2.py, *.min.js, 'DO NOT EDIT' headers)")], max_length=16)),
                ('repository', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='skipped_files', to='codeindex.repository')),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('repository', 'path'), name='codeindex_skippedfile_unique_path')],
            },
        ),
        migrations.RunPython(forwards, backwards),
    ]
