"""State changes made from the console. Each one has exactly one function here, used by its view.

They delegate the real change to the app that owns it (``oauth_app.services.set_tier``,
``revoke_agent``, ``codeindex.services.start_index_job``) and add one
:class:`~console.models.OperatorAction` row saying who did it and why.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from oauth2_provider.models import get_access_token_model, get_refresh_token_model

from codeindex import services as codeindex
from codeindex.choices import JobKind
from codeindex.exceptions import JobAlreadyRunning, RepositoryNotFound
from oauth_app.models import Consent
from oauth_app.scopes import tier_of
from oauth_app.services import revoke_agent, set_tier

from .index_jobs import OPERATOR_ACCESS
from .models import OperatorAction

__all__ = ["change_tier", "disable_agent", "enable_agent", "revoke_agent_for_everyone", "RevokeReport", "start_reindex"]


def _log(kind: str, operator, /, *, person=None, client_id: str = "", reason: str = "", **detail) -> OperatorAction:
    return OperatorAction.objects.create(
        kind=kind, operator=operator, operator_username=operator.get_username() if operator else "",
        person=person, client_id=client_id, reason=reason.strip(), detail=detail,
    )


@transaction.atomic
def change_tier(operator, person, tier: str, reason: str) -> OperatorAction:
    """Set ``person``'s tier (it applies to their very next tool call) and log who and why.

    :raises ValueError: unknown tier, an empty reason, or the tier the person already has.
    """
    if not reason.strip():
        raise ValueError("A reason is required to change a tier.")
    previous = tier_of(person)
    if previous == tier:
        raise ValueError(f"{person.get_username()} is already {tier}.")
    set_tier(person, tier)
    return _log(OperatorAction.Kind.TIER_CHANGED, operator, person=person, reason=reason, **{"from": previous, "to": tier})


@transaction.atomic
def disable_agent(operator, application, reason: str = "") -> OperatorAction | None:
    """Disable a client: no new tokens, and its existing tokens stop working at the gateway.

    ``Application.is_usable`` and the gateway's bearer check honour ``disabled_at``. Returns None
    when the client was already disabled.
    """
    updated = type(application).objects.filter(pk=application.pk, disabled_at__isnull=True).update(disabled_at=timezone.now())
    application.refresh_from_db(fields=["disabled_at"])
    if not updated:
        return None
    return _log(OperatorAction.Kind.CLIENT_DISABLED, operator, client_id=application.client_id, reason=reason)


@transaction.atomic
def enable_agent(operator, application, reason: str = "") -> OperatorAction | None:
    """Undo :func:`disable_agent`; tokens that were revoked meanwhile stay revoked."""
    updated = type(application).objects.filter(pk=application.pk, disabled_at__isnull=False).update(disabled_at=None)
    application.refresh_from_db(fields=["disabled_at"])
    if not updated:
        return None
    return _log(OperatorAction.Kind.CLIENT_ENABLED, operator, client_id=application.client_id, reason=reason)


@dataclass(frozen=True)
class RevokeReport:
    people: int
    access_tokens: int


def _holders(application) -> set[int | None]:
    """Everyone who holds a consent or a live token for ``application``.

    ``None`` stands for the client itself: a service client's client-credentials tokens. A DCR
    client's RFC 7592 registration-management token (also subject-less) is left alone: it cannot
    call tools, and the client needs it to update or delete its own registration.
    """
    holders = set(Consent.objects.filter(application=application, revoked_at__isnull=True).values_list("user_id", flat=True))
    holders |= set(get_access_token_model().objects.filter(application=application).values_list("user_id", flat=True))
    holders |= set(
        get_refresh_token_model().objects.filter(application=application, revoked__isnull=True).values_list("user_id", flat=True)
    )
    if not application.is_service_client:
        holders.discard(None)
    return holders


def revoke_agent_for_everyone(operator, application, reason: str = "", request=None) -> RevokeReport:
    """Revoke every token and consent of ``application``, person by person, through
    :func:`oauth_app.services.revoke_agent` (the one revocation path): the agent's next call gets 401."""
    users = {u.pk: u for u in get_user_model().objects.filter(pk__in=[pk for pk in _holders(application) if pk])}
    revoked = 0
    with transaction.atomic():
        for user_id in _holders(application):
            revoked += revoke_agent(users.get(user_id) if user_id else None, application, request=request)
        _log(OperatorAction.Kind.CLIENT_REVOKED, operator, client_id=application.client_id, reason=reason,
             people=len(users), access_tokens=revoked)
    return RevokeReport(people=len(users), access_tokens=revoked)


def start_reindex(operator, repository: str) -> codeindex.JobInfo:
    """Re-index ``repository`` from its recorded source (its git URL, else its directory) and log who.

    The job is a ``full`` one, which the engine runs incrementally: only files whose content hash
    changed are re-chunked, and files that are gone are dropped. The job and the
    ``reindex_started`` row (``detail``: ``{"repository", "job", "kind"}``) commit together; the
    job is dispatched on commit, so with eager Celery (the embedded default) it has already run
    when this returns, while with a worker it is usually still queued. Returns the job as it is now.

    :raises RepositoryNotFound: no such repository.
    :raises JobAlreadyRunning: a job for it is queued or running (the page names that job).
    :raises SourceNotFound: it has no recorded source, or its directory is gone (from the engine).
    """
    row = next((r for r in codeindex.status(access=OPERATOR_ACCESS) if r.name == repository), None)
    if row is None:
        raise RepositoryNotFound(f"no repository named {repository!r} is indexed")
    if row.active_job is not None and row.active_job.kind != JobKind.EMBEDDINGS:  # embeddings may go on beside it
        raise JobAlreadyRunning(f"job {row.active_job.id} for {repository!r} is still {row.active_job.status}; "
                                "start a re-index when it has ended")
    with transaction.atomic():
        job = codeindex.start_index_job("", repository, access=OPERATOR_ACCESS, kind=JobKind.FULL,
                                        requested_by=f"{operator.get_username()} via console")
        _log(OperatorAction.Kind.REINDEX_STARTED, operator, repository=repository, job=job.id, kind=job.kind)
    return codeindex.job(job.id, access=OPERATOR_ACCESS)
