"""Index jobs end to end: incremental re-index, truthful status while running, one active job
per repository, atomic per-file replacement under concurrent search, and a local git source."""

from __future__ import annotations

import subprocess
import threading
import time

import pytest
from django.db import OperationalError, connections

from codeindex import jobs as jobs_module
from codeindex.access import SYSTEM
from codeindex.choices import JobKind, JobStatus
from codeindex.exceptions import JobAlreadyRunning, SourceNotFound
from codeindex.models import Chunk, IndexJob, Repository, SourceFile
from codeindex.services import index_repository, job, search, start_index_job, status


@pytest.fixture(autouse=True)
def _eager_celery(settings, tmp_path):
    """Jobs run in-process even when REDIS_URL makes Celery non-eager (CI runs on Redis); queued
    jobs may index the test's own directories (MCPRAG_SOURCE_ROOTS)."""
    from mcprag_site.celery import app

    settings.MCPRAG_SOURCE_ROOTS = [str(tmp_path)]

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


def _run(source, name="repo", capture=None):
    """start_index_job as a caller does; Celery is eager, so the job runs on commit."""
    with capture(execute=True):
        info = start_index_job(str(source), name, access=SYSTEM)
    return job(info.id, access=SYSTEM)


def _paths(query, name="repo"):
    """Paths of the hits that really hold ``query`` (a fallback on its word parts may match others)."""
    return {h.path for h in search(query, access=SYSTEM, repository=name, max_results=50) if query in h.snippet}


@pytest.mark.django_db
def test_incremental_reindex_through_jobs_change_delete_rename(make_tree, django_capture_on_commit_callbacks):
    root = make_tree({
        "pkg/alpha.py": "def compute_walrus_total(items):\n    return sum(items)\n",
        "pkg/beta.py": "def render_penguin_badge(name):\n    return f'<b>{name}</b>'\n",
        "pkg/gamma.py": "def parse_narwhal_header(raw):\n    return raw.split(':', 1)\n",
    })
    first = _run(root, capture=django_capture_on_commit_callbacks)
    assert first.status == JobStatus.COMPLETE, first.message
    assert _paths("compute_walrus_total") == {"pkg/alpha.py"}

    # change: old text gone, new text found
    (root / "pkg/alpha.py").write_text("def compute_octopus_average(items):\n    return sum(items) / len(items)\n")
    # delete
    (root / "pkg/beta.py").unlink()
    # rename
    (root / "pkg/gamma.py").rename(root / "pkg/delta.py")
    second = _run(root, capture=django_capture_on_commit_callbacks)
    assert second.status == JobStatus.COMPLETE, second.message
    assert second.report["files_changed"] == 1 and second.report["files_deleted"] == 2 and second.report["files_new"] == 1

    assert _paths("compute_walrus_total") == set()
    assert _paths("compute_octopus_average") == {"pkg/alpha.py"}
    assert _paths("render_penguin_badge") == set()
    assert _paths("parse_narwhal_header") == {"pkg/delta.py"}

    repo = Repository.objects.get(name="repo")
    assert set(SourceFile.objects.filter(repository=repo).values_list("path", flat=True)) == {"pkg/alpha.py", "pkg/delta.py"}
    assert not Chunk.objects.filter(repository=repo, path__in=["pkg/beta.py", "pkg/gamma.py"]).exists()
    narwhal = [c for c in Chunk.objects.filter(repository=repo) if "parse_narwhal_header" in c.content]
    assert len(narwhal) == 1 and narwhal[0].path == "pkg/delta.py"  # renamed, not duplicated
    (row,) = status(access=SYSTEM)
    assert row.file_count == 2 and row.chunk_count == Chunk.objects.filter(repository=repo).count()


@pytest.mark.django_db
def test_a_running_job_is_reported_running_until_the_runner_returns(make_tree):
    root = make_tree({f"m{i}.py": f"def function_number_{i}():\n    return {i}\n" for i in range(5)})
    repo = Repository.objects.create(name="repo", root_path=str(root))
    created = jobs_module.create_job(repo, JobKind.FULL, str(root))
    assert job(created.pk, access=SYSTEM).status == JobStatus.QUEUED
    seen = []

    def progress(stage, done, total, path):
        seen.append((stage, done, total, job(created.pk, access=SYSTEM).status))

    finished = jobs_module.run_job(created.pk, progress)
    assert seen, "the progress callback was never called"
    assert {s for *_, s in seen} == {JobStatus.RUNNING}, seen
    # even the last callback (done == total: all work reported) sees "running"
    assert any(stage == "files" and done == total == 5 for stage, done, total, _ in seen)
    assert finished.status == JobStatus.COMPLETE
    assert job(created.pk, access=SYSTEM).status == JobStatus.COMPLETE
    assert job(created.pk, access=SYSTEM).finished_at is not None


@pytest.mark.django_db
def test_a_failing_job_ends_failed_not_complete(make_tree):
    root = make_tree({"a.py": "x = 1\n"})
    repo = Repository.objects.create(name="repo", root_path=str(root))
    created = jobs_module.create_job(repo, JobKind.FULL, str(root / "missing"))
    finished = jobs_module.run_job(created.pk)
    assert finished.status == JobStatus.FAILED and finished.message


@pytest.mark.django_db
def test_a_reindex_without_a_recorded_source_is_refused_not_run_on_the_working_directory(monkeypatch, tmp_path):
    (tmp_path / "secret.py").write_text("API_KEY = 'x'\n")
    monkeypatch.chdir(tmp_path)  # where an empty path would resolve to
    Repository.objects.create(name="repo", root_path="", source_url="")
    with pytest.raises(SourceNotFound, match="no recorded source"):
        start_index_job("", "repo", access=SYSTEM)
    assert not IndexJob.objects.exists()


@pytest.mark.django_db
def test_a_second_job_on_the_same_repository_is_refused_while_one_is_active(make_tree, django_capture_on_commit_callbacks):
    root = make_tree({"a.py": "def one():\n    return 1\n"})
    repo = Repository.objects.create(name="repo", root_path=str(root.resolve()))
    queued = jobs_module.create_job(repo, JobKind.FULL, str(root))
    with pytest.raises(JobAlreadyRunning):
        jobs_module.create_job(repo, JobKind.FULL, str(root))
    with pytest.raises(JobAlreadyRunning):
        start_index_job(str(root), "repo", access=SYSTEM)
    # running (claimed by this live process): still refused
    assert jobs_module.IndexJobRunner(queued.pk).start() is not None
    assert IndexJob.objects.get(pk=queued.pk).status == JobStatus.RUNNING
    with pytest.raises(JobAlreadyRunning):
        jobs_module.create_job(repo, JobKind.CHANGED_FILES, str(root), paths=["a.py"])
    with pytest.raises(JobAlreadyRunning):
        index_repository(root, "repo")
    assert IndexJob.objects.filter(repository=repo).count() == 1
    # another repository is not blocked
    other = Repository.objects.create(name="other", root_path=str(root.resolve()))
    assert jobs_module.create_job(other, JobKind.FULL, str(root)).status == JobStatus.QUEUED
    # once finished, a new job is accepted
    IndexJob.objects.filter(pk=queued.pk).update(status=JobStatus.COMPLETE)
    info = _run(root, capture=django_capture_on_commit_callbacks)
    assert info.status == JobStatus.COMPLETE


# -- atomic replacement under concurrent search ---------------------------------------------

def _version(tag: str) -> str:
    body = "\n\n".join(
        f"def {tag}_handler_{i}(request):\n    marker = 'zeppelin {tag}'\n    return marker * {i}\n" for i in range(6)
    )
    return body + "\n"


def _reindex_until_done(root, tag):
    """Re-index; on SQLite a write may meet the searcher's table lock, and the job then fails
    (atomically: nothing of it is written), so it is tried again, a bounded number of times."""
    for _ in range(50):
        try:
            index_repository(root, "repo")
        except (OperationalError, JobAlreadyRunning):
            pass
        IndexJob.objects.filter(status__in=[JobStatus.QUEUED, JobStatus.RUNNING]).update(status=JobStatus.FAILED)
        if Chunk.objects.filter(path="svc.py", content__contains=f"{tag}_handler").count() == 6:
            return
        time.sleep(0.005)
    raise AssertionError(f"could not re-index svc.py to version {tag}")


@pytest.mark.django_db(transaction=True)
def test_reindex_replaces_a_file_atomically_under_concurrent_search(make_tree):
    root = make_tree({"svc.py": _version("aaa"), "other.py": "def unrelated():\n    return 0\n"})
    index_repository(root, "repo")
    stop = threading.Event()
    problems: list[str] = []
    observed: set[str] = set()
    searches = 0

    def searcher():
        nonlocal searches
        try:
            deadline = time.monotonic() + 20
            while not stop.is_set() and time.monotonic() < deadline:
                found = search("zeppelin", access=SYSTEM, repository="repo", max_results=50)
                hits = [h for h in found if h.path == "svc.py"]
                searches += 1
                tags = {("aaa" if "aaa_handler" in h.snippet else "bbb" if "bbb_handler" in h.snippet else "?") for h in hits}
                if not hits:
                    problems.append("empty result for svc.py")
                elif len(tags) != 1 or "?" in tags:
                    problems.append(f"mixed versions: {sorted(tags)}")
                elif len(hits) != 6:
                    problems.append(f"{len(hits)} chunks instead of 6")
                else:
                    observed.update(tags)
        except Exception as exc:  # report in the main thread
            problems.append(f"search raised {exc!r}")
        finally:
            connections.close_all()

    thread = threading.Thread(target=searcher)
    thread.start()
    try:
        for n in range(8):
            tag = "bbb" if n % 2 == 0 else "aaa"
            (root / "svc.py").write_text(_version(tag))
            _reindex_until_done(root, tag)
    finally:
        stop.set()
        thread.join(30)
    assert not thread.is_alive()
    assert searches > 0
    assert problems == [], problems[:5]
    assert Chunk.objects.filter(path="svc.py").count() == 6


# -- a local git repository as the source ---------------------------------------------------

def _git(cwd, *args):
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args], cwd=cwd, check=True,
                   capture_output=True, text=True)


@pytest.mark.django_db
def test_a_local_git_repository_is_cloned_indexed_and_refreshed(tmp_path, make_tree, settings, django_capture_on_commit_callbacks):
    settings.MCPRAG_CLONE_DIR = tmp_path / "clones"
    origin = make_tree({"lib/core.py": "def original_albatross_routine():\n    return 1\n", "README.md": "# Demo\n"}, name="origin")
    _git(origin, "init", "-q", "-b", "main")
    _git(origin, "add", ".")
    _git(origin, "commit", "-q", "-m", "first")
    url = origin.resolve().as_uri()
    assert url.startswith("file://")

    first = _run(url, name="gitrepo", capture=django_capture_on_commit_callbacks)
    assert first.status == JobStatus.COMPLETE, first.message
    assert _paths("original_albatross_routine", "gitrepo") == {"lib/core.py"}
    repo = Repository.objects.get(name="gitrepo")
    assert repo.source_url == url and repo.file_count == 2
    assert (tmp_path / "clones" / "gitrepo" / "lib/core.py").exists()

    (origin / "lib/core.py").write_text("def revised_pelican_routine():\n    return 2\n")
    (origin / "lib/extra.py").write_text("def brand_new_cormorant():\n    return 3\n")
    _git(origin, "add", ".")
    _git(origin, "commit", "-q", "-m", "second")

    with django_capture_on_commit_callbacks(execute=True):
        info = start_index_job("", "gitrepo", access=SYSTEM)  # re-uses the stored source URL
    second = job(info.id, access=SYSTEM)
    assert second.status == JobStatus.COMPLETE, second.message
    assert _paths("original_albatross_routine", "gitrepo") == set()
    assert _paths("revised_pelican_routine", "gitrepo") == {"lib/core.py"}
    assert _paths("brand_new_cormorant", "gitrepo") == {"lib/extra.py"}
    assert Repository.objects.get(name="gitrepo").file_count == 3
