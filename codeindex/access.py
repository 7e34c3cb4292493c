"""Who may see which repository: the ``access`` argument of every codeindex service.

codeindex knows nothing of tokens or tiers; the gateway builds a ``RepositoryAccess`` from its
Caller (``mcp_gateway/access.py``) and passes it in. A repository is visible when

* ``access.all`` is set (operators' command line, system tasks), or
* the caller carries a repository list (a service client) and the repository is on it, or
* the caller carries no list and the repository is visible to everyone, or its visibility is
  ``groups`` and the caller is in one of its groups.

An invisible repository is reported exactly like a missing one (``RepositoryNotFound``), so its
name, counts and paths never leak.

    access = RepositoryAccess(groups=frozenset({"payments"}))
    Repository.objects.filter(access.repository_filter())
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Q

from .choices import Visibility
from .models import Repository

__all__ = ["RepositoryAccess", "PUBLIC", "SYSTEM"]


@dataclass(frozen=True)
class RepositoryAccess:
    """The repositories a caller may see (see the module docstring for the rules).

    :ivar groups: names of the person's Django groups.
    :ivar repositories: a service client's allowed repository names; None when it has no list.
    :ivar all: every repository (command line and background tasks only).
    """

    groups: frozenset[str] = field(default_factory=frozenset)
    repositories: frozenset[str] | None = None
    all: bool = False

    def repository_filter(self, prefix: str = "") -> Q:
        """A ``Q`` over ``Repository`` (or over a model reaching it through ``prefix``, e.g. ``"repository__"``)."""
        if self.all:
            return Q()
        if self.repositories is not None:
            return Q(**{f"{prefix}name__in": sorted(self.repositories)})
        everyone = Q(**{f"{prefix}visibility": Visibility.EVERYONE})
        if not self.groups:
            return everyone
        members = Repository.groups.through.objects.filter(group__name__in=sorted(self.groups)).values("repository_id")
        return everyone | Q(**{f"{prefix}visibility": Visibility.GROUPS, f"{prefix}pk__in": members})


#: A signed-in person in no group, with no repository list: sees the repositories open to everyone.
PUBLIC = RepositoryAccess()
#: Everything: for ``manage.py`` commands and background tasks, never for a tool caller.
SYSTEM = RepositoryAccess(all=True)
