"""Git repositories stay fresh: each records its branch and indexed commit, a sync re-indexes only
the paths git's diff names, a force-push re-indexes the whole tree with no stale chunk left, sync
failures are recorded on the repository, the scheduler honours each interval, and deleting a
repository deletes its clone. Real ``file://`` bare repositories throughout."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from codeindex import services, sync
from codeindex.access import SYSTEM
from codeindex.exceptions import InvalidArgument
from codeindex.models import Chunk, IndexJob, Repository, SourceFile
from tests.support.git_repos import Remote, git

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("eager_jobs")]


@pytest.fixture
def remote(tmp_path, settings):
    settings.MCPRAG_SOURCE_ROOTS = [str(tmp_path)]
    settings.MCPRAG_CLONE_DIR = str(tmp_path / "clones")
    files = {f"pkg/mod_{i}.py": f"def function_number_{i}():\n    return {i}\n" for i in range(30)}
    files["README.md"] = "# shop\n"
    return Remote(tmp_path / "remote", files)


def _index(remote, name="shop"):
    services.start_index_job(remote.url, name, access=SYSTEM)
    return Repository.objects.get(name=name)


def test_a_git_repository_records_its_branch_commit_and_fetch_time(remote):
    repository = _index(remote)
    assert repository.branch == "main" and repository.indexed_commit == remote.head()
    assert repository.fetched_at is not None and repository.sync_error == ""
    listed = services.list_repositories(access=SYSTEM)[0]
    assert listed.indexed_commit == remote.head()
    clone = repository.root_path
    assert git(clone, "config", "remote.origin.partialclonefilter").strip() == "blob:none"
    assert git(clone, "rev-parse", "--is-shallow-repository").strip() in ("true", "false")


def test_the_same_url_on_another_branch_is_another_repository(remote):
    git(remote.work, "checkout", "-q", "-b", "release")
    release = remote.commit("release only", {"pkg/release_notes.py": "def release_banner():\n    pass\n"})
    git(remote.work, "push", "-q", "origin", "release")
    git(remote.work, "checkout", "-q", "main")
    main = _index(remote)
    Repository.objects.create(name="shop-release", root_path="", source_url=remote.url, branch="release")
    services.start_index_job("", "shop-release", access=SYSTEM)
    other = Repository.objects.get(name="shop-release")
    assert other.indexed_commit == release != main.indexed_commit
    assert SourceFile.objects.filter(repository=other, path="pkg/release_notes.py").exists()
    assert not SourceFile.objects.filter(repository=main, path="pkg/release_notes.py").exists()


def test_index_job_takes_the_branch_for_a_second_entry_of_the_same_url(remote):
    git(remote.work, "checkout", "-q", "-b", "release")
    release = remote.commit("release only", {"pkg/release_notes.py": "def release_banner():\n    pass\n"})
    git(remote.work, "push", "-q", "origin", "release")
    git(remote.work, "checkout", "-q", "main")
    main = _index(remote)
    services.start_index_job(remote.url, "shop-release", access=SYSTEM, branch="release")
    other = Repository.objects.get(name="shop-release")
    assert other.branch == "release" and other.indexed_commit == release != main.indexed_commit
    assert SourceFile.objects.filter(repository=other, path="pkg/release_notes.py").exists()
    with pytest.raises(InvalidArgument):
        services.start_index_job(remote.url, "shop-bad", access=SYSTEM, branch="--upload-pack=evil")
    assert not Repository.objects.filter(name="shop-bad").exists()


def test_a_sync_reindexes_only_the_files_git_says_changed(remote):
    repository = _index(remote)
    remote.commit("touch one", {"pkg/mod_3.py": "def renamed_three():\n    return 3\n", "pkg/mod_4.py": None})
    head = remote.push()
    job_id = services.sync_now("shop", requested_by="test")
    job = IndexJob.objects.get(pk=job_id)
    repository.refresh_from_db()
    assert job.status == "complete", job.message
    assert repository.indexed_commit == head
    assert job.files_total == 1  # the one changed file still there (the other is deleted), not the 31 of the tree
    assert job.report["files_changed"] == 1 and job.report["files_deleted"] == 1
    assert "2 files changed" in repository.sync_note
    assert Chunk.objects.filter(repository=repository, content__contains="renamed_three").exists()
    assert not Chunk.objects.filter(repository=repository, path="pkg/mod_4.py").exists()


def test_a_sync_with_nothing_new_changes_nothing(remote):
    repository = _index(remote)
    generation = repository.generation
    job = IndexJob.objects.get(pk=services.sync_now("shop", requested_by="test"))
    repository.refresh_from_db()
    assert job.status == "complete" and "up to date" in repository.sync_note
    assert repository.generation == generation


def test_a_force_push_triggers_a_full_resync_with_no_stale_chunk(remote):
    repository = _index(remote)
    remote.commit("doomed", {"pkg/doomed.py": "def doomed_function_xyz():\n    pass\n"})
    remote.push()
    services.sync_now("shop", requested_by="test")
    assert Chunk.objects.filter(content__contains="doomed_function_xyz").exists()
    git(remote.work, "reset", "-q", "--hard", "HEAD~1")  # rewrite history: the doomed commit is gone
    rewritten = remote.commit("rewritten", {"pkg/fresh.py": "def fresh_function_abc():\n    pass\n"})
    remote.push(force=True)
    job = IndexJob.objects.get(pk=services.sync_now("shop", requested_by="test"))
    repository.refresh_from_db()
    assert job.status == "complete", job.message
    assert "force-push" in repository.sync_note and repository.indexed_commit == rewritten
    assert not Chunk.objects.filter(content__contains="doomed_function_xyz").exists()
    assert not SourceFile.objects.filter(path="pkg/doomed.py").exists()
    assert Chunk.objects.filter(content__contains="fresh_function_abc").exists()


def test_a_failed_sync_is_recorded_on_the_repository(remote):
    repository = _index(remote)
    git(remote.bare, "branch", "-q", "-m", "main", "renamed")  # the indexed branch is gone from the remote
    job = IndexJob.objects.get(pk=services.sync_now("shop", requested_by="test"))
    repository.refresh_from_db()
    assert job.status == "failed"
    assert repository.sync_error.startswith("sync failed: git failed") and repository.sync_error_at is not None
    assert repository.indexed_commit  # the index still answers from the last good commit


def test_a_sync_that_cannot_start_is_recorded_too(remote):
    repository = _index(remote)
    remote.bare.rename(remote.bare.with_name("moved.git"))
    assert services.sync_now("shop", requested_by="test") is None
    repository.refresh_from_db()
    assert repository.sync_error.startswith("sync not started:") and "no such directory" in repository.sync_error


def test_the_scheduler_syncs_each_repository_at_its_interval(remote):
    repository = _index(remote)
    Repository.objects.filter(pk=repository.pk).update(sync_attempted_at=timezone.now(), sync_interval_minutes=10)
    assert sync.sync_due() == 0  # not due yet
    assert sync.sync_due(now=timezone.now() + timedelta(minutes=11)) == 1
    Repository.objects.filter(pk=repository.pk).update(sync_interval_minutes=0)
    assert sync.sync_due(now=timezone.now() + timedelta(days=1)) == 0  # 0 = never


def test_deleting_a_repository_deletes_its_clone_and_history(remote):
    repository = _index(remote)
    clone = repository.root_path
    services.delete_repository("shop", access=SYSTEM)
    import os

    assert not os.path.exists(clone)


def test_a_sync_lists_only_changed_paths_and_still_honours_ignore_rules(remote):
    remote.commit("ignore build output", {".gitignore": "build/\nscratch_*.py\n"})
    remote.push()
    repository = _index(remote)
    remote.commit("changes", {"build/out.py": "def built_artifact_qq():\n    pass\n", "pkg/scratch_one.py": "def logged_qq():\n    pass\n",
                              "pkg/new_mod.py": "def brand_new_qq():\n    pass\n"}, add_ignored=True)  # tracked, yet ignored
    remote.push()
    job = IndexJob.objects.get(pk=services.sync_now("shop", requested_by="test"))
    assert job.status == "complete" and job.files_total == 1  # only pkg/new_mod.py: the others are ignored
    assert Chunk.objects.filter(repository=repository, content__contains="brand_new_qq").exists()
    assert not Chunk.objects.filter(content__contains="built_artifact_qq").exists()
    assert not Chunk.objects.filter(content__contains="logged_qq").exists()
    remote.commit("stop ignoring logs", {".gitignore": "build/\n"})
    remote.push()
    services.sync_now("shop", requested_by="test")
    repository.refresh_from_db()
    assert "ignore rules changed" in repository.sync_note  # a rule change re-walks the whole tree
    assert Chunk.objects.filter(content__contains="logged_qq").exists()


def test_a_clone_made_before_partial_clones_still_syncs(remote):
    repository = _index(remote)
    import shutil

    shutil.rmtree(repository.root_path)
    git(remote.work.parent, "clone", "-q", "--depth", "1", remote.url, repository.root_path)  # how clones were made before
    remote.commit("after the upgrade", {"pkg/mod_1.py": "def upgraded_one():\n    return 1\n"})
    head = remote.push()
    job = IndexJob.objects.get(pk=services.sync_now("shop", requested_by="test"))
    repository.refresh_from_db()
    assert job.status == "complete", job.message
    assert repository.indexed_commit == head and "1 file changed" in repository.sync_note


def test_celery_beat_runs_the_sync_scheduler_every_minute(settings):
    from mcprag_site.celery import app

    entry = next(e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == "codeindex.sync_due")
    app.loader.import_default_modules()  # what a worker does when it starts (autodiscovery), whatever this process imported
    assert entry["schedule"] == 60 and "codeindex.sync_due" in app.tasks


@pytest.fixture
def server_worker(settings):
    """The embedded default: no broker, and the server's worker thread running (periodic tasks on)."""
    from celery import current_app

    from codeindex import worker

    before = current_app.conf.task_always_eager
    current_app.conf.task_always_eager = True
    settings.MCPRAG_PERIODIC_TASKS = True
    worker._periodic_last_run.clear()
    yield worker
    worker.stop()
    worker._periodic_last_run.clear()
    current_app.conf.task_always_eager = before


def _wait_for(predicate, seconds=60.0):
    import time

    deadline = time.monotonic() + seconds
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.2)
    return predicate()


def test_without_a_broker_the_server_worker_thread_syncs_a_repository_that_is_due(remote, server_worker):
    repository = _index(remote)
    remote.commit("while nobody watched", {"pkg/mod_3.py": "def rewritten_three():\n    return 3\n"})
    head = remote.push()
    Repository.objects.filter(pk=repository.pk).update(sync_attempted_at=timezone.now() - timedelta(minutes=11))

    assert server_worker.start()
    assert _wait_for(lambda: Repository.objects.get(pk=repository.pk).indexed_commit == head)
    job = IndexJob.objects.filter(repository=repository, kind="sync").get()
    assert job.requested_by == "scheduled sync" and job.status == "complete", job.message
    assert Chunk.objects.filter(repository=repository, content__contains="rewritten_three").exists()


def test_the_worker_runs_each_periodic_task_again_only_when_its_schedule_is_due(remote, server_worker, settings):
    from codeindex.worker import run_due_periodic

    settings.CELERY_BEAT_SCHEDULE = {"sync-due-repositories": {"task": "codeindex.sync_due", "schedule": 60}}
    repository = _index(remote)
    Repository.objects.filter(pk=repository.pk).update(sync_attempted_at=timezone.now() - timedelta(minutes=11))
    assert run_due_periodic() == ["sync-due-repositories"]  # never run in this process: runs at once
    assert IndexJob.objects.filter(repository=repository, kind="sync", status="complete").count() == 1
    Repository.objects.filter(pk=repository.pk).update(sync_attempted_at=timezone.now() - timedelta(minutes=11))
    assert run_due_periodic() == []  # its 60 s have not passed
    server_worker._periodic_last_run["sync-due-repositories"] -= timedelta(seconds=61)
    assert run_due_periodic() == ["sync-due-repositories"]
    assert IndexJob.objects.filter(repository=repository, kind="sync", status="complete").count() == 2
    settings.MCPRAG_PERIODIC_TASKS = False
    server_worker._periodic_last_run.clear()
    assert run_due_periodic() == []


def test_a_periodic_task_that_fails_is_logged_and_the_others_still_run(server_worker, settings, caplog):
    from codeindex.worker import run_due_periodic

    settings.CELERY_BEAT_SCHEDULE = {
        "broken": {"task": "codeindex.sync_due", "schedule": 60, "args": ("not a datetime",)},
        "abandoned": {"task": "codeindex.fail_abandoned_jobs", "schedule": 60},
    }
    repository = Repository.objects.create(name="lost", root_path="/nowhere")
    lost = IndexJob.objects.create(repository=repository, kind="full", source="/nowhere", status="running",
                                   worker="another-host:1", heartbeat_at=timezone.now() - timedelta(hours=1))
    assert run_due_periodic() == ["broken", "abandoned"]
    assert "periodic task broken (codeindex.sync_due) failed" in caplog.text
    lost.refresh_from_db()
    assert lost.status == "failed" and "worker stopped" in lost.message
