"""Which repositories, and which indexed files, a caller may see.

Every service resolves names through here, so a repository the caller may not see is reported
exactly like an unknown one (``RepositoryNotFound`` with the same words).
"""

from __future__ import annotations

from ..access import RepositoryAccess
from ..models import Repository, SourceFile
from ..navigation.common import indexed_file as navigation_indexed_file
from ..paths import clean_path
from ..visibility import visible_repository

__all__ = ["visible_generations", "visible_repository", "indexed_file"]


def visible_generations(access: RepositoryAccess, name: str | None) -> dict[int, int]:
    """``{repository id: generation}`` of the repositories to search: all that ``access`` sees,
    or only ``name`` (``RepositoryNotFound`` when it is unknown or invisible)."""
    rows = Repository.objects.filter(access.repository_filter())
    if name is not None:
        rows = rows.filter(name=name)
    found = dict(rows.values_list("pk", "generation"))
    if name is not None and not found:
        visible_repository(name, access)  # raises RepositoryNotFound, worded like every other look-up
    return found


def indexed_file(repository: str, path: str, access: RepositoryAccess) -> SourceFile:
    """The indexed file ``path`` (as a caller writes it: ``paths.clean_path``) of a visible
    repository; else ``RepositoryNotFound``, ``InvalidArgument`` (no path, or not one inside the
    repository) or ``FileNotIndexed`` (saying why when the file was skipped)."""
    repo = visible_repository(repository, access)
    return navigation_indexed_file(repo, clean_path(path))
