"""Revisions, syncs, webhooks, private-source credentials and git history, for the other apps.

    indexed_commits(access)                       # {"shop": IndexedCommit("3f2a9c1b7e40", dirty=False)} per visible repository
    list_commits("shop", access=access, path="billing/tax.py")
    configure_sync("shop", interval_minutes=5, branch="release", history_depth=500)   # operator
    new_webhook_secret("shop")                     # shown once; stored sealed
    receive_webhook("shop", request.headers, request.body)   # (status, message)
    delivery = authenticate_webhook("shop", request.headers, request.body)   # None: WEBHOOK_REFUSED
    accept_webhook(delivery, request.headers, request.body)   # (status, message)
"""

from __future__ import annotations

from typing import NamedTuple

from ..access import RepositoryAccess
from ..credentials import set_credential
from ..exceptions import InvalidArgument, RepositoryNotFound
from ..history.queries import (
    COMMITS_PAGE_SIZE,
    IN_DIFF_SCAN,
    MAX_BLAME_LINES,
    MAX_DIFF_BYTES,
    MAX_TEXT_LENGTH,
    BlameResult,
    CommitInfo,
    CommitMatches,
    CommitPage,
    DiffResult,
    blame,
    compare,
    diff,
    list_commits,
    search_commits,
)
from ..history.queries import MAX_PAGE as MAX_COMMITS_PAGE
from ..models import Repository, WebhookDelivery
from ..sources import valid_branch
from ..sync import start_sync
from ..webhooks import new_secret as new_webhook_secret
from ..webhooks import REFUSED as WEBHOOK_REFUSED
from ..webhooks import AuthenticDelivery
from ..webhooks import accept as accept_webhook
from ..webhooks import authenticate as authenticate_webhook
from ..webhooks import receive as receive_webhook

__all__ = [
    "SHORT_SHA", "IndexedCommit", "freshness_of", "indexed_commits", "short_sha", "configure_sync", "sync_now", "set_repository_credential", "new_webhook_secret",
    "receive_webhook", "authenticate_webhook", "accept_webhook", "AuthenticDelivery", "WEBHOOK_REFUSED", "recent_deliveries", "list_commits", "blame", "diff", "compare", "search_commits",
    "CommitInfo", "CommitPage", "BlameResult", "DiffResult", "CommitMatches",
    "COMMITS_PAGE_SIZE", "MAX_COMMITS_PAGE", "IN_DIFF_SCAN", "MAX_BLAME_LINES", "MAX_DIFF_BYTES", "MAX_TEXT_LENGTH",
]

#: Hex digits of a commit shown in results (git's own abbreviation is at least 7).
SHORT_SHA = 12


def short_sha(sha: str) -> str | None:
    return sha[:SHORT_SHA] if sha else None


class IndexedCommit(NamedTuple):
    """A repository's indexed commit as results cite it: ``sha`` (``SHORT_SHA`` hex digits) and
    ``dirty``, whether the working tree indexed had changes that commit lacks (uncommitted or
    untracked files: the indexed text is then not the commit's)."""

    sha: str
    dirty: bool = False

    @property
    def label(self) -> str:
        """``3f2a9c1b7e40``, or ``3f2a9c1b7e40 + uncommitted changes`` for a dirty tree."""
        return f"{self.sha} + uncommitted changes" if self.dirty else self.sha


def indexed_commits(access: RepositoryAccess) -> dict[str, IndexedCommit]:
    """``{repository name: IndexedCommit}`` for the visible repositories that record an indexed commit."""
    rows = (Repository.objects.filter(access.repository_filter()).exclude(indexed_commit="")
            .values_list("name", "indexed_commit", "indexed_dirty"))
    return {name: IndexedCommit(sha[:SHORT_SHA], dirty) for name, sha, dirty in rows}


def configure_sync(name: str, *, interval_minutes: int | None = None, branch: str | None = None,
                   history_depth: int | None = None) -> Repository:
    """Operator settings of a repository's freshness: fetch interval in minutes (0 = never, at most
    a week), branch to index ("" = the remote's default; a change takes effect on the next full
    index), commits of history kept (1..100,000)."""
    repository = _repository(name)
    fields = []
    if interval_minutes is not None:
        if isinstance(interval_minutes, bool) or not isinstance(interval_minutes, int) or not 0 <= interval_minutes <= 7 * 24 * 60:
            raise InvalidArgument("the sync interval is a whole number of minutes from 0 (never) to 10080 (a week)")
        repository.sync_interval_minutes = interval_minutes
        fields.append("sync_interval_minutes")
    if branch is not None:
        repository.branch = valid_branch(branch) if branch else ""
        fields.append("branch")
    if history_depth is not None:
        if isinstance(history_depth, bool) or not isinstance(history_depth, int) or not 1 <= history_depth <= 100_000:
            raise InvalidArgument("the history depth is a whole number of commits from 1 to 100000")
        repository.history_depth = history_depth
        fields.append("history_depth")
    repository.save(update_fields=fields)
    return repository


def sync_now(name: str, *, requested_by: str) -> int | None:
    """Queue a sync of git repository ``name`` now; the job id, or None (see ``sync.start_sync``)."""
    repository = _repository(name)
    if not repository.source_url:
        raise InvalidArgument(f"{name!r} is indexed from a directory, not git: re-index it instead")
    return start_sync(repository, requested_by=requested_by)


def set_repository_credential(name: str, kind: str, secret: str) -> None:
    """Store (sealed) or with ``kind`` "" remove the HTTPS token or SSH deploy key git uses for ``name``."""
    set_credential(_repository(name), kind, secret)


def freshness_of(name: str) -> Repository:
    """The repository row of ``name`` (operator pages: source, branch, commit, sync fields; its
    sealed secrets stay sealed), or ``RepositoryNotFound``."""
    return _repository(name)


def recent_deliveries(name: str, limit: int = 10) -> list[WebhookDelivery]:
    return list(WebhookDelivery.objects.filter(repository__name=name).order_by("-received_at", "-id")[:limit])


def _repository(name: str) -> Repository:
    repository = Repository.objects.filter(name=name).first() if isinstance(name, str) else None
    if repository is None:
        raise RepositoryNotFound(f"no repository named {str(name)[:100]!r} is indexed")
    return repository
