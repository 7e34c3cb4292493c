"""``manage.py index_repo``: a summary paragraph on success, one clear line and exit 1 on failure."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import OperationalError

from codeindex import services
from codeindex.models import IndexJob, Repository
from tests.support.git_repos import Remote, git

MANAGE_PY = Path(__file__).resolve().parents[3] / "manage.py"


@pytest.mark.django_db
def test_index_repo_prints_a_summary_and_names_the_repository_after_the_directory(webkit_tree):
    out, err = io.StringIO(), io.StringIO()
    call_command("index_repo", str(webkit_tree), stdout=out, stderr=err)
    summary = out.getvalue()
    assert summary.startswith("Indexed webkit: 7 files seen (7 new, 0 changed, 0 unchanged, 0 skipped); 0 deleted; ")
    assert summary.rstrip().endswith("0 errors.")
    assert Repository.objects.get(name="webkit").file_count == 7


@pytest.mark.django_db
def test_index_repo_uses_the_name_option_and_reports_skips(make_tree):
    root = make_tree({"a.py": "x = 1\n", "b.bin": b"\x00\x01"})
    out = io.StringIO()
    call_command("index_repo", str(root), "--name", "demo", stdout=out, stderr=io.StringIO())
    assert "Indexed demo: 2 files seen (1 new, 0 changed, 0 unchanged, 1 skipped: binary 1)" in out.getvalue()
    assert Repository.objects.filter(name="demo").exists()


@pytest.mark.django_db
def test_index_repo_on_a_missing_path_raises_a_one_line_command_error(tmp_path):
    with pytest.raises(CommandError) as caught:
        call_command("index_repo", str(tmp_path / "missing"), stdout=io.StringIO(), stderr=io.StringIO())
    message = str(caught.value)
    assert message == f"cannot index {str(tmp_path / 'missing')!r}: no such directory"
    assert not Repository.objects.exists()


@pytest.mark.django_db
def test_index_repo_refuses_a_name_that_is_not_slug_like(webkit_tree):
    with pytest.raises(CommandError, match="repository name 'bad name' is not valid"):
        call_command("index_repo", str(webkit_tree), "--name", "bad name", stdout=io.StringIO(), stderr=io.StringIO())


def test_index_repo_on_a_missing_path_exits_non_zero_without_a_traceback(tmp_path):
    missing = tmp_path / "missing"
    result = subprocess.run(
        [sys.executable, str(MANAGE_PY), "index_repo", str(missing)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1] == f"CommandError: cannot index {str(missing)!r}: no such directory"
    assert result.stdout == ""


def _index(source, *args) -> str:
    out = io.StringIO()
    call_command("index_repo", str(source), *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.fixture
def clones(tmp_path, settings):
    settings.MCPRAG_CLONE_DIR = str(tmp_path / "clones")
    return tmp_path / "clones"


@pytest.mark.django_db
def test_index_repo_refuses_another_directory_for_an_existing_name_and_keeps_its_content(make_tree):
    first = make_tree({"a.py": "def alpha():\n    pass\n", "b.py": "def beta():\n    pass\n"}, name="first")
    weird = make_tree({"z.py": "def zeta():\n    pass\n"}, name="weird")
    _index(first, "--name", "proj1")
    with pytest.raises(CommandError) as caught:
        _index(weird, "--name", "proj1")
    assert str(caught.value).startswith(f"a repository named 'proj1' is indexed already, from {str(first)}; ")
    assert "--replace" in str(caught.value)
    repository = Repository.objects.get(name="proj1")
    assert repository.root_path == str(first) and repository.source_url == ""
    assert sorted(repository.files.values_list("path", flat=True)) == ["a.py", "b.py"]


@pytest.mark.django_db
def test_index_repo_reindexes_the_same_directory_however_it_is_spelled(make_tree):
    first = make_tree({"a.py": "def alpha():\n    pass\n"}, name="first")
    _index(first, "--name", "proj1")
    (first.parent / "link").symlink_to(first)
    assert "0 deleted" in _index(f"{first.parent / 'link'}/", "--name", "proj1")
    assert Repository.objects.get(name="proj1").files.count() == 1


@pytest.mark.django_db
def test_index_repo_replace_points_the_repository_at_the_new_directory(make_tree):
    first = make_tree({"a.py": "def alpha():\n    pass\n", "b.py": "def beta():\n    pass\n"}, name="first")
    weird = make_tree({"z.py": "def zeta():\n    pass\n"}, name="weird")
    _index(first, "--name", "proj1")
    assert "2 deleted" in _index(weird, "--name", "proj1", "--replace")
    repository = Repository.objects.get(name="proj1")
    assert repository.root_path == str(weird) and list(repository.files.values_list("path", flat=True)) == ["z.py"]
    assert "0 deleted" in _index(weird, "--name", "proj1")  # its source from now on


@pytest.mark.django_db
def test_index_repo_refuses_a_directory_for_a_repository_indexed_from_git(tmp_path, make_tree, clones):
    remote = Remote(tmp_path / "remote", {"shop.py": "def checkout():\n    pass\n"})
    _index(remote.url, "--name", "shopfeat")
    before = Repository.objects.get(name="shopfeat")
    local = make_tree({"other.py": "def other():\n    pass\n"}, name="local")
    with pytest.raises(CommandError, match=f"'shopfeat' is indexed already, from {remote.url}; "):
        _index(local, "--name", "shopfeat")
    after = Repository.objects.get(name="shopfeat")
    assert (after.root_path, after.source_url, after.branch, after.indexed_commit) == (
        before.root_path, remote.url, "main", remote.head())
    assert list(after.files.values_list("path", flat=True)) == ["shop.py"]


@pytest.mark.django_db
def test_index_repo_replace_moves_a_git_repository_to_a_directory_and_drops_its_clone(tmp_path, make_tree, clones):
    remote = Remote(tmp_path / "remote", {"shop.py": "def checkout():\n    pass\n"})
    _index(remote.url, "--name", "shopfeat")
    assert (clones / "shopfeat").is_dir()
    local = make_tree({"other.py": "def other():\n    pass\n"}, name="local")
    _index(local, "--name", "shopfeat", "--replace")
    repository = Repository.objects.get(name="shopfeat")
    assert (repository.root_path, repository.source_url, repository.branch) == (str(local), "", "")
    assert list(repository.files.values_list("path", flat=True)) == ["other.py"]
    assert not (clones / "shopfeat").exists()


@pytest.mark.django_db
def test_a_failed_first_fetch_leaves_no_repository_and_no_clone(tmp_path, clones):
    missing = (tmp_path / "x" / "ghost.git").as_uri()
    with pytest.raises(CommandError, match="^git failed: "):  # the error is still reported
        _index(missing, "--name", "ghost")
    git(tmp_path, "init", "-q", "--bare", "empty.git")
    with pytest.raises(CommandError):
        _index((tmp_path / "empty.git").as_uri(), "--name", "hollow")
    assert not Repository.objects.exists()
    assert not (clones / "ghost").exists() and not (clones / "hollow").exists()


@pytest.mark.django_db
def test_a_failed_fetch_of_a_repository_indexed_before_keeps_it(tmp_path, clones):
    remote = Remote(tmp_path / "remote", {"shop.py": "def checkout():\n    pass\n"})
    _index(remote.url, "--name", "shop")
    url = remote.url
    remote.bare.rename(remote.bare.with_name("moved.git"))
    with pytest.raises(CommandError):
        _index(url, "--name", "shop")
    repository = Repository.objects.get(name="shop")
    assert repository.indexed_commit == remote.head() and list(repository.files.values_list("path", flat=True)) == ["shop.py"]
    assert (clones / "shop").is_dir()


@pytest.mark.parametrize("source", ["https://example.invalid/org/repo.git", "https://example.invalid/org/repo/",
                                    "git@host:org/repo.git", "ssh://git@host/org/repo", "file:///srv/git/repo.git"])
def test_a_git_url_suggests_its_last_path_segment_without_dot_git_as_the_name(source):
    assert services.name_for_source(source) == "repo"


@pytest.mark.django_db
def test_index_repo_names_a_git_repository_after_its_url_and_takes_a_branch(tmp_path, clones):
    remote = Remote(tmp_path / "remote", {"shop.py": "def checkout():\n    pass\n"})
    git(remote.work, "checkout", "-q", "-b", "release")
    release = remote.commit("release only", {"notes.py": "def release_banner():\n    pass\n"})
    git(remote.work, "push", "-q", "origin", "release")
    assert _index(remote.url).startswith("Indexed origin: 1 files seen")  # …/origin.git
    assert Repository.objects.get(name="origin").branch == "main"
    assert _index(remote.url, "--name", "shop-release", "--branch", "release").startswith("Indexed shop-release: 2 files seen")
    repository = Repository.objects.get(name="shop-release")
    assert (repository.branch, repository.indexed_commit) == ("release", release)


@pytest.mark.django_db
def test_index_repo_asks_for_a_name_when_the_url_suggests_none_that_is_valid(tmp_path, clones):
    with pytest.raises(CommandError, match=r"repository name 'my\.repo' is not valid: .*; give the name with --name$"):
        _index((tmp_path / "my.repo.git").as_uri())
    with pytest.raises(CommandError, match="branch applies to git sources only"):
        _index(tmp_path, "--name", "x", "--branch", "main")


@pytest.fixture
def lock_database(monkeypatch):
    """Call it to make the next jobs meet SQLite's "database is locked" (another process writing)
    while they index."""
    from codeindex import jobs

    def locked(*args, **kwargs):
        raise OperationalError("database is locked")

    return lambda: monkeypatch.setattr(jobs, "index_tree", locked)


@pytest.mark.django_db
def test_index_repo_reports_a_job_that_failed_with_an_internal_error(make_tree, lock_database):
    root = make_tree({"a.py": "x = 1\n"}, name="c2")
    lock_database()
    out = io.StringIO()
    with pytest.raises(CommandError, match=r"^index job \d+ failed: internal error \(OperationalError\)"):
        call_command("index_repo", str(root), stdout=out, stderr=io.StringIO())
    assert "Indexed" not in out.getvalue()


@pytest.mark.django_db
def test_a_reindex_that_failed_with_an_internal_error_is_reported_and_recorded(make_tree, lock_database):
    root = make_tree({"a.py": "x = 1\n"}, name="c2")
    _index(root)
    lock_database()
    with pytest.raises(CommandError, match=r"internal error \(OperationalError\)"):
        _index(root)
    assert IndexJob.objects.filter(repository__name="c2").latest("pk").status == "failed"
    assert Repository.objects.get(name="c2").file_count == 1  # indexed before: kept
