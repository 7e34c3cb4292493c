"""PostgreSQL connections owned by one event loop: opened on first use, reopened after a failure,
closed at loop shutdown — written once here for every statement the gateway runs from its loop.

Each is a psycopg ``AsyncConnection`` in autocommit mode, opened from the same ``DATABASES`` entry
as Django's own connection (:func:`psycopg_params`). Running the two statements every
``tools/call`` makes (the token lookup, :mod:`.token_rows`; the audit insert,
:mod:`.audit_writer`) on the loop saves the hand-offs to and from a worker thread that a blocking
Django query costs: for the token check about 0.4 ms of CPU per call under load, for the audit
insert about 60 µs of a call's wall time at one client (measured with ``bench/gateway.py`` and a
per-phase timer). With the connection that listens for token changes (:mod:`.row_cache`), each
gateway worker process therefore holds up to three more PostgreSQL connections than its worker
threads do.
"""

from __future__ import annotations

import asyncio
from typing import Awaitable, Callable, TypeVar

from ..app_settings import app_settings
from .retry import Tries, is_transient

__all__ = ["psycopg_params", "connect", "close_quietly", "LoopConnection"]

T = TypeVar("T")


def psycopg_params(django_connection) -> dict:
    """Keyword arguments for ``psycopg.AsyncConnection.connect`` from a Django PostgreSQL connection.

    The result carries the connection settings (host, database, credentials, ``OPTIONS``) without
    Django's synchronous-only ones, a ``connect_timeout`` of 5 s unless one is set, and
    ``prepare_threshold=None`` (no server-side prepared statements) when
    ``MCPRAG_DB_PREPARED_STATEMENTS`` is off, for poolers that cannot keep them.
    """
    params = django_connection.get_connection_params()
    for sync_only in ("cursor_factory", "context", "prepare_threshold"):
        params.pop(sync_only, None)
    if not app_settings.DB_PREPARED_STATEMENTS:
        params["prepare_threshold"] = None
    params.setdefault("connect_timeout", 5)
    return params


async def connect(params: dict):
    """A new psycopg ``AsyncConnection`` in autocommit mode, from :func:`psycopg_params`' result.

    :raises psycopg.OperationalError: the server cannot be reached (after ``connect_timeout``).
    """
    import psycopg

    return await psycopg.AsyncConnection.connect(autocommit=True, **params)


async def close_quietly(db) -> None:
    """Close ``db`` (None or already closed: nothing to do), ignoring errors: closing a broken
    connection must not hide the failure that led to closing it."""
    if db is not None and not db.closed:
        try:
            await db.close()
        except Exception:
            pass


class LoopConnection:
    """One psycopg ``AsyncConnection`` of one event loop, and its one cursor (a cursor reused for
    every statement costs ~15 % less CPU each than a new one, measured).

    Use it as ``await conn.run(work, tries)``: ``work(cursor)`` runs on the open connection, which
    is opened first if there is none. After a transient error (:func:`.retry.is_transient`), or
    any error that left the connection broken, the connection is closed so the next try opens a
    new one; ``tries`` decides whether and when to try again.

    :param params: :func:`psycopg_params`' result.
    """

    def __init__(self, params: dict) -> None:
        self.params = params
        #: The open ``AsyncConnection``, or None between a failure (or :meth:`close`) and the next use.
        self.db = None
        self._cursor = None

    async def cursor(self):
        """The connection's cursor, connecting first when needed.

        :raises psycopg.OperationalError: the server cannot be reached.
        """
        if self.db is None or self.db.closed:
            self.db = await connect(self.params)
            self._cursor = self.db.cursor()
        return self._cursor

    async def run(self, work: Callable[[object], Awaitable[T]], tries: Tries,
                  on_retry: Callable[[BaseException, float], None] | None = None) -> T:
        """``await work(cursor)``, tried again as ``tries`` allows after each error.

        :param on_retry: called with the error and the pause (seconds) before each new try.
        :raises psycopg.Error: the last error, once ``tries`` gives up.
        """
        import psycopg

        while True:
            try:
                return await work(await self.cursor())
            except psycopg.Error as exc:
                if is_transient(exc) or self.db is None or self.db.broken:
                    await self.close()  # the next try reconnects
                pause = tries.pause_after(exc)  # re-raises exc when there is no next try
                if on_retry is not None:
                    on_retry(exc, pause)
                if pause:
                    await asyncio.sleep(pause)

    async def close(self) -> None:
        """Close the connection (a later :meth:`run` opens a new one)."""
        db, self.db, self._cursor = self.db, None, None
        await close_quietly(db)
