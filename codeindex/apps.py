"""codeindex: the retrieval engine (indexing local source trees, lexical search)."""

from django.apps import AppConfig
from django.db.backends.signals import connection_created

__all__ = ["CodeindexConfig"]


def _use_re2_for_sqlite_regexp(sender, connection, **kwargs) -> None:
    """Path filters run as ``path REGEXP ?`` on SQLite; Django's own REGEXP uses Python's
    backtracking ``re``, which a caller's glob could make take seconds per row. Replace it with
    RE2 (``codeindex.patterns.sqlite_regexp``) on every new connection."""
    if connection.vendor == "sqlite":
        from .patterns import sqlite_regexp

        connection.connection.create_function("REGEXP", 2, sqlite_regexp, deterministic=True)


def _remove_clone(sender, instance, **kwargs) -> None:
    """A deleted repository takes its clone (working tree and history) with it (``sources.remove_clone``)."""
    from .sources import remove_clone

    remove_clone(instance)


class CodeindexConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "codeindex"
    verbose_name = "Code index"

    def ready(self) -> None:
        connection_created.connect(_use_re2_for_sqlite_regexp, dispatch_uid="codeindex.re2_regexp")
        from django.db.models.signals import post_delete

        post_delete.connect(_remove_clone, sender="codeindex.Repository", dispatch_uid="codeindex.remove_clone")
