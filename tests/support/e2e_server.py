"""The ``live_server_e2e`` fixture: one real server per test session, with a person (``ada``,
developer; ``server.username``/``server.password``) and a real third-party codebase indexed.

A pytest plugin (registered in ``tests/conftest.py``), so the e2e and fuzz packages share it.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dateutil
import pytest

from tests.support.live_server import make_live_server

#: A real third-party codebase, installed in the virtualenv: python-dateutil.
THIRD_PARTY_SOURCE = Path(dateutil.__file__).resolve().parent
THIRD_PARTY_NAME = "dateutil"


@pytest.fixture(scope="session")
def live_server_e2e(tmp_path_factory):
    server = make_live_server(tmp_path_factory.mktemp("e2e-server"))
    server.username = "ada"
    server.password = secrets.token_urlsafe(12)
    server.manage("create_account", server.username, "--email", "ada@example.com", f"--password={server.password}", "--tier", "developer")
    server.manage("index_repo", str(THIRD_PARTY_SOURCE), "--name", THIRD_PARTY_NAME, "--embeddings", "now")
    if os.environ.get("REDIS_URL"):
        # The queue must be in the server's environment before it starts (its jobs go there).
        server.env.setdefault("MCPRAG_CELERY_QUEUE", f"e2e-{secrets.token_hex(4)}")
    server.start()
    if os.environ.get("REDIS_URL"):
        server.start_worker()  # Celery is not eager with Redis: index jobs need a real worker
    try:
        yield server
    finally:
        server.stop()
