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
- The cache is used only while the listening connection is up **and heard**: every 5 s a
  heartbeat notification is sent from the lookup connection and must come back on the listening
  one within 2 s (a transaction-mode pooler, or a connection whose peer vanished, fails it). At
  connect, the migration's triggers must be on all six tables. Otherwise (at start, after a
  PostgreSQL restart, on any error) the cache is empty and unused: every call reads the database,
  as without it. Reconnection backs off from 0.5 s to 30 s unless the last connection lasted.
- An entry lives at most ``MCPRAG_TOKEN_CACHE_SECONDS`` (default 30 s) and never past its
  token's expiry, in case a notification is ever lost without the connection failing.
- At most 4096 entries, least recently used dropped first. Only live rows are kept: an unknown,
  revoked or expired token always reads the database.
- Saves and deletes made by this process through the ORM (the authorization server's revocation
  endpoint, the connected-agents page, tier changes, the admin) also empty this process's caches as
  soon as they commit, without waiting for the notification (:func:`connect_local_changes`, Django's ``post_save``/``post_delete``/
  ``m2m_changed`` signals and ``transaction.on_commit``).

``MCPRAG_TOKEN_CACHE_SECONDS=0`` turns the cache off (the default behind
``MCPRAG_DB_PREPARED_STATEMENTS=false``: a transaction-mode pooler does not deliver ``LISTEN``
notifications).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections import OrderedDict
from datetime import datetime
from typing import Awaitable, Callable

from django.utils import timezone

from .connection import close_quietly, connect

__all__ = ["TokenRowCache", "CHANNEL", "connect_local_changes"]

logger = logging.getLogger(__name__)

#: The notification channel the migration's triggers write to, and their name.
CHANNEL = "mcprag_bearer"
TRIGGER = "mcprag_bearer_changed"
#: Tables the migration puts the trigger on: tokens, applications, users, profiles, groups, memberships.
_TRIGGERED_TABLES = 6
#: Heartbeat payloads start with this; table names (the triggers' payloads) never do.
_PROBE_PREFIX = "heartbeat:"
_HEARTBEAT_SECONDS = 5.0
_PROBE_TIMEOUT_SECONDS = 2.0
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

    :param params: psycopg connection keywords (:func:`.connection.psycopg_params`).
    :param seconds: the longest an entry is used, in seconds (> 0).
    :param probe: sends ``pg_notify('mcprag_bearer', payload)`` on another connection (the heartbeat).
    :param on_stop: awaited when the listening task ends (the event loop shuts down).
    """

    def __init__(self, params: dict, seconds: float, *, probe: Callable[[str], Awaitable[None]],
                 on_stop: Callable[[], Awaitable[None]] | None = None) -> None:
        self._params = dict(params)
        self._probe = probe
        self._on_stop = on_stop
        # A listener that only reads never notices a peer that vanished without closing the
        # connection; TCP keepalives find out within about 25 s (the entries' age limit covers the rest).
        for key, value in (("keepalives", 1), ("keepalives_idle", 10), ("keepalives_interval", 5),
                           ("keepalives_count", 3)):
            self._params.setdefault(key, value)
        self._seconds = float(seconds)
        self._rows: OrderedDict[str, tuple[object, float]] = OrderedDict()
        self._generation = 0
        self._db = None  # the listening connection, while it is open
        self._fd: int | None = None  # its socket, as registered with the event loop
        self._live = False  # listening, and the last heartbeat came back
        self._probe_payload = ""
        self._probe_seen = asyncio.Event()
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
        """Whether the cache is in use (the listening connection is up and its heartbeat heard)."""
        return self._current()

    # -- notifications -------------------------------------------------------------------------

    def _current(self) -> bool:
        """Apply the notifications already received; True while listening and heard."""
        if not self._live:
            return False
        if self._seen_local != _local_changes:
            self._seen_local = _local_changes
            self._invalidate()
        self._drain()
        return self._live

    def _drain(self) -> None:
        """Read what the listening socket holds, without blocking (libpq's socket is non-blocking),
        and empty the cache if any change notification came."""
        import psycopg

        if self._db is None:
            return
        pgconn = self._db.pgconn
        try:
            pgconn.consume_input()
        except psycopg.Error:
            self._lose("the listening connection failed")
            return
        changed = False
        while (notification := pgconn.notifies()) is not None:
            payload = notification.extra.decode("utf-8", "replace")
            if payload == self._probe_payload:
                self._probe_seen.set()
            elif not payload.startswith(_PROBE_PREFIX):  # other processes' heartbeats change nothing
                changed = True
        if changed:
            self._invalidate()
        if pgconn.status != psycopg.pq.ConnStatus.OK:
            self._lose("the listening connection closed")

    def _invalidate(self) -> None:
        self._generation += 1
        self._rows.clear()

    def _lose(self, why: str, *, warn: bool = True) -> None:
        if self._db is None:
            return
        self._invalidate()
        self._live = False
        if self._fd is not None:
            # The descriptor saved at registration: after a lost connection libpq has already
            # closed its socket, and a stale registration would swallow a later socket's events.
            asyncio.get_running_loop().remove_reader(self._fd)
            self._fd = None
        self._db = None
        if warn and not self._closed:
            logger.warning("Token row cache off: %s; every call reads the database until it listens again", why)
        if self._down is not None:
            self._down.set()

    async def _heard(self) -> bool:
        """Send a heartbeat through another connection and wait for it on the listening one: proof
        that notifications from other sessions reach this process (a pooler or a half-open
        connection fails it)."""
        payload = f"{_PROBE_PREFIX}{secrets.token_hex(8)}"
        self._probe_payload, self._probe_seen = payload, asyncio.Event()
        # ``asyncio.timeout``, not ``wait_for``: on Python 3.11 ``wait_for`` swallows a cancellation
        # that arrives as the awaited step finishes, and this loop would then outlive its event loop.
        try:
            async with asyncio.timeout(_PROBE_TIMEOUT_SECONDS):
                await self._probe(payload)
            async with asyncio.timeout(_PROBE_TIMEOUT_SECONDS):
                await self._probe_seen.wait()
        except Exception:  # noqa: BLE001 - any failure means: not heard
            return False
        return self._db is not None

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> None:
        """Start listening from the running event loop (once; later calls do nothing)."""
        if self._task is None and not self._closed:
            self._task = asyncio.get_running_loop().create_task(self._listen(), name="mcprag-token-row-cache")

    async def _listen(self) -> None:
        try:
            delay = _FIRST_RETRY_SECONDS
            while not self._closed:
                started = time.monotonic()
                await self._listen_once()
                # Back off unless the connection lasted: a server that drops it at once (a pooler,
                # idle_session_timeout) is not reconnected to in a tight loop.
                delay = _FIRST_RETRY_SECONDS if time.monotonic() - started > _LAST_RETRY_SECONDS else min(delay * 2, _LAST_RETRY_SECONDS)
                await asyncio.sleep(delay)
        except asyncio.CancelledError:
            self._closed = True  # the loop is shutting down
            raise
        finally:
            if self._on_stop is not None:
                await self._on_stop()

    async def _listen_once(self) -> None:
        """One listening connection, from connect to loss."""
        import psycopg

        db = None
        try:
            db = await connect(self._params)
            await db.execute(f"LISTEN {CHANNEL}")
            cursor = await db.execute("SELECT count(DISTINCT tgrelid) FROM pg_trigger WHERE tgname = %s AND tgenabled <> 'D'",
                                      [TRIGGER])
            triggered = (await cursor.fetchone())[0]
        except (psycopg.Error, OSError) as exc:
            await close_quietly(db)
            self._failures += 1
            if self._failures == 1:
                logger.warning("Token row cache cannot listen on PostgreSQL (%s); retrying", exc.__class__.__name__)
            return
        except BaseException:
            await close_quietly(db)
            raise
        if triggered < _TRIGGERED_TABLES:
            await close_quietly(db)
            self._failures += 1
            if self._failures == 1:
                logger.warning("Token row cache off: the change triggers are on %d of %d tables "
                               "(run `python manage.py migrate`); retrying", triggered, _TRIGGERED_TABLES)
            return
        self._down = asyncio.Event()
        self._invalidate()  # anything kept from before is from before this connection
        self._db, self._fd = db, db.pgconn.socket
        asyncio.get_running_loop().add_reader(self._fd, self._drain)
        try:
            while await self._heard():
                if not self._live:
                    self._live = True
                    if self._failures:
                        logger.info("Token row cache listening again")
                    self._failures = 0
                try:
                    async with asyncio.timeout(_HEARTBEAT_SECONDS):
                        await self._down.wait()
                    return  # lost
                except TimeoutError:
                    pass
            self._failures += 1  # e.g. behind a pooler: warned once, not on every retry
            self._lose("a heartbeat notification did not come back", warn=self._failures == 1)
        except asyncio.CancelledError:
            self._closed = True  # the loop is shutting down: nothing to warn about
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
                current = asyncio.current_task()
                if current is not None and current.cancelling():
                    raise  # the caller itself is being cancelled: not ours to swallow
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
