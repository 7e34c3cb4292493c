"""Checks and look-ups shared by the navigation services: visible repositories, files, pages.

Every look-up goes through ``RepositoryAccess.repository_filter`` in SQL, and an unknown
repository or path gets the same answer whether it does not exist or the caller may not see it.
"""

from __future__ import annotations

import posixpath

from ..choices import SkipReason
from ..exceptions import FileNotIndexed, InvalidArgument
from ..models import Repository, SkippedFile, SourceFile
from ..query import parse_query
from ..visibility import visible_repositories, visible_repository

__all__ = ["visible_repositories", "visible_repository", "clean_path", "indexed_file", "check_int", "language_filter"]


def clean_path(path: str, *, allow_root: bool) -> str:
    """A repository-relative posix path (``"src/app.py"``; ``""`` for the root when allowed)."""
    if not isinstance(path, str) or len(path) > 1000 or any(ord(c) < 0x20 for c in path):
        raise InvalidArgument("the path must be one line of at most 1000 characters")
    clean = posixpath.normpath(path.strip().replace("\\", "/")).strip("/")
    if clean in (".", ""):
        clean = ""
    if clean == ".." or clean.startswith("../"):
        raise InvalidArgument(f"{path[:100]!r} is not a path inside the repository")
    if not clean and not allow_root:
        raise InvalidArgument("a file path is required")
    return clean


def indexed_file(repository: Repository, path: str) -> SourceFile:
    """The indexed file at ``path``, or ``FileNotIndexed`` saying why (skipped, or unknown)."""
    file = SourceFile.objects.filter(repository=repository, path=path).first()
    if file is not None:
        return file
    skipped = SkippedFile.objects.filter(repository=repository, path=path).values_list("reason", flat=True).first()
    if skipped is not None:
        label = SkipReason(skipped).label if skipped in SkipReason.values else skipped
        raise FileNotIndexed(f"{path[:200]!r} is not indexed: {label[0].lower()}{label[1:]}")
    raise FileNotIndexed(f"no indexed file {path[:200]!r} in repository {repository.name!r}")


def check_int(name: str, value, low: int, high: int | None) -> int:
    """``value`` when it is a whole number in ``low..high`` (no upper bound for None)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
        allowed = f"from {low} to {high}" if high is not None else f"of at least {low}"
        raise InvalidArgument(f"{name} must be a whole number {allowed}, got {value!r}")
    return value


def language_filter(language: str | None) -> str | None:
    """A language name as search understands it (``py`` → ``python``), or ``InvalidQuery``."""
    return parse_query("x", language=language).language if language else None
