"""From the verified Caller to codeindex's ``RepositoryAccess`` (per-repository visibility).

A person sees repositories open to everyone plus those of their Django groups; a service client
with a repository list sees exactly that list. codeindex never sees the Caller itself.
"""

from __future__ import annotations

from codeindex.access import RepositoryAccess

from .auth.identity import Caller

__all__ = ["repository_access"]


def repository_access(caller: Caller) -> RepositoryAccess:
    repositories = None if caller.repositories is None else frozenset(caller.repositories)
    return RepositoryAccess(groups=frozenset(caller.groups), repositories=repositories)
