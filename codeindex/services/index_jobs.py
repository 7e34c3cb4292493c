"""Index a repository: now, in this process (command line), or as a queued job; list jobs.

A new repository is created by its first index job, with the visibility and groups given then;
later jobs keep its settings and its source: a job given another source for an existing name is
refused (``already_indexed``) rather than switching the repository to it, unless the command line
asks to ``replace`` the source.
"""

from __future__ import annotations

import inspect
import logging
import os
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db import DatabaseError, transaction

from ..access import SYSTEM, RepositoryAccess
from ..choices import JobKind, JobStatus, Visibility
from ..exceptions import InvalidArgument, InvalidRepositoryName, RepositoryExists, RepositoryNotFound, SourceNotFound
from ..indexing import IndexReport, Progress, normalize_paths
from ..jobs import IndexJobRunner, create_job
from ..models import IndexJob, Repository
from ..source_policy import check_source
from ..sources import is_git_url, local_root, remove_clone, valid_branch, without_credentials
from ..worker import broker_configured, dispatch
from .results import JobInfo
from .scope import visible_repository

__all__ = ["ProgressCallback", "index_repository", "start_index_job", "jobs", "job", "job_info", "already_indexed",
           "name_for_source"]

log = logging.getLogger(__name__)

#: ``progress(done_files, total_files, path)``, called after each file is handled.
ProgressCallback = Callable[[int, int, str], None]


def index_repository(path: str | Path, name: str, *, access: RepositoryAccess = SYSTEM,
                     progress: ProgressCallback | Progress | None = None, embeddings: str = "now",
                     replace: bool = False, branch: str | None = None) -> IndexReport:
    """Index the directory (or git URL) ``path`` as repository ``name`` now, in this process.

    Runs an ``IndexJob`` synchronously (so it shows in job history). Only files whose sha256
    changed are re-chunked; files that are gone are removed with their chunks. ``embeddings``
    says what happens to the chunks still without a vector: "now" (embed them here before
    returning; the report counts them), "background" (queue an embeddings job: a Celery worker
    takes it at once, else the server's worker when it runs; ``report.embeddings_job`` names it)
    or "skip". ``progress`` is ``(phase, done, total, path)`` (``codeindex.progress``); the older
    three-argument form ``(done_files, total_files, path)`` sees the files phase only.
    An existing ``name`` is re-indexed from its own source: ``path`` must be that source, unless
    ``replace`` points the repository at ``path`` from now on (its old clone and its credential,
    which belonged to the old source, are dropped; settings, groups and webhook stay). ``branch``
    (git sources only; "" = the remote's default; None keeps the repository's) is the branch this
    job and later syncs fetch, as for ``start_index_job``.
    Raises ``SourceNotFound``, ``InvalidRepositoryName``, ``RepositoryExists`` (another source),
    ``JobAlreadyRunning`` or ``CloneFailed``.
    """
    if embeddings not in ("now", "background", "skip"):
        raise InvalidArgument("embeddings must be now, background or skip")
    source = str(path) if is_git_url(str(path)) else str(local_root(path))
    if branch is not None:
        if not is_git_url(source):
            raise InvalidArgument("branch applies to git sources only")
        branch = valid_branch(branch) if branch else ""
    with transaction.atomic():  # a refused job leaves the repository's source as it was
        repository, created, old = _repository_for_indexing(name, source, access, replace=replace)
        if branch is not None and repository.branch != branch:
            repository.branch = branch
            repository.save(update_fields=["branch"])
        job = create_job(repository, JobKind.FULL, source, requested_by="command line")
    if old is not None:
        remove_clone(old)  # the old source's clone: the next fetch clones the new source afresh
    relay = _phase_relay(progress)
    follow_up = "none" if embeddings == "skip" else "queue"
    runner = IndexJobRunner(job.pk, relay, remote=False, follow_up=follow_up)  # the operator at the shell may index any source
    finished = runner.handle()
    if created and finished is not None and finished.status == JobStatus.FAILED:
        try:
            _forget_unborn(repository)
        except DatabaseError:  # e.g. the database that failed the job is still locked: report the job's error
            log.exception("removing repository %s after its failed first job failed", name)
    if runner.error is not None:
        raise runner.error
    report = _report_of(name, finished)
    queued = runner.follow_up_job
    if queued is not None and embeddings == "now":
        embedded = IndexJobRunner(queued.pk, relay, remote=False).handle()
        if embedded is not None:
            report.vectors_written = int(embedded.report.get("vectors_written", 0))
            report.embedding_error = str(embedded.report.get("embedding_error", "") or (embedded.message if embedded.status == "failed" else ""))
            report.duration_ms += int(embedded.report.get("duration_ms", 0))
            for phase, spent in (embedded.timings or {}).items():
                report.timings_ms[phase] = report.timings_ms.get(phase, 0) + spent
    elif queued is not None:
        report.embeddings_job = queued.pk
        dispatch_queued(queued.pk)
    return report


def name_for_source(source: str | Path) -> str:
    """The repository name a source suggests: a directory's own name, or a git URL's last path
    segment without ``.git`` (``https://host/org/shop.git``, ``git@host:org/shop.git``,
    ``file:///srv/git/shop.git``: "shop"). Not checked: indexing checks every name alike."""
    source = str(source).strip()
    if not is_git_url(source):
        return Path(source).expanduser().resolve().name
    path = urlsplit(source).path if "://" in source else source.split(":", 1)[1]
    last = path.rstrip("/").rsplit("/", 1)[-1]
    return last.removesuffix(".git")


def _forget_unborn(repository: Repository) -> None:
    """A repository this call created whose first job failed (its source could not be fetched:
    a wrong URL, an empty repository) is deleted with its clone: no agent lists an empty
    repository, no console shows it, no scheduled sync retries it. The caller still reports the
    error; a repository indexed before keeps its row when a later job fails."""
    from .maintenance import delete_repository  # maintenance builds on this module

    repository.refresh_from_db(fields=["last_indexed_at"])
    if repository.last_indexed_at is None:
        delete_repository(repository.name, access=SYSTEM)


def dispatch_queued(job_id: int) -> None:
    """Hand a job left queued to a Celery worker when a broker is configured; otherwise it waits
    for the server's worker thread (``worker.start``), which takes queued jobs when it starts."""
    if broker_configured():
        dispatch(job_id)


def _phase_relay(progress) -> Progress | None:
    if progress is None:
        return None
    try:
        params = inspect.signature(progress).parameters.values()
    except (TypeError, ValueError):
        return progress
    if len(params) != 3 or any(p.kind == p.VAR_POSITIONAL for p in params):
        return progress
    return lambda phase, done, total, p: progress(done, total, p) if phase == "files" else None


def _report_of(name: str, finished: IndexJob | None) -> IndexReport:
    report = IndexReport(repository=name)
    for key, value in (finished.report if finished else {}).items():
        if hasattr(report, key):
            setattr(report, key, [(e["path"], e["message"]) for e in value] if key == "errors" else value)
    return report


def start_index_job(source: str, name: str, *, access: RepositoryAccess, kind: str = JobKind.FULL,
                    paths: list[str] | None = None, requested_by: str = "", visibility: str | None = None,
                    groups: list[str] | None = None, branch: str | None = None,
                    queued: Callable[[JobInfo], None] | None = None) -> JobInfo:
    """Queue an index job and return it; ``worker.dispatch`` runs it once the row commits (a Celery
    worker, the server's own worker thread, else this thread before returning).

    ``queued``, if given, is called with the new job (as queued) once its row has committed and
    before it is dispatched, on this thread: a caller that follows the job's progress learns its id
    even when the job then runs in this very call. It is the only job of the call.

    ``source`` is a directory or git URL (``None``/"" re-uses the repository's own source);
    ``kind`` is full, changed_files (with ``paths``) or embeddings. A new repository gets
    ``visibility`` and ``groups``; an existing one keeps its settings. ``branch`` (git sources
    only; "" = the remote's default) sets the branch this job and later syncs fetch, so one URL
    can be indexed on several branches under several names. Raises
    ``RepositoryNotFound`` for an invisible repository, ``SourceNotAllowed`` (a path outside
    ``MCPRAG_SOURCE_ROOTS`` or a git URL ``source_policy`` refuses, given or recorded),
    ``SourceNotFound`` (no such directory, or no source given and none recorded),
    ``RepositoryExists`` (an existing repository given another source than its own) and
    ``JobAlreadyRunning``.
    """
    if kind not in JobKind.values:
        raise InvalidArgument(f"unknown job kind {kind!r}")
    repository = _existing_or_none(name, access)
    if not source:
        if repository is None:
            raise RepositoryNotFound(f"no repository named {name!r} is indexed")  # give a source to create it
        source = repository.source_url or repository.root_path
        if not source:  # an empty path would resolve to the server's working directory
            raise SourceNotFound(f"{name!r} has no recorded source (directory or git URL) to re-index from")
    if kind != JobKind.EMBEDDINGS:  # an embeddings job reads only the index, never the source
        source = check_source(source)  # before any row is written: a refused source leaves nothing
    if kind == JobKind.CHANGED_FILES:
        paths = normalize_paths(paths or [])
        if not paths:
            raise InvalidArgument("index_changed_files needs at least one path")
    if branch is not None:
        if not is_git_url(source):
            raise InvalidArgument("branch applies to git sources only")
        branch = valid_branch(branch) if branch else ""
    if repository is not None and kind != JobKind.EMBEDDINGS:
        recorded = repository.source_url or repository.root_path
        if recorded and not _same_source(recorded, source):
            raise already_indexed(name, recorded, access=access)
        if not recorded:
            _adopt(repository, source)
    repository = repository or _create_repository(name, source, visibility, groups)
    if branch is not None and repository.branch != branch:
        repository.branch = branch
        repository.save(update_fields=["branch"])
    job = create_job(repository, kind, source, paths=paths, requested_by=requested_by)

    def committed() -> None:
        try:
            if queued is not None:
                queued(job_info(job))
        finally:
            _dispatch(job.pk)

    transaction.on_commit(committed)
    return job_info(IndexJob.objects.select_related("repository").get(pk=job.pk))


def _dispatch(job_id: int) -> None:
    dispatch(job_id)


def jobs(*, access: RepositoryAccess, repository: str | None = None, limit: int = 20) -> list[JobInfo]:
    """Recent jobs on the repositories ``access`` sees, newest first."""
    rows = IndexJob.objects.select_related("repository").filter(access.repository_filter("repository__"))
    if repository is not None:
        rows = rows.filter(repository=visible_repository(repository, access))
    return [job_info(j) for j in rows.order_by("-created_at", "-id")[: max(1, min(limit, 200))]]


def job(job_id: int, *, access: RepositoryAccess) -> JobInfo:
    found = IndexJob.objects.select_related("repository").filter(access.repository_filter("repository__"), pk=job_id).first()
    if found is None:
        raise InvalidArgument(f"no index job {job_id} is visible to you")
    return job_info(found)


def _repository_for_indexing(name: str, source: str, access: RepositoryAccess, *,
                             replace: bool = False) -> tuple[Repository, bool, Repository | None]:
    """The repository ``name`` to index from ``source``, whether this call created it, and (when
    ``replace`` pointed it at ``source``) a copy of it as it was before, whose clone the caller removes."""
    existing = _existing_or_none(name, access)
    if existing is None:
        return _create_repository(name, source, None, None), True, None
    recorded = existing.source_url or existing.root_path
    if not recorded:
        _adopt(existing, source)
    if not recorded or _same_source(recorded, source):
        return existing, False, None
    if not replace:
        raise already_indexed(name, recorded, access=access)
    before = Repository(pk=existing.pk, name=existing.name, source_url=existing.source_url, root_path=existing.root_path)
    _point_at(existing, source)
    return existing, False, before


def already_indexed(name: str, source: str, *, access: RepositoryAccess = SYSTEM) -> RepositoryExists:
    """The refusal to index (or add) repository ``name``, indexed from ``source``, from another
    source: the one message of the command, the tools, the console and the operator API. A
    directory is named only to callers who see every repository (the shell, operators); others
    see what ``list_repositories`` shows them."""
    shown = without_credentials(source)[:300] if is_git_url(source) or access.all else "a directory on the server"
    return RepositoryExists(f"a repository named {name!r} is indexed already, from {shown}; "
                            "re-index it from that source, or choose another name")


def _same_source(recorded: str, given: str) -> bool:
    return _source_key(recorded) == _source_key(given)


def _source_key(source: str) -> tuple[str, str]:
    """``source`` in a form two spellings of one source share: a directory or ``file://`` path
    by its real path, another git URL without trailing slashes."""
    source = source.strip()
    if source.lower().startswith("file://"):
        return "git", os.path.realpath(unquote(urlsplit(source).path))
    if is_git_url(source):
        return "git", source.rstrip("/")
    return "directory", os.path.realpath(source)


def _adopt(repository: Repository, source: str) -> None:
    """A repository without a recorded source takes ``source`` as its own."""
    git = is_git_url(source)
    repository.source_url, repository.root_path = (source, "") if git else ("", source)
    repository.save(update_fields=["source_url", "root_path"])


def _point_at(repository: Repository, source: str) -> None:
    """Record ``source`` as the repository's source; what belonged to another source goes: the
    branch, indexed commit and sync state, and a private source's credential (never handed to
    another host)."""
    _adopt(repository, source)
    repository.branch, repository.indexed_commit, repository.indexed_dirty = "", "", False
    repository.sync_error, repository.sync_error_at, repository.sync_note = "", None, ""
    repository.credential_kind, repository.credential_sealed = "", ""
    repository.save(update_fields=["branch", "indexed_commit", "indexed_dirty", "sync_error", "sync_error_at", "sync_note",
                                   "credential_kind", "credential_sealed"])


def _existing_or_none(name: str, access: RepositoryAccess) -> Repository | None:
    _check_name(name)
    existing = Repository.objects.filter(name=name).first()
    if existing is not None and not Repository.objects.filter(access.repository_filter(), pk=existing.pk).exists():
        raise RepositoryNotFound(f"no repository named {name!r} is indexed")  # same words as unknown
    return existing


def _create_repository(name: str, source: str, visibility: str | None, groups: list[str] | None) -> Repository:
    visibility = visibility or (Visibility.GROUPS if groups else Visibility.EVERYONE)
    if visibility not in Visibility.values:
        raise InvalidArgument(f"visibility must be one of {', '.join(Visibility.values)}")
    if visibility == Visibility.GROUPS and not groups:
        raise InvalidArgument("a repository visible to groups needs at least one group")
    known = list(Group.objects.filter(name__in=groups or []))
    if len(known) != len(set(groups or [])):
        raise InvalidArgument("unknown group name in groups")
    repository, _ = Repository.objects.get_or_create(
        name=name, defaults={"root_path": "" if is_git_url(source) else source, "source_url": source if is_git_url(source) else "",
                             "visibility": visibility},
    )
    repository.groups.add(*known)
    return repository


def _check_name(name: str) -> None:
    if not isinstance(name, str):
        raise InvalidRepositoryName("the repository name must be text")
    try:
        validate_slug(name)
    except ValidationError:
        raise InvalidRepositoryName(f"repository name {name[:100]!r} is not valid: use letters, digits, '-' and '_' only") from None
    if len(name) > Repository._meta.get_field("name").max_length:
        raise InvalidRepositoryName(f"repository name {name[:20]!r}… is longer than 100 characters")


def job_info(j: IndexJob) -> JobInfo:
    return JobInfo(
        id=j.pk, repository=j.repository.name, kind=j.kind, status=j.status, source=j.source, files_done=j.files_done,
        files_total=j.files_total, chunks_done=j.chunks_done, chunks_total=j.chunks_total, current_path=j.current_path,
        message=j.message, error_count=len(j.errors), errors=j.errors[:20], timings_ms=j.timings, report=j.report,
        created_at=j.created_at, started_at=j.started_at, finished_at=j.finished_at, requested_by=j.requested_by,
        phase=j.phase, phases=j.phases or {},
    )
