"""Errors the codeindex public API raises.

Every message is one line written for the person (or agent) who made the request, e.g.
``no repository named 'djngo' is indexed``. The gateway turns these into tool errors in one
place (``mcp_gateway/errors.py``); the ``index_repo`` command prints them as they are.
"""

from __future__ import annotations

__all__ = ["CodeIndexError", "SourceNotFound", "RepositoryNotFound", "InvalidQuery", "InvalidRepositoryName"]


class CodeIndexError(Exception):
    """Base class: a request codeindex refuses, with a one-line message meant for the end user."""


class SourceNotFound(CodeIndexError):
    """The path given to index does not exist or is not a directory."""


class RepositoryNotFound(CodeIndexError):
    """A repository filter names no indexed repository."""


class InvalidQuery(CodeIndexError):
    """A search request that cannot run: empty text, no searchable words, bad filter or limit."""


class InvalidRepositoryName(CodeIndexError):
    """A repository name that is not slug-like (letters, digits, ``-`` and ``_``; at most 100)."""
