"""Which repositories a caller sees: the one look-up every service makes before it reads anything.

The caller's ``RepositoryAccess`` is applied in SQL, and a repository the caller may not see is
reported exactly like an unknown one (``RepositoryNotFound`` with the same words), so no answer
tells whether a hidden repository exists.
"""

from __future__ import annotations

from .access import RepositoryAccess
from .exceptions import RepositoryNotFound
from .models import Repository

__all__ = ["visible_repositories", "visible_repository"]


def visible_repositories(access: RepositoryAccess, name: str | None = None) -> dict[int, str]:
    """``{id: name}`` of the repositories ``access`` sees, by name (only ``name``, when given:
    ``RepositoryNotFound`` when it is unknown or hidden)."""
    rows = Repository.objects.filter(access.repository_filter())
    if name is not None:
        if not isinstance(name, str) or not name:
            raise RepositoryNotFound("a repository name is required")
        rows = rows.filter(name=name)
    found = dict(rows.order_by("name").values_list("pk", "name"))
    if name is not None and not found:
        raise RepositoryNotFound(f"no repository named {name[:100]!r} is indexed")
    return found


def visible_repository(name: str, access: RepositoryAccess) -> Repository:
    """The repository ``name`` if ``access`` sees it; else ``RepositoryNotFound``."""
    if not isinstance(name, str) or not name:
        raise RepositoryNotFound("a repository name is required")
    found = Repository.objects.filter(access.repository_filter(), name=name).first()
    if found is None:
        raise RepositoryNotFound(f"no repository named {name[:100]!r} is indexed")
    return found
