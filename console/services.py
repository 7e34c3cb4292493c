"""State changes made from the console. Each one has exactly one function here, used by its view.

They delegate the real change to the app that owns it (``oauth_app.services.set_tier``,
``revoke_agent``, ``codeindex.services.start_index_job``) and add one
:class:`~console.models.OperatorAction` row saying who did it and why. The operator API
(:mod:`operator_api`) calls the same functions; its callers are people (a user) or service
clients (any object with ``get_username()``, e.g. ``"service:ci-bot"``, kept as the row's
``operator_username``), and ``via`` names where the action came from ("console" or "api").
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from oauth2_provider.models import get_access_token_model, get_refresh_token_model

from codeindex import services as codeindex
from codeindex.choices import JobKind
from codeindex.exceptions import JobAlreadyRunning, RepositoryExists, RepositoryNotFound
from oauth_app.models import Consent
from oauth_app.scopes import tier_of
from oauth_app.services import revoke_agent, set_tier

from .index_jobs import OPERATOR_ACCESS
from .models import OperatorAction

__all__ = ["change_tier", "disable_agent", "enable_agent", "revoke_agent_for_everyone", "RevokeReport", "start_reindex",
           "add_repository", "remove_repository", "RepositoryExists",
           "suspend_person", "reinstate_person", "sign_out_everywhere", "reset_two_factor", "revoke_all_tokens"]


def _log(kind: str, operator, /, *, person=None, client_id: str = "", reason: str = "", **detail) -> OperatorAction:
    return OperatorAction.objects.create(
        kind=kind, operator=operator if isinstance(operator, get_user_model()) else None,
        operator_username=operator.get_username() if operator else "",
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


# --- Actions on a person ---------------------------------------------------------------------------

def _end_sessions(person) -> int:
    """Delete every session of ``person`` (database sessions): signed in, or with the password
    given and the second factor still to come; returns how many."""
    from django.contrib.sessions.models import Session

    from oauth_app.flows.login import PENDING_KEY

    ended = []
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        data = session.get_decoded()
        pending = data.get(PENDING_KEY) or {}
        if str(person.pk) in (str(data.get("_auth_user_id")), str(pending.get("user_id"))):
            ended.append(session.pk)
    Session.objects.filter(pk__in=ended).delete()
    return len(ended)


def _not_yourself(operator, person, what: str) -> None:
    if operator is not None and operator.pk == person.pk:
        raise ValueError(f"You cannot {what} yourself; ask another operator.")


@transaction.atomic
def suspend_person(operator, person, reason: str) -> OperatorAction | None:
    """Deactivate ``person``: they cannot sign in, every session of theirs ends, and the gateway
    refuses their tokens (it checks ``is_active`` on every call). Returns None if already suspended.

    :raises ValueError: no reason given, or the operator suspending themself.
    """
    if not reason.strip():
        raise ValueError("A reason is required to suspend a person.")
    _not_yourself(operator, person, "suspend")
    if not type(person).objects.filter(pk=person.pk, is_active=True).update(is_active=False):
        return None
    person.is_active = False
    sessions = _end_sessions(person)
    return _log(OperatorAction.Kind.PERSON_SUSPENDED, operator, person=person, reason=reason, sessions=sessions)


@transaction.atomic
def reinstate_person(operator, person, reason: str = "") -> OperatorAction | None:
    """Undo :func:`suspend_person` (tokens revoked meanwhile stay revoked). None if already active."""
    if not type(person).objects.filter(pk=person.pk, is_active=False).update(is_active=True):
        return None
    person.is_active = True
    return _log(OperatorAction.Kind.PERSON_REINSTATED, operator, person=person, reason=reason)


@transaction.atomic
def sign_out_everywhere(operator, person, reason: str = "") -> OperatorAction:
    """End every browser session of ``person`` (the console, their account pages, consent pages).
    Agents' tokens are not touched: see :func:`revoke_all_tokens`."""
    return _log(OperatorAction.Kind.PERSON_SIGNED_OUT, operator, person=person, reason=reason,
                sessions=_end_sessions(person))


@transaction.atomic
def reset_two_factor(operator, person, reason: str) -> OperatorAction:
    """Remove ``person``'s authenticator and recovery codes (e.g. a lost phone) and end their
    sessions, so a session verified with the old device does not outlive it. They set up a new
    authenticator at their next sign-in that needs one.

    :raises ValueError: no reason given.
    """
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from oauth_app.profiles import ensure_profile

    if not reason.strip():
        raise ValueError("A reason is required to reset two-factor authentication.")
    devices = TOTPDevice.objects.filter(user=person).count() + StaticDevice.objects.filter(user=person).count()
    TOTPDevice.objects.filter(user=person).delete()
    StaticDevice.objects.filter(user=person).delete()  # and their recovery codes
    profile = ensure_profile(person)
    profile.mfa_enrolled_at = None
    profile.stytch_totp_id = ""
    profile.save(update_fields=["mfa_enrolled_at", "stytch_totp_id"])
    return _log(OperatorAction.Kind.MFA_RESET, operator, person=person, reason=reason, devices=devices,
                sessions=_end_sessions(person))


def revoke_all_tokens(operator, person, reason: str = "", request=None) -> OperatorAction:
    """Revoke every token and consent ``person`` gave any agent, through
    :func:`oauth_app.services.revoke_agent` (the one revocation path): each agent's next call gets
    401 and must ask the person again."""
    from oauth_app.models import Application

    application_ids = set(Consent.objects.filter(user=person, revoked_at__isnull=True).values_list("application_id", flat=True))
    application_ids |= set(get_access_token_model().objects.filter(user=person).values_list("application_id", flat=True))
    application_ids |= set(get_refresh_token_model().objects.filter(user=person, revoked__isnull=True)
                           .values_list("application_id", flat=True))
    revoked = 0
    with transaction.atomic():
        applications = Application.objects.filter(pk__in=[pk for pk in application_ids if pk])
        for application in applications:
            revoked += revoke_agent(person, application, request=request)
        return _log(OperatorAction.Kind.TOKENS_REVOKED, operator, person=person, reason=reason,
                    agents=len(applications), access_tokens=revoked)


def start_reindex(operator, repository: str, *, via: str = "console") -> codeindex.JobInfo:
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
                                        requested_by=f"{operator.get_username()} via {via}")
        _log(OperatorAction.Kind.REINDEX_STARTED, operator, repository=repository, job=job.id, kind=job.kind)
    return codeindex.job(job.id, access=OPERATOR_ACCESS)


def add_repository(operator, name: str, source: str, *, groups: list[str] | None = None, reason: str = "",
                   via: str = "console") -> codeindex.JobInfo:
    """Index a new repository ``name`` from ``source`` (a directory under ``MCPRAG_SOURCE_ROOTS`` or
    a git URL, judged by ``codeindex.source_policy.check_source`` before anything is written) and
    log who. ``groups``: only members of these Django groups may see it (default: everyone signed
    in). The job and the ``repository_added`` row (``detail``: ``{"repository", "job"}``) commit
    together; the job is dispatched on commit.

    :raises RepositoryExists: a repository of that name is indexed already (the engine's message, naming its source).
    :raises SourceNotAllowed, SourceNotFound, InvalidRepositoryName, InvalidArgument: from the engine.
    """
    existing = next((r for r in codeindex.status(access=OPERATOR_ACCESS) if r.name == name), None)
    if existing is not None:
        raise codeindex.already_indexed(name, existing.source_url or existing.root_path, access=OPERATOR_ACCESS)
    with transaction.atomic():
        job = codeindex.start_index_job(source, name, access=OPERATOR_ACCESS, kind=JobKind.FULL, groups=groups or None,
                                        requested_by=f"{operator.get_username()} via {via}")
        _log(OperatorAction.Kind.REPOSITORY_ADDED, operator, reason=reason, repository=name, job=job.id)
    return codeindex.job(job.id, access=OPERATOR_ACCESS)


def remove_repository(operator, name: str, *, reason: str = "") -> int:
    """Delete repository ``name`` entirely (files, chunks, vectors, jobs, feedback) and log who;
    returns how many files it had.

    :raises RepositoryNotFound: no such repository.
    :raises JobAlreadyRunning: a job for it is queued or running.
    """
    with transaction.atomic():
        files = codeindex.delete_repository(name, access=OPERATOR_ACCESS)
        _log(OperatorAction.Kind.REPOSITORY_DELETED, operator, reason=reason, repository=name, files=files)
    return files
