"""The git host rules of ``source_policy``: public addresses only (the client-metadata fetcher's
rule), MCPRAG_GIT_ALLOWED_HOSTS, the addresses pinned for git, and the check made again when
the job runs (DNS rebinding). Host names are resolved by a stand-in resolver; git itself runs
for real against a loopback listener."""

from __future__ import annotations

import socket

import oauth2_provider.cimd
import pytest

from codeindex import source_policy
from codeindex.access import SYSTEM
from codeindex.choices import JobStatus
from codeindex.exceptions import SourceNotAllowed
from codeindex.models import Repository
from codeindex.services import job, start_index_job
from tests.support.listener import counting_listener

PUBLIC = "93.184.215.14"


@pytest.fixture
def resolve(monkeypatch):
    """``resolve({"host": ["addr", …]})``: what getaddrinfo answers from now on (others: unknown)."""
    answers: dict[str, list[str]] = {}
    real = socket.getaddrinfo

    def fake(host, port, *args, **kwargs):
        if host in answers:
            return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in answers[host]]
        if host in ("127.0.0.1", "::1"):
            return real(host, port, *args, **kwargs)
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    return answers.update


@pytest.fixture(autouse=True)
def _eager_celery(settings, tmp_path):
    from mcprag_site.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    settings.MCPRAG_CLONE_DIR = tmp_path / "clones"
    yield
    app.conf.task_always_eager = before


def test_the_address_rule_is_the_client_metadata_fetchers():
    assert source_policy._fetcher_is_public is oauth2_provider.cimd._ip_is_public
    assert source_policy.is_public_address(PUBLIC) and not source_policy.is_public_address("224.0.0.1")


@pytest.mark.parametrize("address", [
    "127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0",
    "224.0.0.1", "::1", "fe80::1", "fc00::1", "::ffff:10.0.0.1", "64:ff9b::a9fe:a9fe", "2002:7f00:1::1",
])
def test_a_host_resolving_to_a_non_public_address_is_refused(resolve, address):
    resolve({"git.example.com": [address]})
    with pytest.raises(SourceNotAllowed, match="non-public address.*MCPRAG_GIT_ALLOWED_HOSTS"):
        source_policy.check_source("https://git.example.com/team/shop.git")


def test_one_private_address_among_public_ones_refuses_the_host(resolve):
    resolve({"git.example.com": [PUBLIC, "10.0.0.7"]})
    with pytest.raises(SourceNotAllowed, match="non-public"):
        source_policy.check_source("git@git.example.com:team/shop.git")


def test_public_https_and_ssh_urls_are_accepted_and_https_is_pinned(resolve):
    resolve({"git.example.com": [PUBLIC, "2606:2800:220:1::1"]})
    for url in ("https://git.example.com/team/shop.git", "ssh://git@git.example.com:2222/team/shop.git", "git@git.example.com:team/shop.git"):
        assert source_policy.check_source(url) == url
    checked = source_policy.git_source("https://git.example.com:8443/team/shop.git")
    assert checked.git_options() == [
        "protocol.allow=never", "protocol.https.allow=always", "http.followRedirects=false",
        f"http.curloptResolve=git.example.com:8443:{PUBLIC},[2606:2800:220:1::1]",
    ]


def test_an_unresolvable_host_is_refused(resolve):
    with pytest.raises(SourceNotAllowed, match="cannot be resolved"):
        source_policy.check_source("https://nowhere.example/x.git")


def test_allowed_hosts_narrow_the_hosts_and_may_be_private(resolve, settings):
    resolve({"git.internal": ["10.0.0.5"], "github.com": [PUBLIC]})
    settings.MCPRAG_GIT_ALLOWED_HOSTS = [".internal"]
    assert source_policy.check_source("https://git.internal/shop.git") == "https://git.internal/shop.git"
    with pytest.raises(SourceNotAllowed, match="not listed in MCPRAG_GIT_ALLOWED_HOSTS"):
        source_policy.check_source("https://github.com/team/shop.git")
    settings.MCPRAG_GIT_ALLOWED_HOSTS = ["*"]
    assert source_policy.check_source("https://github.com/team/shop.git")


@pytest.mark.django_db(transaction=True)
def test_git_connects_to_the_checked_address_not_to_a_fresh_dns_answer(resolve, settings):
    """``git.internal.test`` exists only in the checked answer (127.0.0.1, allowed by the operator):
    git reaching the listener proves it used the pinned address instead of resolving again."""
    settings.MCPRAG_GIT_ALLOWED_HOSTS = ["git.internal.test"]
    with counting_listener() as listener:
        resolve({"git.internal.test": ["127.0.0.1"]})
        info = start_index_job(f"https://git.internal.test:{listener.port}/x.git", "pinned", access=SYSTEM)
        assert listener.wait_for(1) >= 1
    finished = job(info.id, access=SYSTEM)
    assert finished.status == JobStatus.FAILED and "git failed" in finished.message  # no TLS server there


@pytest.mark.django_db
def test_the_job_checks_the_host_again_when_it_runs(resolve, settings, django_capture_on_commit_callbacks):
    """DNS rebinding: public when the call was checked, loopback when the job runs → refused, no request."""
    with counting_listener() as listener:
        url = f"https://rebind.example:{listener.port}/x.git"
        resolve({"rebind.example": [PUBLIC]})
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            info = start_index_job(url, "rebind", access=SYSTEM)
        resolve({"rebind.example": ["127.0.0.1"]})
        for callback in callbacks:
            callback()
        finished = job(info.id, access=SYSTEM)
        assert finished.status == JobStatus.FAILED and "non-public address" in finished.message
        assert listener.wait_for(1, timeout=0.5) == 0


@pytest.mark.django_db
def test_a_refused_git_url_leaves_no_repository_row(resolve):
    resolve({"git.example.com": ["10.0.0.1"]})
    with pytest.raises(SourceNotAllowed):
        start_index_job("https://git.example.com/x.git", "shop", access=SYSTEM)
    assert not Repository.objects.exists()


@pytest.mark.parametrize("url", [
    "https://ghp_supersecrettoken123@github.com/team/shop.git",
    "https://x-access-token:ghp_supersecrettoken123@github.com/team/shop.git",
    "ssh://git:hunter2password@git.example.com/team/shop.git",
])
def test_a_url_holding_credentials_is_refused_without_echoing_them(url):
    with pytest.raises(SourceNotAllowed, match="holds credentials") as refused:
        source_policy.check_source(url)
    assert "supersecret" not in str(refused.value) and "hunter2" not in str(refused.value)
