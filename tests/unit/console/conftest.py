"""Console fixtures: an operator, tokens for a person's authorized agent, an indexed repository.

The person, the agent (``public_client``) and the OAuth flow come from ``tests.support.oauth``;
tool-call rows from ``tests.support.tool_calls``."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from oauth_app.services import create_or_update_account
from tests.support.oauth import REDIRECT_URI, totp_code

OPERATOR_PASSWORD = "op-Pass-4f1c9e-word"


@pytest.fixture
def operator(db):
    user, _ = create_or_update_account("olga", email="olga@example.com", password=OPERATOR_PASSWORD, tier="public")
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    return user


@pytest.fixture
def operator_client(operator):
    """The operator's own browser (the ``client`` fixture is the person's, used by ``tokens``)."""
    from django.test import Client

    browser = Client()
    browser.force_login(operator)
    return browser


@pytest.fixture
def tokens(client, public_client, obtain_code):
    """A token pair for ``person`` (grace, developer) and ``public_client``, issued through the real flow."""

    def issue(scope: str = "code:read"):
        code, verifier, _ = obtain_code(public_client["client_id"], scope=scope)
        response = client.post("/token/", {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI,
                                           "client_id": public_client["client_id"], "code_verifier": verifier})
        assert response.status_code == 200, response.content
        return response.json()

    return issue


@pytest.fixture
def eager_celery():
    """Index jobs run in-process on commit even when REDIS_URL makes Celery non-eager (CI runs on Redis)."""
    from mcprag_site.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


@pytest.fixture
def repository(db, tmp_path, settings, eager_celery):
    """A small real repository, ``tiny``, indexed once (lexical only: no model to load); its
    ``root`` is the directory on disk and ``job`` the finished first job (``JobInfo``)."""
    from codeindex import services

    settings.MCPRAG_EMBEDDINGS = "none"
    settings.MCPRAG_SOURCE_ROOTS = [str(tmp_path)]  # the console may re-index it
    root = tmp_path / "tiny"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "walrus.py").write_text("def compute_walrus_total(items):\n    return sum(items)\n")
    (root / "README.md").write_text("# tiny\n\nA repository for console tests.\n")
    services.index_repository(root, "tiny")
    (job,) = services.jobs(access=services.SYSTEM, repository="tiny")
    return SimpleNamespace(name="tiny", root=root, job=job)


@pytest.fixture
def enrolled_without_code(client, settings):
    """With MCPRAG_CONSOLE_REQUIRE_MFA on: enrol ``user`` in TOTP, then give ``client`` a new
    session of theirs that has not verified a code."""

    def sign_in(user):
        settings.MCPRAG_CONSOLE_REQUIRE_MFA = True
        client.force_login(user)
        client.get("/account/mfa/")
        client.post("/account/mfa/", {"code": totp_code(user)})
        client.logout()
        client.force_login(user)
        return client

    return sign_in
