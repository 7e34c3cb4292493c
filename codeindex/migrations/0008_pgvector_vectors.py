"""pgvector for dense search, when this PostgreSQL database can have it; never a failed migration.

PostgreSQL: when the ``vector`` extension is installed, or available and this role may create
it (``CREATE EXTENSION IF NOT EXISTS vector`` is tried in a savepoint), the column
``codeindex_chunkvector.embedding`` (type ``vector``, any dimension) is added and filled from the
stored vectors, and one HNSW cosine index per model present is built (``codeindex.vectors.
enable_pgvector``). Otherwise nothing changes, dense search keeps vectors in each process's memory,
and the migration prints what the operator must run to move to pgvector later (the same line
``health_check`` shows).

With ``pg_trgm`` (see ``0005_file_text``), a trigram index on ``codeindex_sourcefile.path`` serves
``path_glob`` filters (``lexical.chunk_filter_sql``).

SQLite: nothing (the in-memory engine serves it).
"""

from django.db import migrations, transaction


def _try(schema_editor, sql: str) -> bool:
    try:
        with transaction.atomic(using=schema_editor.connection.alias):
            schema_editor.execute(sql)
    except Exception:  # no such extension, or this role may not create it: the fallback applies
        return False
    return True


PATH_TRIGRAM_INDEX = "codeindex_sourcefile_path_trgm"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from codeindex import vectors

    # path filters match file paths; with pg_trgm (see 0005) through this index
    _try(schema_editor, f"CREATE INDEX IF NOT EXISTS {PATH_TRIGRAM_INDEX} ON codeindex_sourcefile USING gin (path gin_trgm_ops)")

    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'vector')")
        available = cursor.fetchone()[0]
    if available and _try(schema_editor, "CREATE EXTENSION IF NOT EXISTS vector"):
        vectors.enable_pgvector(create_extension=False)
        return
    vectors.forget_engine()
    print(f"\n  codeindex: dense search keeps vectors in each process's memory (pgvector is not enabled)."
          f"\n  To move to pgvector: {vectors.enable_instructions()}.")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE codeindex_chunkvector DROP COLUMN IF EXISTS embedding")
        schema_editor.execute(f"DROP INDEX IF EXISTS {PATH_TRIGRAM_INDEX}")


class Migration(migrations.Migration):

    dependencies = [("codeindex", "0007_index_speed_job_phases")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
