"""``manage.py enable_pgvector``: move dense search of this PostgreSQL database to pgvector.

Creates the ``vector`` extension when this role may (else exits 1 with the one line saying what
to run as a role that may), adds ``codeindex_chunkvector.embedding``, fills it from the stored
vectors and builds the HNSW index of each model. Safe to run again. Every process picks the
engine up within 30 seconds; ``health_check`` and ``/readyz`` then say ``pgvector``.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from codeindex.vectors import enable_pgvector

__all__ = ["Command"]


class Command(BaseCommand):
    help = "Serve dense search from pgvector in PostgreSQL (create the extension, fill the column, build the HNSW index)."

    def handle(self, *args, **options):
        try:
            info = enable_pgvector(log_to=self.stdout.write)
        except DatabaseError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"dense engine: {info}")
