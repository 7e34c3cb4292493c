"""What ``index_repository`` (scope ``index:admin``) may index, through the real SDK client:
server directories only under MCPRAG_SOURCE_ROOTS, git only over https/ssh to public hosts.

A refused source is a one-line tool error naming the rule, leaves no repository or job row, and
makes no network request (a local server listens for one and must see none)."""

from __future__ import annotations

import os
import socket
import subprocess

import pytest

from codeindex import services
from codeindex.models import IndexJob, Repository

from tests.support.listener import counting_listener

from tests.support.mcp_tools import ADMIN, READER, assert_one_line_error, call, text_of

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("eager_jobs")]


@pytest.fixture
def listener():
    with counting_listener() as listening:
        yield listening


@pytest.fixture
def roots(tmp_path, settings):
    """``tmp_path/allowed`` is the one source root; ``tmp_path/outside`` holds a secret."""
    allowed, outside = tmp_path / "allowed", tmp_path / "outside"
    (allowed / "shop").mkdir(parents=True)
    (allowed / "shop" / "cart.py").write_text("def add_pangolin_to_cart(cart):\n    return cart\n")
    outside.mkdir()
    (outside / "id_rsa.py").write_text("PRIVATE_KEY = 'hunter2_narwhal'\n")
    settings.MCPRAG_SOURCE_ROOTS = [str(allowed)]
    return allowed, outside


def _git(cwd, *args):
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                   env={**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
                        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"})


def _bare_repo(where, work):
    """A real bare repository at ``where`` holding one commit of the files in ``work``."""
    _git(work, "init", "-q", "-b", "main")
    _git(work, "add", ".")
    _git(work, "commit", "-q", "-m", "first")
    _git(work.parent, "clone", "-q", "--bare", str(work), str(where))
    return where


def _refused(arguments, *words):
    result = call(ADMIN, "index_repository", arguments)
    assert_one_line_error(result, *words)
    assert not Repository.objects.exists() and not IndexJob.objects.exists()
    return text_of(result)


# -- server directories -------------------------------------------------------------------------


def test_a_server_directory_is_refused_when_no_source_roots_are_configured():
    text = _refused({"name": "ssh", "source": "/etc/ssh"}, "MCPRAG_SOURCE_ROOTS", "turned off")
    assert "sshd_config" not in text


def test_a_directory_outside_the_source_roots_is_refused(roots):
    _refused({"name": "ssh", "source": "/etc/ssh"}, "not inside", "MCPRAG_SOURCE_ROOTS")
    _refused({"name": "keys", "source": str(roots[1])}, "not inside", "MCPRAG_SOURCE_ROOTS")


def test_dot_dot_cannot_climb_out_of_a_source_root(roots):
    allowed, outside = roots
    _refused({"name": "escape", "source": f"{allowed}/shop/../../outside"}, "not inside", "MCPRAG_SOURCE_ROOTS")


def test_a_symlink_inside_a_source_root_cannot_lead_out_of_it(roots):
    allowed, outside = roots
    os.symlink(outside, allowed / "link")
    _refused({"name": "escape", "source": str(allowed / "link")}, "not inside", "MCPRAG_SOURCE_ROOTS")
    inner = allowed / "inner"
    os.symlink(allowed / "shop", inner)  # a link that stays inside the root is fine
    assert not call(ADMIN, "index_repository", {"name": "inner", "source": str(inner)}).is_error


def test_a_relative_path_is_refused(roots, monkeypatch):
    monkeypatch.chdir(roots[0])
    _refused({"name": "rel", "source": "shop"}, "absolute path")


def test_a_directory_under_a_source_root_is_indexed(roots):
    allowed, _ = roots
    result = call(ADMIN, "index_repository", {"name": "shop", "source": str(allowed / "shop")})
    assert not result.is_error, text_of(result)
    assert result.structured_content["status"] == "complete"
    hits = call(READER, "search_code", {"query": "add_pangolin_to_cart"}).structured_content["hits"]
    assert [h["path"] for h in hits] == ["cart.py"]


def test_an_indexed_repository_is_not_switched_to_another_source(roots):
    """Another source for an existing name is refused, naming the repository; its own source
    (given again, or omitted) re-indexes it."""
    allowed, _ = roots
    (allowed / "weird").mkdir()
    (allowed / "weird" / "other.py").write_text("def unrelated_okapi():\n    pass\n")
    assert not call(ADMIN, "index_repository", {"name": "shop", "source": str(allowed / "shop")}).is_error
    jobs_before = IndexJob.objects.count()
    refused = call(ADMIN, "index_repository", {"name": "shop", "source": str(allowed / "weird")})
    assert_one_line_error(refused, "a repository named 'shop' is indexed already, from a directory on the server")
    assert IndexJob.objects.count() == jobs_before
    repository = Repository.objects.get(name="shop")
    assert repository.root_path == str(allowed / "shop") and list(repository.files.values_list("path", flat=True)) == ["cart.py"]
    for arguments in ({"name": "shop", "source": str(allowed / "shop")}, {"name": "shop"}):
        again = call(ADMIN, "index_repository", arguments)
        assert not again.is_error and again.structured_content["status"] == "complete", text_of(again)


def test_a_job_that_fails_with_an_internal_error_answers_an_error(roots, monkeypatch):
    from django.db import OperationalError

    from codeindex import jobs

    def locked(*args, **kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr(jobs, "index_tree", locked)  # another process holds SQLite's write lock
    answer = call(ADMIN, "index_repository", {"name": "shop", "source": str(roots[0] / "shop")})
    assert_one_line_error(answer, "failed", "internal error (OperationalError)")
    assert answer.structured_content["status"] == "failed"


def test_a_missing_directory_under_a_source_root_is_not_found(roots):
    _refused({"name": "ghost", "source": str(roots[0] / "ghost")}, "no such directory")


def test_re_indexing_a_stored_source_outside_the_roots_is_refused(roots, settings):
    """The operator indexed /…/outside at the shell (not limited); a tool may not refresh it."""
    _, outside = roots
    services.index_repository(outside, "keys")
    jobs_before = IndexJob.objects.count()
    for tool, arguments in [("index_repository", {"name": "keys"}), ("index_changed_files", {"name": "keys", "paths": ["id_rsa.py"]})]:
        assert_one_line_error(call(ADMIN, tool, arguments), "not inside", "MCPRAG_SOURCE_ROOTS")
    assert IndexJob.objects.count() == jobs_before


# -- git URLs -------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:{port}/x.git",
    "https://127.0.0.1:{port}/x.git",
    "https://localhost:{port}/x.git",
    "https://[::ffff:127.0.0.1]:{port}/x.git",
    "ssh://git@127.0.0.1:{port}/x.git",
    "git@127.0.0.1:x.git",
    "git://127.0.0.1:{port}/x.git",
])
def test_git_urls_to_this_machine_are_refused_without_a_request(listener, url):
    _refused({"name": "ssrf", "source": url.format(port=listener.port)}, "cannot index")
    assert listener.connections == 0


def test_the_listener_does_see_a_connection_when_one_is_made(listener):
    """The check above is meaningful: this listener counts a connection to it."""
    socket.create_connection(("127.0.0.1", listener.port), timeout=2).close()
    assert listener.wait_for(1) == 1


@pytest.mark.parametrize(("source", "words"), [
    ("ext::sh -c touch% {marker}", ["remote helpers"]),
    ("-u touch {marker}", ["must not start with '-'"]),
    ("--upload-pack=touch {marker}", ["must not start with '-'"]),
    ("ssh://-oProxyCommand=touch% {marker}/x.git", ["not a host name"]),
    ("git@-oProxyCommand=x:y.git", ["cannot index"]),
])
def test_git_option_and_transport_injection_is_refused(roots, tmp_path, source, words):
    marker = tmp_path / "pwned"
    _refused({"name": "inject", "source": source.format(marker=marker)}, *words)
    assert not marker.exists()


def test_a_file_url_outside_the_source_roots_is_refused(roots, tmp_path):
    _, outside = roots
    bare = _bare_repo(tmp_path / "secret.git", outside)
    _refused({"name": "leak", "source": bare.as_uri()}, "not inside", "MCPRAG_SOURCE_ROOTS")
    _refused({"name": "leak", "source": f"file://localhost{bare}"}, "not inside")


def test_a_file_url_of_a_bare_repository_under_a_source_root_is_indexed(roots, tmp_path, settings):
    allowed, _ = roots
    settings.MCPRAG_CLONE_DIR = tmp_path / "clones"
    bare = _bare_repo(allowed / "shop.git", allowed / "shop")
    result = call(ADMIN, "index_repository", {"name": "shop", "source": bare.as_uri()})
    assert not result.is_error, text_of(result)
    assert result.structured_content["status"] == "complete", result.structured_content["message"]
    assert Repository.objects.get(name="shop").source_url == bare.as_uri()
    hits = call(READER, "search_code", {"query": "add_pangolin_to_cart"}).structured_content["hits"]
    assert [h["path"] for h in hits] == ["cart.py"]
