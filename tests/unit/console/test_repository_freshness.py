"""The console's freshness page of a git repository: branch and indexed commit, sync error, the
webhook URL, a new secret shown once (never again, never stored in clear), the last
deliveries, sync settings, and a credential that is saved sealed and never shown back."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from codeindex import services
from codeindex.models import Repository
from tests.support.git_repos import Remote
from tests.support.webhook_sender import push_delivery

pytestmark = pytest.mark.django_db(transaction=True)

TOKEN = "glpat-Walrus4Pelican8Otter2"


@pytest.fixture
def gitrepo(tmp_path, settings, eager_celery):
    settings.MCPRAG_EMBEDDINGS = "none"
    settings.MCPRAG_SOURCE_ROOTS = [str(tmp_path)]
    settings.MCPRAG_CLONE_DIR = str(tmp_path / "clones")
    remote = Remote(tmp_path / "shop", {"a.py": "x = 1\n"})
    services.start_index_job(remote.url, "shop", access=services.SYSTEM)
    return remote


def test_the_page_shows_revision_webhook_and_deliveries(operator_client, gitrepo):
    page = operator_client.get("/console/repositories/shop/freshness/").content.decode()
    assert gitrepo.head() in page and "main" in page and "/hooks/git/shop/" in page
    answer = operator_client.post("/console/repositories/shop/freshness/", {"action": "webhook"})
    assert "no-store" in answer["Cache-Control"]  # the one answer that shows the new secret
    created = answer.content.decode()
    secret = re.search(r'id="new-secret">([^<]+)<', created).group(1)
    assert secret not in Repository.objects.get(name="shop").webhook_secret_sealed
    assert secret not in operator_client.get("/console/repositories/shop/freshness/").content.decode()  # shown once
    body, headers = push_delivery("github", secret, event="ping")
    assert Client().post("/hooks/git/shop/", data=body, content_type="application/json",
                         headers={k: v for k, v in headers.items() if k != "Content-Type"}).status_code == 200
    page = operator_client.get("/console/repositories/shop/freshness/").content.decode()
    assert "not a push" in page and "github" in page


def test_settings_credential_and_sync_errors(operator_client, gitrepo):
    url = "/console/repositories/shop/freshness/"
    operator_client.post(url, {"action": "settings", "interval": "5", "branch": "main", "depth": "50"})
    row = Repository.objects.get(name="shop")
    assert (row.sync_interval_minutes, row.history_depth) == (5, 50)
    bad = operator_client.post(url, {"action": "settings", "interval": "-3", "branch": "--upload-pack=x", "depth": ""}, follow=True)
    assert "Not saved" in bad.content.decode() and Repository.objects.get(name="shop").branch == "main"
    saved = operator_client.post(url, {"action": "credential", "kind": "token", "secret": TOKEN}, follow=True).content.decode()
    assert TOKEN not in saved and "HTTPS access token (encrypted)" in saved
    assert TOKEN not in Repository.objects.get(name="shop").credential_sealed
    gitrepo.bare.rename(gitrepo.bare.with_name("gone.git"))
    operator_client.post(url, {"action": "sync"})
    page = operator_client.get(url).content.decode()
    assert "sync not started" in page and TOKEN not in page
    assert "sync failed" in operator_client.get("/console/repositories/").content.decode()
