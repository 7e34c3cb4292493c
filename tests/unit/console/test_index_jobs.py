"""Repositories and index jobs in the console: re-index (POST, logged, refused clearly), the job
list and page, ``progress.json`` numbers, per-file errors, and the polling script."""

from __future__ import annotations

import os
import shutil
from datetime import timedelta
from http import HTTPStatus

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from codeindex import services
from codeindex.choices import JobKind, JobStatus
from codeindex.models import IndexJob, Repository
from console.index_jobs import duration_text, percent_done, progress_document
from console.models import OperatorAction

pytestmark = pytest.mark.django_db

NEW_URLS = ["console:job-list", "console:job-detail", "console:job-progress", "console:repository-reindex"]


def _url(name: str, repository) -> str:
    kwargs = {"job-detail": {"pk": repository.job.id}, "job-progress": {"pk": repository.job.id},
              "repository-reindex": {"name": repository.name}}.get(name.split(":")[1], {})
    return reverse(name, kwargs=kwargs)


def _jobs(name="tiny"):
    return services.jobs(access=services.SYSTEM, repository=name)


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _running_job(repository, **progress) -> IndexJob:
    """A job the runner has claimed and is part-way through (as a worker leaves it between writes)."""
    return IndexJob.objects.create(
        repository=Repository.objects.get(name=repository.name), kind=JobKind.FULL, source=str(repository.root),
        status=JobStatus.RUNNING, started_at=timezone.now() - timedelta(seconds=3), heartbeat_at=timezone.now(),
        worker="elsewhere:1", **progress)


# -- permissions ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NEW_URLS)
@pytest.mark.parametrize("method", ["get", "post"])
def test_a_person_who_is_not_an_operator_gets_403_on_the_job_pages(client, person, repository, name, method):
    client.force_login(person)
    response = getattr(client, method)(_url(name, repository))
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert len(_jobs()) == 1 and not OperatorAction.objects.exists()  # the refused POST started nothing


def test_get_on_the_reindex_url_is_refused_and_starts_nothing(operator_client, repository):
    response = operator_client.get(_url("console:repository-reindex", repository))
    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert response["Allow"] == "POST"
    assert len(_jobs()) == 1 and not OperatorAction.objects.exists()


# -- re-index ---------------------------------------------------------------------------------


def test_reindex_creates_a_job_and_logs_who_started_it(operator, operator_client, repository):
    response = operator_client.post(_url("console:repository-reindex", repository))
    newest = _jobs()[0]
    assert newest.id != repository.job.id and newest.kind == JobKind.FULL and newest.status == JobStatus.QUEUED
    assert newest.source == str(repository.root.resolve())  # the repository's recorded source
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == reverse("console:job-detail", kwargs={"pk": newest.id})
    assert _messages(response) == [f"Re-index of tiny started as job {newest.id} (queued)."]
    (action,) = OperatorAction.objects.all()
    assert action.kind == OperatorAction.Kind.REINDEX_STARTED
    assert (action.operator, action.operator_username) == (operator, "olga")
    assert action.detail == {"repository": "tiny", "job": newest.id, "kind": "full"}
    assert IndexJob.objects.get(pk=newest.id).requested_by == "olga via console"


def test_reindex_runs_incrementally_and_the_job_page_shows_the_outcome(operator_client, repository, django_capture_on_commit_callbacks):
    (repository.root / "pkg" / "walrus.py").write_text("def compute_octopus_average(items):\n    return sum(items) / len(items)\n")
    with django_capture_on_commit_callbacks(execute=True):  # the test's transaction never commits: run the job now
        response = operator_client.post(_url("console:repository-reindex", repository))
    job = _jobs()[0]
    assert job.status == JobStatus.COMPLETE, job.message
    assert (job.report["files_changed"], job.report["files_unchanged"], job.report["files_new"]) == (1, 1, 0)
    html = operator_client.get(response["Location"]).content.decode()
    assert 'id="job-status" data-field="status">Complete</span>' in html
    assert 'value="100"' in html and "2 / 2" in html and "Every file was read." in html
    assert "olga" in html  # requested by
    assert [h.path for h in services.search("compute_octopus_average", access=services.SYSTEM, repository="tiny")][:1] == ["pkg/walrus.py"]


@pytest.mark.django_db(transaction=True)
def test_with_eager_celery_the_job_has_run_before_the_redirect(operator_client, repository):
    """The embedded default: the job is dispatched when the view's transaction commits and runs
    in-process, so the page it lands on already shows the outcome."""
    response = operator_client.post(_url("console:repository-reindex", repository), follow=True)
    job = _jobs()[0]
    assert job.status == JobStatus.COMPLETE and job.id != repository.job.id
    assert _messages(response) == [f"Re-index of tiny started as job {job.id} (finished: complete)."]
    assert 'id="job-status" data-field="status">Complete</span>' in response.content.decode()
    assert OperatorAction.objects.get().detail["job"] == job.id


def test_reindex_is_refused_while_a_job_for_the_repository_is_running(operator_client, repository):
    running = _running_job(repository, files_done=1, files_total=2)
    response = operator_client.post(_url("console:repository-reindex", repository))
    assert response.status_code == HTTPStatus.FOUND and response["Location"] == reverse("console:repository-list")
    assert _messages(response) == [f"Re-index not started: job {running.pk} for 'tiny' is still running; "
                                   "start a re-index when it has ended."]
    assert [j.id for j in _jobs()] == [running.pk, repository.job.id]
    assert not OperatorAction.objects.exists()
    page = operator_client.get(reverse("console:repository-list")).content.decode()
    assert "is still running" in page  # the flash message is shown on the page it lands on


def test_reindex_is_refused_when_the_source_directory_is_gone(operator_client, repository):
    shutil.rmtree(repository.root)
    response = operator_client.post(_url("console:repository-reindex", repository))
    assert response.status_code == HTTPStatus.FOUND and response["Location"] == reverse("console:repository-list")
    (message,) = _messages(response)
    assert message.startswith("Re-index not started: cannot index ") and "no such directory" in message
    assert len(_jobs()) == 1 and not OperatorAction.objects.exists()


def test_reindex_of_a_directory_outside_the_source_roots_is_refused(operator_client, repository, settings, tmp_path):
    """Indexed at the shell (not limited), but a re-index from the console obeys MCPRAG_SOURCE_ROOTS."""
    settings.MCPRAG_SOURCE_ROOTS = [str(tmp_path / "elsewhere")]
    response = operator_client.post(_url("console:repository-reindex", repository))
    (message,) = _messages(response)
    assert message.startswith("Re-index not started: cannot index ") and "MCPRAG_SOURCE_ROOTS" in message
    assert len(_jobs()) == 1 and not OperatorAction.objects.exists()


def test_reindex_is_refused_when_no_source_is_recorded(operator_client, repository):
    Repository.objects.filter(name="tiny").update(root_path="", source_url="")
    response = operator_client.post(_url("console:repository-reindex", repository))
    assert _messages(response) == ["Re-index not started: 'tiny' has no recorded source (directory or git URL) to re-index from."]
    assert len(_jobs()) == 1 and not OperatorAction.objects.exists()


def test_reindex_of_an_unknown_repository_is_refused_not_a_500(operator_client, repository):
    response = operator_client.post(reverse("console:repository-reindex", kwargs={"name": "no-such-repo"}))
    assert response.status_code == HTTPStatus.FOUND
    assert _messages(response) == ["Re-index not started: no repository named 'no-such-repo' is indexed."]


# -- progress.json ----------------------------------------------------------------------------


def test_progress_json_of_a_running_job(operator_client, repository):
    running = _running_job(repository, files_done=3, files_total=8, chunks_done=0, chunks_total=0, current_path="pkg/walrus.py",
                           phase="files", phases={"files": {"done": 3, "total": 8}})
    response = operator_client.get(reverse("console:job-progress", kwargs={"pk": running.pk}))
    assert response.status_code == HTTPStatus.OK and response["Content-Type"] == "application/json"
    assert "no-cache" in response["Cache-Control"] and "no-store" in response["Cache-Control"]
    doc = response.json()
    assert {k: doc[k] for k in ("id", "repository", "kind", "status", "finished", "files_done", "files_total", "percent",
                                "current_path", "error_count", "errors", "finished_at")} == {
        "id": running.pk, "repository": "tiny", "kind": "full", "status": "running", "finished": False, "files_done": 3,
        "files_total": 8, "percent": 9, "current_path": "pkg/walrus.py", "error_count": 0, "errors": [], "finished_at": None}
    assert 3000 <= doc["duration_ms"] < 60_000
    assert doc["display"]["status"] == "Running" and doc["display"]["files"] == "3 / 8" and doc["display"]["percent"] == "9 %"
    assert doc["display"]["phase"] == "Reading files (phase 1 of 2)" and doc["display"]["phase_files"] == "3 / 8 files · running"


def test_progress_json_of_a_finished_job_with_per_file_errors(operator_client, repository, django_capture_on_commit_callbacks):
    os.symlink(repository.root / "missing.py", repository.root / "dangling.py")
    (repository.root / os.fsdecode(b"caf\xe9.py")).write_text("y = 2\n")
    with django_capture_on_commit_callbacks(execute=True):
        operator_client.post(_url("console:repository-reindex", repository))
    job = _jobs()[0]
    doc = operator_client.get(reverse("console:job-progress", kwargs={"pk": job.id})).json()
    assert (doc["status"], doc["finished"], doc["percent"], doc["error_count"]) == ("complete", True, 100, 2)
    assert sorted(doc["errors"], key=lambda e: e["path"]) == [
        {"path": "caf\\udce9.py", "message": "file name is not valid UTF-8"},
        {"path": "dangling.py", "message": "cannot read: No such file or directory"},
    ]
    assert doc["display"]["errors_note"] == "2 files could not be indexed:"
    html = operator_client.get(reverse("console:job-detail", kwargs={"pk": job.id})).content.decode()
    assert "<tr><td><code>dangling.py</code></td><td>cannot read: No such file or directory</td></tr>" in html
    assert 'id="job-error-count">2</span>' in html


def test_progress_json_of_a_missing_job_is_404(operator_client, repository):
    assert operator_client.get(reverse("console:job-progress", kwargs={"pk": 99999})).status_code == HTTPStatus.NOT_FOUND
    assert operator_client.get(reverse("console:job-detail", kwargs={"pk": 99999})).status_code == HTTPStatus.NOT_FOUND


def test_per_file_errors_are_paginated_with_their_count(operator_client, repository):
    errors = [{"path": f"bad/{i:03d}.py", "message": "cannot read: Permission denied"} for i in range(120)]
    row = IndexJob.objects.create(repository=Repository.objects.get(name="tiny"), kind=JobKind.FULL, source="/x",
                                  status=JobStatus.FAILED, started_at=timezone.now(), finished_at=timezone.now(),
                                  errors=errors[:20], report={"errors": errors}, message="stopped")
    url = reverse("console:job-detail", kwargs={"pk": row.pk})
    first = operator_client.get(url).content.decode()
    assert "bad/049.py" in first and "bad/050.py" not in first and "1–50 of 120" in first and "120 files could not be indexed" in first
    third = operator_client.get(url, {"errors_page": 3}).content.decode()
    assert "bad/119.py" in third and "bad/099.py" not in third and "101–120 of 120" in third
    assert "data-errors" not in third  # polling appends to the first page only
    assert len(operator_client.get(reverse("console:job-progress", kwargs={"pk": row.pk})).json()["errors"]) == 50


# -- lists ------------------------------------------------------------------------------------


def test_repository_list_shows_visibility_counts_latest_job_and_a_reindex_form(operator_client, repository):
    running = _running_job(repository, files_done=1, files_total=4)
    html = operator_client.get(reverse("console:repository-list")).content.decode()
    assert '<span class="badge">everyone</span>' in html
    assert f'data-progress-url="/console/jobs/{running.pk}/progress.json" data-finished="false" data-status="running"' in html
    assert f'<a href="/console/jobs/{running.pk}/">job {running.pk}</a>' in html and "1 / 4" in html
    assert 'action="/console/repositories/tiny/reindex/"' in html and "csrfmiddlewaretoken" in html
    assert 'href="/console/jobs/?repository=tiny"' in html


def test_repository_list_shows_repositories_of_every_visibility(operator_client, repository):
    Repository.objects.filter(name="tiny").update(visibility="groups")
    html = operator_client.get(reverse("console:repository-list")).content.decode()
    assert '<span class="badge">groups</span>' in html and "<strong>tiny</strong>" in html


def test_job_list_filters_by_repository_and_status_and_names_who_started_a_job(operator_client, repository, tmp_path):
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "a.py").write_text("x = 1\n")
    services.index_repository(tmp_path / "other", "other")
    operator_client.post(_url("console:repository-reindex", repository))  # queued: on_commit never fires in this test
    listed = lambda **q: [(j["repository"], j["status"]) for j, _ in operator_client.get(reverse("console:job-list"), q).context["rows"]]  # noqa: E731
    assert listed() == [("tiny", "queued"), ("other", "complete"), ("tiny", "complete")]
    assert listed(repository="tiny") == [("tiny", "queued"), ("tiny", "complete")]
    assert listed(status="complete") == [("other", "complete"), ("tiny", "complete")]
    assert listed(repository="no-such-repo") == listed()  # an unknown name is ignored, like any bad filter
    rows = operator_client.get(reverse("console:job-list")).context["rows"]
    assert [who for _, who in rows] == ["olga via console", "command line", "command line"]


def test_job_pages_are_in_the_console_navigation(operator_client, repository):
    html = operator_client.get(reverse("console:repository-list")).content.decode()
    assert '<a href="/console/jobs/" >Index jobs</a>' in html
    page = operator_client.get(reverse("console:job-list")).content.decode()
    assert '<a href="/console/jobs/" aria-current="page">Index jobs</a>' in page


def test_the_operator_action_log_links_the_job(operator_client, repository):
    operator_client.post(_url("console:repository-reindex", repository))
    job = _jobs()[0]
    html = operator_client.get(reverse("console:operatoraction-list")).content.decode()
    assert f'<a href="/console/jobs/{job.id}/">job {job.id}</a> of tiny' in html and "Re-index started" in html


# -- the numbers and the script ---------------------------------------------------------------


def _info(**fields):
    base = dict(id=1, repository="r", kind="full", status=JobStatus.RUNNING, source="/r", files_done=0, files_total=0,
                chunks_done=0, chunks_total=0, current_path="", message="", error_count=0, errors=[], timings_ms={},
                report={}, created_at=timezone.now(), started_at=None, finished_at=None)
    return services.JobInfo(**{**base, **fields})


@pytest.mark.parametrize(("fields", "percent"), [
    ({"status": JobStatus.QUEUED}, 0),
    ({"phase": "files", "phases": {"files": {"done": 1, "total": 3}}}, 8),  # files weigh 25 of 100
    ({"phase": "chunks", "phases": {"files": {"done": 10, "total": 10}, "chunks": {"done": 0, "total": 4}}}, 25),
    ({"phase": "chunks", "phases": {"files": {"done": 10, "total": 10}, "chunks": {"done": 2, "total": 4}}}, 62),
    ({"phase": "chunks", "phases": {"files": {"done": 10, "total": 10}, "chunks": {"done": 4, "total": 4}}}, 99),  # not "done" yet
    ({"status": JobStatus.FAILED, "phase": "chunks", "phases": {"files": {"done": 10, "total": 10}, "chunks": {"done": 1, "total": 4}}}, 43),
    ({"kind": "embeddings", "phase": "embeddings", "phases": {"embeddings": {"done": 5, "total": 10}}}, 50),
    ({"files_done": 1, "files_total": 3}, 8),  # a row written before phases were recorded
    ({"status": JobStatus.COMPLETE, "files_done": 0, "files_total": 0}, 100),
])
def test_percent_done(fields, percent):
    assert percent_done(_info(**fields)) == percent


def test_percent_only_moves_forward_through_the_phases():
    """Files then chunks, each total known when its phase starts: the figure never goes back
    (it went 0 → 99 → 28 when files and chunks were counted together)."""
    states = [({"phase": "files", "phases": {"files": {"done": d, "total": 300}}}) for d in range(0, 301, 50)]
    states += [({"phase": "chunks", "phases": {"files": {"done": 300, "total": 300}, "chunks": {"done": d, "total": 40}}})
               for d in range(0, 41, 8)]
    figures = [percent_done(_info(**fields)) for fields in states] + [percent_done(_info(status=JobStatus.COMPLETE, **states[-1]))]
    assert figures == sorted(figures) and figures[0] == 0 and figures[-1] == 100 and len(set(figures)) > 8
    rows = progress_document(_info(**states[8]))["phases"]
    assert [(r["name"], r["state"]) for r in rows] == [("files", "done"), ("chunks", "running")]


def test_duration_while_running_and_after():
    started = timezone.now() - timedelta(seconds=90)
    assert progress_document(_info(started_at=started), now=started + timedelta(seconds=90))["display"]["duration"] == "1 min 30 s"
    done = _info(status=JobStatus.COMPLETE, started_at=started, finished_at=started + timedelta(milliseconds=2500))
    assert progress_document(done)["duration_ms"] == 2500 and progress_document(done)["display"]["duration"] == "2.5 s"
    assert progress_document(_info())["duration_ms"] is None and progress_document(_info())["display"]["duration"] == "—"
    assert [duration_text(ms) for ms in (850, 7_300_000)] == ["850 ms", "2 h 01 min"]


def test_console_script_polls_progress_until_the_job_finishes(operator_client):
    script = operator_client.get(reverse("console:script")).content.decode()
    assert "[data-progress-url][data-finished='false']" in script
    assert "tbody[data-errors]" in script and "if (!doc.finished) window.setTimeout(tick, delay)" in script


def test_jobs_started_outside_the_console_name_who_started_them(operator_client, repository):
    """The first job of the fixture came from ``index_repository`` (the ``index_repo`` command)."""
    html = operator_client.get(reverse("console:job-detail", args=[repository.job.id])).content.decode()
    assert "<dt>Requested by</dt><dd>command line</dd>" in html
    listing = operator_client.get(reverse("console:job-list")).content.decode()
    assert "<td>command line</td>" in listing
