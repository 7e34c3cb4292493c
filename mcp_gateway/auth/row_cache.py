"""Token rows kept in memory per gateway process, dropped when PostgreSQL says they changed.

Every ``tools/call`` needs its token's row (revocation, client, person, tier, groups:
:mod:`.token_rows`). Reading it costs a round trip, and in ``bench/gateway.py`` that round trip
was the difference between the bearer check on and off. On PostgreSQL the rows are therefore kept
in memory — **only while this process is listening** for the notifications that the migration
``mcp_gateway.0002_bearer_change_notifications`` sends on channel ``mcprag_bearer`` whenever a
token, client, person, profile, group or group membership is written:

- Any notification empties the cache (they are rare: a revocation, a refresh, a sign-in, a tier
  change). PostgreSQL sends it when the writing transaction commits.
- Before every cache read, the notifications already on the listening socket are applied, without
  waiting (libpq ``PQconsumeInput``/``PQnotifies``, psycopg's ``pq`` layer). A revocation whose
  commit reached this process before a request is checked counts for that request; what is left
  is the time a notification takes to cross from the server to this process (RFC 7009 §2 allows
  for such "propagation delay").
- A row read while a notification arrived is not kept (a generation counter).
- While the listening connection is down (at start, after a PostgreSQL restart, on any error) the
  cache is empty and unused: every call reads the database, as without it. Reconnection backs off
  from 0.5 s to 30 s.
- An entry lives at most ``settings.MCPRAG_TOKEN_CACHE_SECONDS`` (default 30 s) and never past its
  token's expiry, in case a notification is ever lost without the connection failing.
- At most 4096 entries, least recently used dropped first. Only live rows are kept: an unknown,
  revoked or expired token always reads the database.
- Writes made by this process through the ORM (the authorization server's revocation endpoint, the
  console, the admin) also empty this process's caches as soon as they commit, without waiting for
  the notification (:func:`connect_local_changes`, Django's ``post_save``/``post_delete``/
  ``m2m_changed`` signals and ``transaction.on_commit``).

``MCPRAG_TOKEN_CACHE_SECONDS=0`` turns the cache off (the default behind
``MCPRAG_DB_PREPARED_STATEMENTS=false``: a transaction-mode pooler does not deliver ``LISTEN``
notifications).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from datetime import datetime

from django.utils import timezone

from ..loop_db import close_quietly, connect

__all__ = ["TokenRowCache", "CHANNEL", "connect_local_changes"]

logger = logging.getLogger(__name__)

#: The notification channel the migration's triggers write to.
CHANNEL = "mcprag_bearer"
_MAX_ENTRIES = 4096
_FIRST_RETRY_SECONDS = 0.5
_LAST_RETRY_SECONDS = 30.0

#: Committed ORM writes in this process that may change a token row (see connect_local_changes).
_local_changes = 0


def _note_local_change() -> None:
    global _local_changes
    _local_changes += 1  # read without a lock by every cache: a stale read only delays by one call


class TokenRowCache:
    """Token rows by checksum, for one event loop, valid only while ``LISTEN mcprag_bearer`` is live.

    Use it as: ``row = cache.get(checksum)``; on a miss, ``mark = cache.mark()`` before reading the
    database and ``cache.put(checksum, row, mark)`` after. :meth:`start` (idempotent) starts the
    listening task on the running loop; :meth:`close` stops it.

    :param params: psycopg connection keywords (:func:`mcp_gateway.loop_db.psycopg_params`).
    :param seconds: the longest an entry is used, in seconds (> 0).
    """

    def __init__(self, params: dict, seconds: float) -> None:
        self._params = dict(params)
        # A listener that only reads never notices a peer that vanished without closing the
        # connection; TCP keepalives find out within about 25 s (the entries' age limit covers the rest).
        for key, value in (("keepalives", 1), ("keepalives_idle", 10), ("keepalives_interval", 5),
                           ("keepalives_count", 3)):
            self._params.setdefault(key, value)
        self._seconds = float(seconds)
        self._rows: OrderedDict[str, tuple[object, float]] = OrderedDict()
        self._generation = 0
        self._db = None  # the listening connection, while it is live
        self._down: asyncio.Event | None = None
        self._task: asyncio.Task | None = None
        self._closed = False
        self._failures = 0
        self._seen_local = _local_changes

    # -- reads and writes ----------------------------------------------------------------------

    def get(self, checksum: str):
        """The kept row of ``checksum``, or None (not kept, too old, or not listening)."""
        if not self._current():
            return None
        hit = self._rows.get(checksum)
        if hit is None:
            return None
        row, deadline = hit
        if time.monotonic() >= deadline:
            del self._rows[checksum]
            return None
        self._rows.move_to_end(checksum)
        return row

    def mark(self) -> int | None:
        """A marker to pass to :meth:`put` for a row about to be read; None when not listening."""
        return self._generation if self._current() else None

    def put(self, checksum: str, row, mark: int | None) -> None:
        """Keep ``row`` (a live :class:`.token_rows.TokenRow`) unless something changed since
        :meth:`mark` returned ``mark``, or the cache is not listening."""
        if mark is None or row is None or not row.live or not self._current() or mark != self._generation:
            return
        lifetime = self._seconds
        if isinstance(row.expires, datetime):
            lifetime = min(lifetime, (row.expires - timezone.now()).total_seconds())
        if lifetime <= 0:
            return
        self._rows[checksum] = (row, time.monotonic() + lifetime)
        self._rows.move_to_end(checksum)
        while len(self._rows) > _MAX_ENTRIES:
            self._rows.popitem(last=False)

    @property
    def listening(self) -> bool:
        """Whether the cache is in use (the listening connection is up)."""
        return self._current()

    # -- notifications -------------------------------------------------------------------------

    def _current(self) -> bool:
        """Apply the notifications already received; True while listening."""
        if self._db is None:
            return False
        if self._seen_local != _local_changes:
            self._seen_local = _local_changes
            self._invalidate()
        self._drain()
        return self._db is not None

    def _drain(self) -> None:
        """Read what the listening socket holds, without blocking (libpq's socket is non-blocking),
        and empty the cache if any notification came."""
        import psycopg

        pgconn = self._db.pgconn
        try:
            pgconn.consume_input()
        except psycopg.Error:
            self._lose("the listening connection failed")
            return
        changed = False
        while pgconn.notifies() is not None:
            changed = True
        if changed:
            self._invalidate()
        if pgconn.status != psycopg.pq.ConnStatus.OK:
            self._lose("the listening connection closed")

    def _invalidate(self) -> None:
        self._generation += 1
        self._rows.clear()

    def _lose(self, why: str) -> None:
        if self._db is None:
            return
        self._invalidate()
        try:
            asyncio.get_running_loop().remove_reader(self._db.pgconn.socket)
        except Exception:  # the socket is already gone
            pass
        self._db = None
        if not self._closed:
            logger.warning("Token row cache off: %s; every call reads the database until it reconnects", why)
        if self._down is not None:
            self._down.set()

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> None:
        """Start listening from the running event loop (once; later calls do nothing)."""
        if self._task is None and not self._closed:
            self._task = asyncio.get_running_loop().create_task(self._listen(), name="mcprag-token-row-cache")

    async def _listen(self) -> None:
        import psycopg

        delay = _FIRST_RETRY_SECONDS
        while not self._closed:
            db = None
            try:
                db = await connect(self._params)
                await db.execute(f"LISTEN {CHANNEL}")
            except BaseException as exc:
                await close_quietly(db)
                if not isinstance(exc, (psycopg.Error, OSError)):
                    self._closed = True  # cancelled: the loop is shutting down
                    raise
                self._failures += 1
                if self._failures == 1:
                    logger.warning("Token row cache cannot listen on PostgreSQL (%s); retrying", exc.__class__.__name__)
                await asyncio.sleep(delay)
                delay = min(delay * 2, _LAST_RETRY_SECONDS)
                continue
            if self._failures:
                logger.info("Token row cache listening again")
            self._failures = 0
            delay = _FIRST_RETRY_SECONDS
            self._down = asyncio.Event()
            self._invalidate()  # anything kept from before is from before this connection
            self._db = db
            asyncio.get_running_loop().add_reader(db.pgconn.socket, self._drain)
            try:
                await self._down.wait()
            except asyncio.CancelledError:
                self._closed = True  # the loop is shutting down
                raise
            finally:
                self._lose("stopped")
                await close_quietly(db)

    async def close(self) -> None:
        """Stop listening and forget every row."""
        self._closed = True
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except (asyncio.CancelledError, Exception):
                pass
        self._lose("closed")


def connect_local_changes() -> None:
    """Empty this process's token-row caches when an ORM write here that may change a token row
    commits: any save or delete of an access token, application, user, profile or group, and any
    change of a user's groups. Writes elsewhere (other processes, raw SQL) are covered by the
    PostgreSQL notifications."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import transaction
    from django.db.models.signals import m2m_changed, post_delete, post_save
    from oauth2_provider.models import get_access_token_model, get_application_model

    from oauth_app.models import Profile

    def changed(sender, using=None, **kwargs) -> None:
        transaction.on_commit(_note_local_change, using=using)

    user_model = get_user_model()
    for model in (get_access_token_model(), get_application_model(), user_model, Profile, Group):
        post_save.connect(changed, sender=model, weak=False, dispatch_uid=f"mcprag-row-cache-save-{model._meta.label}")
        post_delete.connect(changed, sender=model, weak=False, dispatch_uid=f"mcprag-row-cache-delete-{model._meta.label}")
    m2m_changed.connect(changed, sender=user_model.groups.through, weak=False, dispatch_uid="mcprag-row-cache-groups")
