import contextlib
import sqlite3
import threading

import psycopg
import pytest
from django.db import connection

from mcp_gateway.db import audit_writer
from mcp_gateway.models import ToolCall
from tests.support.oauth import REDIRECT_URI


@pytest.fixture
def issue_token(client, public_client, obtain_code):
    """Issue a real access token to the public client (authorization code + PKCE)."""

    def issue(scope: str = "code:read code:write") -> str:
        code, verifier, _ = obtain_code(public_client["client_id"], scope=scope)
        response = client.post("/token/", {
            "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI,
            "client_id": public_client["client_id"], "code_verifier": verifier,
        })
        return response.json()["access_token"]

    return issue


@pytest.fixture
def token(issue_token):
    return issue_token()


@pytest.fixture
def inserts_fail_transiently(monkeypatch):
    """A context manager: while inside, every insert into the audit table meets a real transient
    database error.

    SQLite (a WAL file, as in production): a second connection holds the write lock, and the
    writer thread's connection gives up after 50 ms (``SQLITE_BUSY``) instead of its usual 20 s.
    PostgreSQL: a second connection holds an exclusive lock on the table and a watcher terminates
    every backend that waits for it (``pg_terminate_backend``, as a restart or a cut connection
    would)."""
    if connection.vendor == "sqlite":
        monkeypatch.setitem(connection.settings_dict["OPTIONS"], "timeout", 0.05)
        monkeypatch.setattr(audit_writer, "_writer", audit_writer._Writer())  # a writer thread whose connection has that timeout
    return _inserts_fail_transiently


@contextlib.contextmanager
def _inserts_fail_transiently():
    table = ToolCall._meta.db_table
    if connection.vendor == "sqlite":
        holder = sqlite3.connect(connection.settings_dict["NAME"], isolation_level=None, check_same_thread=False)
        holder.execute("BEGIN IMMEDIATE")  # the database's write lock; WAL readers go on
        try:
            yield
        finally:
            holder.execute("COMMIT")
            holder.close()
        return
    params = {k: v for k, v in connection.get_connection_params().items() if k in ("dbname", "user", "password", "host", "port")}
    holder = psycopg.connect(**params)
    watcher = psycopg.connect(**params, autocommit=True)
    holder.execute(f'LOCK TABLE "{table}" IN ACCESS EXCLUSIVE MODE')
    stop = threading.Event()

    def terminate_waiters():
        while not stop.wait(0.02):
            watcher.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND query ILIKE %s", (f'INSERT INTO "{table}"%',))

    thread = threading.Thread(target=terminate_waiters, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        holder.rollback()
        holder.close()
        watcher.close()
