"""The stored text of every indexed file, and the trigram index over it.

``save_text`` runs inside the transaction that replaces a file's chunks (``indexing._replace_file``),
so a reader sees a file's old text with its old chunks or the new text with the new chunks,
never a mix; ``forget_texts`` runs inside the transaction that deletes files. Everything that
reads a file's text (``read_file``, the ``repo://`` resource, ``grep``) calls ``load_text``.

==========  ===================================================================================
SQLite      ``FileText.data``: the UTF-8 text, zlib-compressed (level 6; Python source shrinks
            about 4×). Trigram index: the contentless FTS5 table ``codeindex_filetext_trigram``
            (rowid = file id), which stores only the index, not the text again.
PostgreSQL  ``FileText.text``: the text; the server compresses it (TOAST, LZ4 where available).
            When ``pg_trgm`` is installed, the table ``codeindex_filetext_block`` holds the text
            again in blocks of ``BLOCK_LINES`` lines, under a ``pg_trgm`` GIN index of each
            block lower-cased (ASCII) with ``_`` read as ``q`` (``PG_BLOCK_WORDS``): an
            identifier is one word to ``pg_trgm``, and a candidate is a block, not a whole file
            (migration 0010).
==========  ===================================================================================

Migrations ``0005_file_text`` and ``0010_grep_line_blocks`` create them; ``trigram_state()``
says which is in place. A file deleted some other way than through ``indexing`` (the Django
admin deleting a repository) leaves its SQLite trigram row or PostgreSQL blocks behind: harmless,
since grep joins candidates to ``SourceFile`` and file ids are never reused, but it keeps taking
index space.
"""

from __future__ import annotations

import functools
import zlib
from collections.abc import Iterable

from django.db import DatabaseError, connection

from ..models import FileText, SourceFile

__all__ = ["SQLITE_TRIGRAM", "PG_TRIGRAM_INDEX", "PG_BLOCKS", "PG_BLOCK_WORDS", "BLOCK_LINES", "block_words", "save_text", "forget_texts",
           "load_text", "load_texts", "trigram_state"]

SQLITE_TRIGRAM = "codeindex_filetext_trigram"
PG_BLOCKS = "codeindex_filetext_block"
PG_TRIGRAM_INDEX = "codeindex_filetext_block_trgm"
#: What that index covers (``block_words`` in SQL); a query must name the same expression to use it.
PG_BLOCK_WORDS = "lower(translate(text, '_', 'q') COLLATE \"C\")"
#: Lines per block of ``PG_BLOCKS`` (as migration 0010 cuts the texts it finds).
BLOCK_LINES = 64
_WORDS = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ_", "abcdefghijklmnopqrstuvwxyzq")
_LEVEL = 6


def _compressed() -> bool:
    return connection.vendor != "postgresql"


def _inflate(data, text: str) -> str:
    return zlib.decompress(bytes(data)).decode("utf-8") if data is not None else text


def save_text(file: SourceFile, text: str, *, replacing: bool) -> None:
    """Store ``text`` as ``file``'s indexed text (``replacing`` when the file was indexed before)."""
    trigram = connection.vendor == "sqlite" and trigram_state() == "fts5"
    if replacing and trigram:
        _sqlite_forget([file.pk])
    if _compressed():
        fields = {"data": zlib.compress(text.encode("utf-8"), _LEVEL), "text": ""}
    else:
        fields = {"data": None, "text": text}
    FileText.objects.update_or_create(file=file, defaults=fields)
    if trigram:
        with connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO {SQLITE_TRIGRAM}(rowid, text) VALUES (%s, %s)", [file.pk, text])
    elif connection.vendor == "postgresql" and trigram_state() == "pg_trgm":
        lines = text.split("\n")
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {PG_BLOCKS} WHERE file_id = %s", [file.pk])
            cursor.executemany(f"INSERT INTO {PG_BLOCKS} (file_id, block, text) VALUES (%s, %s, %s)",
                               [(file.pk, n, "\n".join(lines[start : start + BLOCK_LINES]))
                                for n, start in enumerate(range(0, len(lines), BLOCK_LINES))])


def block_words(text: str) -> str:
    """``text`` as the ``PG_BLOCKS`` index reads it: ASCII letters lower-cased, ``_`` read as
    ``q`` (``PG_BLOCK_WORDS`` computes the same in SQL)."""
    return text.translate(_WORDS)


def forget_texts(file_ids: Iterable[int]) -> None:
    """Drop the trigram entries (SQLite) or blocks (PostgreSQL) of files about to be deleted (their
    ``FileText`` rows go by cascade)."""
    ids = list(file_ids)
    if ids and connection.vendor == "sqlite" and trigram_state() == "fts5":
        _sqlite_forget(ids)
    elif ids and connection.vendor == "postgresql" and trigram_state() == "pg_trgm":
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {PG_BLOCKS} WHERE file_id = ANY(%s)", [ids])


def _sqlite_forget(ids: list[int]) -> None:
    """A contentless FTS5 row is deleted by repeating the text it was inserted with."""
    for start in range(0, len(ids), 500):
        rows = FileText.objects.filter(file_id__in=ids[start : start + 500]).values_list("file_id", "data", "text")
        with connection.cursor() as cursor:
            for file_id, data, text in rows:
                cursor.execute(f"INSERT INTO {SQLITE_TRIGRAM}({SQLITE_TRIGRAM}, rowid, text) VALUES ('delete', %s, %s)",
                               [file_id, _inflate(data, text)])


def load_text(file_id: int) -> str | None:
    """The stored text of one file, or None when it has none (indexed before texts were stored)."""
    row = FileText.objects.filter(file_id=file_id).values_list("data", "text").first()
    return None if row is None else _inflate(*row)


def load_texts(file_ids: list[int]) -> dict[int, bytes]:
    """``{file id: UTF-8 text}`` for the files that have a stored text (bytes: what grep searches)."""
    rows = FileText.objects.filter(file_id__in=file_ids).values_list("file_id", "data", "text")
    return {file_id: zlib.decompress(bytes(data)) if data is not None else text.encode("utf-8") for file_id, data, text in rows}


def trigram_state() -> str:
    """``"fts5"`` (SQLite table), ``"pg_trgm"`` (PostgreSQL index) or ``"none"`` (grep scans)."""
    return _trigram_state(connection.vendor, connection.settings_dict.get("NAME"))


@functools.lru_cache(maxsize=8)
def _trigram_state(vendor: str, name) -> str:
    try:
        with connection.cursor() as cursor:
            if vendor == "sqlite":
                cursor.execute("SELECT 1 FROM sqlite_master WHERE name = %s", [SQLITE_TRIGRAM])
                return "fts5" if cursor.fetchone() else "none"
            if vendor == "postgresql":
                cursor.execute("SELECT 1 FROM pg_indexes WHERE indexname = %s", [PG_TRIGRAM_INDEX])
                return "pg_trgm" if cursor.fetchone() else "none"
    except DatabaseError:
        pass
    return "none"
