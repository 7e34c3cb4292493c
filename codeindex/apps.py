"""codeindex: the retrieval engine (indexing local source trees, lexical search)."""

from django.apps import AppConfig

__all__ = ["CodeindexConfig"]


class CodeindexConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "codeindex"
    verbose_name = "Code index"
