"""Errors the codeindex public API raises.

Every message is one line written for the person (or agent) who made the request, e.g.
``no repository named 'djngo' is indexed``. The gateway turns these into tool errors in one
place (``mcp_gateway/errors.py``); the ``index_repo`` command prints them as they are.
Errors that end an index job (``IndexJobError`` and its subclasses) are recorded on the job row
by the runner (``jobs.py``).
"""

from __future__ import annotations

__all__ = [
    "CodeIndexError",
    "SourceNotFound",
    "SourceNotAllowed",
    "RepositoryNotFound",
    "FileNotIndexed",
    "InvalidQuery",
    "InvalidRepositoryName",
    "RepositoryExists",
    "InvalidArgument",
    "JobAlreadyRunning",
    "IndexJobError",
    "CloneFailed",
    "EmbeddingsUnavailable",
]


class CodeIndexError(Exception):
    """Base class: a request codeindex refuses, with a one-line message meant for the end user."""


class SourceNotFound(CodeIndexError):
    """The path given to index does not exist or is not a directory."""


class SourceNotAllowed(CodeIndexError):
    """A source a remote caller may not index: a server path outside ``MCPRAG_SOURCE_ROOTS``, a git
    URL of a refused transport, or a git host that is not allowed (non-public addresses)."""


class RepositoryNotFound(CodeIndexError):
    """A repository name that is not indexed, or that the caller may not see (the same message)."""


class FileNotIndexed(CodeIndexError):
    """A path that is not an indexed file of a repository the caller may see."""


class InvalidQuery(CodeIndexError):
    """A search request that cannot run: empty text, no searchable words, bad filter or limit."""


class InvalidRepositoryName(CodeIndexError):
    """A repository name that is not slug-like (letters, digits, ``-`` and ``_``; at most 100)."""


class RepositoryExists(CodeIndexError):
    """A repository of that name is indexed already from another source: indexing it again is a
    re-index from its own source, never a silent switch to another one."""


class InvalidArgument(CodeIndexError):
    """Any other argument out of range or of the wrong form (a page number, a rating, a path)."""


class JobAlreadyRunning(CodeIndexError):
    """An index job for this repository is already queued or running."""


class IndexJobError(CodeIndexError):
    """An error that ends an index job; the runner records it as the job's message."""


class CloneFailed(IndexJobError):
    """``git clone`` or ``git fetch`` failed (the message carries git's ``fatal:`` lines, never credentials)."""


class EmbeddingsUnavailable(CodeIndexError):
    """The configured embedding provider cannot embed (not installed, turned off, server down)."""


class SymbolNotFound(CodeIndexError):
    """No definition of the asked name is indexed in the repositories the caller may see."""


__all__ += ["SymbolNotFound"]
