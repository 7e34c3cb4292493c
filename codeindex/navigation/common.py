"""Checks and look-ups shared by the navigation services: visible repositories, files, pages.

Every look-up goes through ``RepositoryAccess.repository_filter`` in SQL, and an unknown
repository or path gets the same answer whether it does not exist or the caller may not see it.
"""

from __future__ import annotations

from ..choices import SkipReason
from ..exceptions import FileNotIndexed, InvalidArgument
from ..models import Repository, SkippedFile, SourceFile
from ..paths import clean_path, path_forms
from ..query import parse_query
from ..visibility import visible_repositories, visible_repository

__all__ = ["visible_repositories", "visible_repository", "clean_path", "indexed_file", "check_int", "language_filter",
           "next_page", "past_the_end"]


def indexed_file(repository: Repository, path: str) -> SourceFile:
    """The indexed file at ``path`` (from ``clean_path``; stored in any of its ``path_forms``), or
    ``FileNotIndexed`` saying why (skipped, or unknown)."""
    forms = path_forms(path)
    files = {f.path: f for f in SourceFile.objects.filter(repository=repository, path__in=forms)}
    file = next((files[form] for form in forms if form in files), None)
    if file is not None:
        return file
    reasons = dict(SkippedFile.objects.filter(repository=repository, path__in=forms).values_list("path", "reason"))
    skipped = next((reasons[form] for form in forms if form in reasons), None)
    if skipped is not None:
        label = SkipReason(skipped).label if skipped in SkipReason.values else skipped
        raise FileNotIndexed(f"{path[:200]!r} is not indexed: {label[0].lower()}{label[1:]}")
    if path and SourceFile.objects.filter(repository=repository, path__startswith=path.rstrip("/") + "/").exists():
        raise FileNotIndexed(f"{path[:200]!r} is a directory of repository {repository.name!r}, not a file: "
                             "list it with list_files (path set to it)")
    raise FileNotIndexed(f"no indexed file {path[:200]!r} in repository {repository.name!r}")


def check_int(name: str, value, low: int, high: int | None) -> int:
    """``value`` when it is a whole number in ``low..high`` (no upper bound for None)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
        allowed = f"from {low} to {high}" if high is not None else f"of at least {low}"
        raise InvalidArgument(f"{name} must be a whole number {allowed}, got {value!r}")
    return value


def next_page(page: int, more: bool, max_page: int | None, advice: str) -> tuple[int | None, str]:
    """The page after ``page`` when there are ``more`` results and it may be asked for (``page`` <
    ``max_page``; None: no bound), else None; and, when results remain past the last page a caller
    may ask for, a note saying so and giving ``advice`` (``""`` otherwise). Every capped paged
    service answers through here, so no answer offers a page its own check then refuses."""
    if not more:
        return None, ""
    if max_page is not None and page >= max_page:
        return None, f"page {page} is the last page served and more results remain: {advice}"
    return page + 1, ""


def past_the_end(page: int, total: int, per_page: int, what: str) -> InvalidArgument:
    """The refusal of a ``page`` after the last one, for ``total`` results of ``what`` (plural
    noun) at ``per_page`` a page: ``page 9 is past the end: 12 matching lines fill pages 1 to 4``."""
    pages = max(1, -(-total // per_page))
    return InvalidArgument(f"page {page} is past the end: {total:,} {what} fill pages 1 to {pages:,}")


def language_filter(language: str | None) -> str | None:
    """A language name as search understands it (``py`` → ``python``), or ``InvalidQuery``."""
    return parse_query("x", language=language).language if language else None
