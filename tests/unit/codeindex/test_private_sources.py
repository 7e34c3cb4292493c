"""Private git sources: an HTTPS token or SSH deploy key is stored sealed, reaches git only
through its environment (never its command line or a URL), and never appears in a log line, a
job message, a sync error or a tool error, even when the fetch fails. Logs are captured at DEBUG
from every logger and scanned, with git's own output."""

from __future__ import annotations

import base64
import logging
import os
import subprocess

import pytest

from codeindex import services
from codeindex.access import SYSTEM
from codeindex.credentials import credential_env
from codeindex.models import IndexJob, Repository
from tests.support.listener import counting_listener

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("eager_jobs")]

TOKEN = "ghp_Zebra7Quokka9Mongoose3Heron"
KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAAc2VjcmV0LWtleS1tYXRlcmlhbC1wZWxpY2Fu\n-----END OPENSSH PRIVATE KEY-----"
KEY_MATERIAL = "c2VjcmV0LWtleS1tYXRlcmlhbC1wZWxpY2Fu"


@pytest.fixture
def argv(monkeypatch):
    """Every command line a git process is started with (recorded, then run for real)."""
    seen: list[str] = []
    real_run, real_popen = subprocess.run, subprocess.Popen

    def run(args, *a, **k):
        seen.append(" ".join(map(str, args)))
        return real_run(args, *a, **k)

    class Popen(real_popen):
        def __init__(self, args, *a, **k):
            seen.append(" ".join(map(str, args)))
            super().__init__(args, *a, **k)

    monkeypatch.setattr(subprocess, "run", run)
    monkeypatch.setattr(subprocess, "Popen", Popen)
    return seen


@pytest.fixture
def private_repo(settings, tmp_path):
    settings.MCPRAG_CLONE_DIR = str(tmp_path / "clones")
    settings.MCPRAG_GIT_ALLOWED_HOSTS = ["127.0.0.1"]  # an internal git server, on a loopback listener here

    def make(url, kind, secret):
        repository = Repository.objects.create(name="private", root_path="", source_url=url)
        services.set_repository_credential("private", kind, secret)
        return Repository.objects.get(pk=repository.pk)

    return make


def _no_secret_anywhere(texts, *secrets):
    for text in texts:
        for secret in secrets:
            assert secret not in text, f"secret found in: {text[:300]}"


def test_a_token_is_sealed_and_reaches_git_only_through_its_environment(private_repo, caplog, capfd, argv):
    caplog.set_level(logging.DEBUG)
    with counting_listener() as listener:
        repository = private_repo(f"https://127.0.0.1:{listener.port}/team/shop.git", "token", TOKEN)
        assert TOKEN not in repository.credential_sealed
        with credential_env(repository) as env:
            seen = subprocess.run(["git", "config", "--get", "http.extraHeader"], capture_output=True, text=True,
                                  env={**os.environ, **dict(env)}).stdout
        basic = base64.b64encode(f"x-access-token:{TOKEN}".encode()).decode()
        assert seen.strip() == f"Authorization: Basic {basic}"  # what git will send
        job_id = services.sync_now("private", requested_by="test")
        assert listener.wait_for(1) >= 1  # git did connect (and failed: no TLS server there)
    job = IndexJob.objects.get(pk=job_id)
    repository.refresh_from_db()
    assert job.status == "failed" and repository.sync_error
    out, err = capfd.readouterr()
    _no_secret_anywhere([caplog.text, out, err, job.message, repository.sync_error, *argv], TOKEN, basic)


def test_a_deploy_key_lives_in_a_private_file_only_while_git_runs(private_repo, caplog, capfd, argv):
    caplog.set_level(logging.DEBUG)
    with counting_listener() as listener:
        repository = private_repo(f"ssh://git@127.0.0.1:{listener.port}/team/shop.git", "ssh_key", KEY)
        assert KEY_MATERIAL not in repository.credential_sealed
        with credential_env(repository) as env:
            command = dict(env)["GIT_SSH_COMMAND"]
            key_file = command.split(" ")[2]
            assert oct(os.stat(key_file).st_mode & 0o777) == "0o600"
        assert not os.path.exists(key_file)
        services.sync_now("private", requested_by="test")
    job = IndexJob.objects.filter(repository=repository).get()
    repository.refresh_from_db()
    assert job.status == "failed"
    out, err = capfd.readouterr()
    _no_secret_anywhere([caplog.text, out, err, job.message, repository.sync_error, *argv], KEY_MATERIAL)


def test_a_malformed_credential_is_refused():
    Repository.objects.create(name="private", root_path="", source_url="https://git.example.com/x.git")
    from codeindex.exceptions import InvalidArgument

    with pytest.raises(InvalidArgument, match="one line"):
        services.set_repository_credential("private", "token", "two\nlines")
    with pytest.raises(InvalidArgument, match="private key"):
        services.set_repository_credential("private", "ssh_key", "not a key")
    services.set_repository_credential("private", "", "")
    assert Repository.objects.get(name="private").credential_kind == ""
