"""PostgreSQL connections owned by one event loop, for the two statements every ``tools/call``
makes from the gateway's loop itself: the token lookup (:mod:`mcp_gateway.auth.token_rows`) and
the audit insert (:mod:`mcp_gateway.audit`).

Each is a psycopg ``AsyncConnection`` in autocommit mode, opened on first use from the same
``DATABASES`` entry as Django's own connection. Running them on the loop saves the hand-offs to
and from a worker thread that a blocking Django query costs: for the token check about 0.4 ms of
CPU per call under load, for the audit insert about 60 µs of a call's wall time at one client
(measured with ``bench/gateway.py`` and a per-phase timer). With the connection that listens for
token changes (:mod:`mcp_gateway.auth.row_cache`), each gateway worker process therefore holds up
to three more PostgreSQL connections than its worker threads do.
"""

from __future__ import annotations

from django.conf import settings

__all__ = ["psycopg_params", "connect", "close_quietly"]


def psycopg_params(django_connection) -> dict:
    """Keyword arguments for ``psycopg.AsyncConnection.connect`` from a Django PostgreSQL connection.

    The result carries the connection settings (host, database, credentials, ``OPTIONS``) without
    Django's synchronous-only ones, a ``connect_timeout`` of 5 s unless one is set, and
    ``prepare_threshold=None`` (no server-side prepared statements) when
    ``settings.MCPRAG_DB_PREPARED_STATEMENTS`` is off, for poolers that cannot keep them.
    """
    params = django_connection.get_connection_params()
    for sync_only in ("cursor_factory", "context", "prepare_threshold"):
        params.pop(sync_only, None)
    if not getattr(settings, "MCPRAG_DB_PREPARED_STATEMENTS", True):
        params["prepare_threshold"] = None
    params.setdefault("connect_timeout", 5)
    return params


async def connect(params: dict):
    """A new psycopg ``AsyncConnection`` in autocommit mode, from :func:`psycopg_params`' result.

    :raises psycopg.OperationalError: the server cannot be reached (after ``connect_timeout``).
    """
    import psycopg  # only PostgreSQL deployments get here; SQLite ones never load the driver

    return await psycopg.AsyncConnection.connect(autocommit=True, **params)


async def close_quietly(db) -> None:
    """Close ``db`` (None or already closed: nothing to do), ignoring errors: closing a broken
    connection must not hide the failure that led to closing it."""
    if db is not None and not db.closed:
        try:
            await db.close()
        except Exception:
            pass
