"""The lexical index over ``codeindex_chunk``, in the database's own full-text engine.

Each chunk has three word streams (``search_context``, ``search_name``, ``search_text``), indexed
separately so each is length-normalised on its own (a long body must not drown a matching name).

SQLite: one FTS5 table per stream, ``codeindex_chunk_context_fts``, ``codeindex_chunk_name_fts``
and ``codeindex_chunk_fts``, each using the chunk table as external content (rowid = chunk id,
tokenizer ``porter unicode61``), kept in step by three triggers on ``codeindex_chunk``. A chunk
row and its index entries therefore change in the same transaction. Needs SQLite 3.35+ (search
uses ``MATERIALIZED`` common table expressions).

PostgreSQL: three stored generated ``tsvector`` columns (``english`` configuration), each with a
GIN index; PostgreSQL keeps them current itself.

Other databases get nothing here, and ``lexical.py`` refuses to search on them.

Caution for later migrations on SQLite: when Django rebuilds ``codeindex_chunk`` (most column
alterations do), the triggers are dropped with the old table. Such a migration must run
``_SQLITE_FORWARDS`` again afterwards (it is idempotent and rebuilds the FTS tables).

This SQL is frozen here on purpose; ``lexical.py`` only reads what it creates.
"""

from django.db import migrations

_STREAMS = {  # FTS5 table → chunk column it indexes
    "codeindex_chunk_context_fts": "search_context",
    "codeindex_chunk_name_fts": "search_name",
    "codeindex_chunk_fts": "search_text",
}


def _sqlite_insert(row: str) -> str:
    return "".join(
        f"INSERT INTO {table}(rowid, {column}) VALUES ({row}.id, {row}.{column});\n" for table, column in _STREAMS.items()
    )


def _sqlite_delete(row: str) -> str:
    return "".join(
        f"INSERT INTO {table}({table}, rowid, {column}) VALUES ('delete', {row}.id, {row}.{column});\n"
        for table, column in _STREAMS.items()
    )


_SQLITE_BACKWARDS = [
    "DROP TRIGGER IF EXISTS codeindex_chunk_fts_insert",
    "DROP TRIGGER IF EXISTS codeindex_chunk_fts_delete",
    "DROP TRIGGER IF EXISTS codeindex_chunk_fts_update",
    *(f"DROP TABLE IF EXISTS {table}" for table in _STREAMS),
]

_SQLITE_FORWARDS = [
    *_SQLITE_BACKWARDS,
    *(
        f"CREATE VIRTUAL TABLE {table} USING fts5({column}, content='codeindex_chunk', content_rowid='id',"
        " tokenize='porter unicode61 remove_diacritics 2')"
        for table, column in _STREAMS.items()
    ),
    f"CREATE TRIGGER codeindex_chunk_fts_insert AFTER INSERT ON codeindex_chunk BEGIN\n{_sqlite_insert('new')}END",
    f"CREATE TRIGGER codeindex_chunk_fts_delete AFTER DELETE ON codeindex_chunk BEGIN\n{_sqlite_delete('old')}END",
    "CREATE TRIGGER codeindex_chunk_fts_update AFTER UPDATE ON codeindex_chunk BEGIN\n"
    f"{_sqlite_delete('old')}{_sqlite_insert('new')}END",
    *(f"INSERT INTO {table}({table}) VALUES ('rebuild')" for table in _STREAMS),
]

_PG_VECTORS = {  # generated column → chunk column it indexes
    "search_context_vector": "search_context",
    "search_name_vector": "search_name",
    "search_vector": "search_text",
}

_POSTGRESQL_FORWARDS = [
    statement
    for vector, column in _PG_VECTORS.items()
    for statement in (
        f"ALTER TABLE codeindex_chunk ADD COLUMN {vector} tsvector"
        f" GENERATED ALWAYS AS (to_tsvector('english'::regconfig, {column})) STORED",
        f"CREATE INDEX codeindex_chunk_{vector} ON codeindex_chunk USING gin ({vector})",
    )
]

_POSTGRESQL_BACKWARDS = [
    statement
    for vector in _PG_VECTORS
    for statement in (
        f"DROP INDEX IF EXISTS codeindex_chunk_{vector}",
        f"ALTER TABLE codeindex_chunk DROP COLUMN IF EXISTS {vector}",
    )
]


def _run(schema_editor, statements_by_vendor):
    for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
        schema_editor.execute(statement)


def _forwards(apps, schema_editor):
    _run(schema_editor, {"sqlite": _SQLITE_FORWARDS, "postgresql": _POSTGRESQL_FORWARDS})


def _backwards(apps, schema_editor):
    _run(schema_editor, {"sqlite": _SQLITE_BACKWARDS, "postgresql": _POSTGRESQL_BACKWARDS})


class Migration(migrations.Migration):
    dependencies = [("codeindex", "0001_initial")]

    operations = [migrations.RunPython(_forwards, _backwards, elidable=False)]
