"""The access-token lookup behind every bearer check (:mod:`mcp_gateway.auth.bearer`): one
statement, from a worker thread or straight from the event loop.

:func:`token_row` runs it on Django's connection (blocking: call it from a worker thread).
:func:`fetch_token_row` runs the very same statement from the gateway's event loop, without the
worker-thread hop, on a connection of its own per event loop:

- **PostgreSQL**: a psycopg ``AsyncConnection`` (autocommit, read-only use), built from the same
  ``DATABASES`` entry; the statement is prepared on the server at its first use (250 µs a lookup
  instead of 800 µs of mostly planning, measured), unless
  ``MCPRAG_DB_PREPARED_STATEMENTS`` is off (``MCPRAG_DB_PREPARED_STATEMENTS=false``, for a pooler
  that cannot keep prepared statements).
- **SQLite** (the embedded default, WAL mode): a read-only ``sqlite3`` connection queried inline;
  one indexed lookup is a few tens of microseconds of local reads, less than the hand-off to a
  worker thread costs, and a WAL reader never waits for the writer.

Handing each request's check to a worker thread cost about 0.4 ms of CPU per ``tools/call`` under
load (GIL hand-offs between the loop and the pool), as much as the lookup itself
(``bench/gateway.py``, "auth on/off" column). A revoked token, a disabled client or person, a
lowered tier all count from the next call: on PostgreSQL the rows read are kept in memory only
while the loop listens for the notifications that any such change sends
(:mod:`.row_cache`); otherwise every answer comes from the database at the time of the call.

When this path cannot answer (the database unreachable even after one reconnect, a locked SQLite
file, a backend other than these two), :func:`fetch_token_row` raises :class:`LookupUnavailable`
and the caller falls back to :func:`token_row` on a worker thread, whose errors are the ones the
gateway already handles.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import weakref
from typing import NamedTuple

from django.db import connections
from django.utils import timezone
from oauth2_provider.models import get_access_token_model, get_application_model

from ..app_settings import app_settings
from .connection import LoopConnection, psycopg_params
from .retry import Tries
from .row_cache import CHANNEL, TokenRowCache

__all__ = ["TokenRow", "token_row", "fetch_token_row", "LookupUnavailable"]

logger = logging.getLogger(__name__)


class TokenRow(NamedTuple):
    """One access token with what the bearer check needs of its client, person, tier and groups."""

    token_id: int
    live: bool
    resource: object
    scope: str
    client_id: str | None
    client_name: str
    grant_type: str
    allowed_scopes: str
    allowed_repositories: str
    client_disabled: bool
    user_id: int | None
    username: str
    user_active: bool
    tier: str | None
    groups: frozenset[str]
    #: The token's expiry as stored (a datetime on PostgreSQL; how the backend returns it otherwise).
    expires: object = None


class LookupUnavailable(Exception):
    """The event-loop lookup cannot answer now; use :func:`token_row` on a worker thread."""


_lookup_sql: dict[tuple[str, bool], str] = {}


def lookup_statement(connection, *, many: bool = False) -> str:
    """The token lookup, built once per database vendor from the models' metadata, with ``%s``
    placeholders for (now, token checksum); with ``many`` (PostgreSQL), for (now, array of
    checksums), each row led by its checksum.

    It is written out rather than composed by the ORM on each request: compiling the equivalent
    ``select_related`` query cost about 1.5 ms of CPU per ``tools/call`` (measured), more than the
    JWT check and the round trip together.
    """
    sql = _lookup_sql.get((connection.vendor, many))
    if sql is None:
        from django.contrib.auth import get_user_model

        from oauth_app.models import Profile

        q = connection.ops.quote_name
        token_model, app_model, user_model = get_access_token_model(), get_application_model(), get_user_model()
        membership = user_model.groups.through
        group_model = user_model.groups.field.related_model

        def table(model) -> str:
            return q(model._meta.db_table)

        def col(alias: str, model, name: str) -> str:
            return f"{alias}.{q(model._meta.get_field(name).column)}"

        user_fk = next(f for f in membership._meta.concrete_fields if f.related_model is user_model)
        group_fk = next(f for f in membership._meta.concrete_fields if f.related_model is group_model)
        # The person's group names as one value: an array on PostgreSQL, a JSON array on SQLite
        # (joining them instead made the statement ~30 % slower to plan on PostgreSQL, measured).
        members = (f"FROM {table(group_model)} g JOIN {table(membership)} m "
                   f"ON g.{q(group_model._meta.pk.column)} = m.{q(group_fk.column)} "
                   f"WHERE m.{q(user_fk.column)} = u.{q(user_model._meta.pk.column)}")
        groups = (f"ARRAY(SELECT {col('g', group_model, 'name')} {members})" if connection.vendor == "postgresql"
                  else f"(SELECT json_group_array({col('g', group_model, 'name')}) {members})")
        checksum = col('t', token_model, 'token_checksum')
        sql = (
            f"SELECT {checksum + ', ' if many else ''}{col('t', token_model, 'id')}, CASE WHEN {col('t', token_model, 'expires')} > %s THEN 1 ELSE 0 END, "
            f"{col('t', token_model, 'resource')}, {col('t', token_model, 'scope')}, "
            f"{col('a', app_model, 'client_id')}, {col('a', app_model, 'name')}, "
            f"{col('a', app_model, 'authorization_grant_type')}, {col('a', app_model, 'allowed_scopes')}, "
            f"{col('a', app_model, 'allowed_repositories')}, "
            f"CASE WHEN {col('a', app_model, 'disabled_at')} IS NULL THEN 0 ELSE 1 END, "
            f"{col('u', user_model, 'id')}, {col('u', user_model, user_model.USERNAME_FIELD)}, "
            f"{col('u', user_model, 'is_active')}, {col('p', Profile, 'tier')}, {groups}, {col('t', token_model, 'expires')} "
            f"FROM {table(token_model)} t "
            f"LEFT JOIN {table(app_model)} a ON a.{q(app_model._meta.pk.column)} = {col('t', token_model, 'application')} "
            f"LEFT JOIN {table(user_model)} u ON u.{q(user_model._meta.pk.column)} = {col('t', token_model, 'user')} "
            f"LEFT JOIN {table(Profile)} p ON {col('p', Profile, 'user')} = u.{q(user_model._meta.pk.column)} "
            f"WHERE {checksum} {'= ANY(%s)' if many else '= %s'}"
        )
        _lookup_sql[(connection.vendor, many)] = sql
    return sql


def _decode(fetched) -> TokenRow | None:
    if fetched is None:
        return None
    (token_id, live, resource, scope, client_id, name, grant, allowed, repositories, disabled,
     user_id, username, active, tier, groups, expires) = fetched
    if isinstance(groups, str):
        groups = json.loads(groups)
    return TokenRow(token_id, bool(live), resource, scope, client_id, name or "", grant or "", allowed or "",
                    repositories or "", bool(disabled), user_id, username or "", bool(active), tier,
                    frozenset(g for g in groups or () if isinstance(g, str)), expires)


def _connection():
    return connections[get_access_token_model().objects.db]


def token_row(checksum: str) -> TokenRow | None:
    """The access-token row with its client, person, tier and group names, or None (blocking).

    :param checksum: SHA-256 hex of the raw token (tokens are stored hashed, DOT ``token_checksum``).
    """
    connection = _connection()
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(lookup_statement(connection), [now, checksum])
        return _decode(cursor.fetchone())


class _SqliteReader:
    """Read-only ``sqlite3`` connection used from the event loop's thread only."""

    def __init__(self, django_connection) -> None:
        self._ops = django_connection.ops
        self._name = str(django_connection.settings_dict["NAME"])
        self._sql = lookup_statement(django_connection).replace("%s", "?")
        self._db: sqlite3.Connection | None = None

    async def fetch(self, checksum: str) -> TokenRow | None:
        now = self._ops.adapt_datetimefield_value(timezone.now())
        try:
            if self._db is None:
                # A short busy timeout: a WAL reader is only kept waiting in rare moments (recovery),
                # and then the worker-thread path, with Django's own timeout, takes over.
                self._db = sqlite3.connect(self._name, uri=True, timeout=0.05, check_same_thread=False,
                                           isolation_level=None)
                self._db.execute("PRAGMA query_only = ON")
            # fetchall steps the statement to its end, so no read transaction stays open between calls.
            rows = self._db.execute(self._sql, (now, checksum)).fetchall()
            return _decode(rows[0] if rows else None)
        except sqlite3.Error as exc:
            self.close()
            raise LookupUnavailable(exc.__class__.__name__) from None

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


class _PostgresReader:
    """One psycopg ``AsyncConnection`` per event loop, and **group lookup**: while one lookup is on
    the wire, the checksums of the requests that arrive meanwhile wait for the next one and go
    together in a single ``= ANY(…)`` statement. A lone call costs one round trip as before; 32
    concurrent calls cost a few instead of 32 (each with its wake-ups here and in a PostgreSQL
    backend, on the same cores). A request never joins a lookup already sent, so every answer is
    read after the request arrived: a revocation committed before it counts. A request that finds
    nothing on the wire and nobody waiting looks up in its own task (:meth:`_fetch_alone`).
    """

    def __init__(self, django_connection) -> None:
        params = psycopg_params(django_connection)
        self._sql_one = lookup_statement(django_connection)
        self._sql_many = lookup_statement(django_connection, many=True)
        self.connection = LoopConnection(params)
        # Prepared on the server from the first use (the lookup runs on every call), unless turned off.
        self._prepare = None if "prepare_threshold" in params else True
        self._wire = asyncio.Lock()  # one lookup on the wire at a time
        self._next: _Group | None = None  # the group the next arriving request joins
        seconds = app_settings.TOKEN_CACHE_SECONDS
        self._cache = None
        if seconds > 0:
            self._cache = TokenRowCache(params, seconds, probe=self._notify, on_stop=self._stopped)
            self._cache.start()

    async def fetch(self, checksum: str) -> TokenRow | None:
        cache = self._cache
        if cache is None:
            return await self._read(checksum)
        row = cache.get(checksum)
        if row is not None:
            return row
        mark = cache.mark()
        row = await self._read(checksum)
        cache.put(checksum, row, mark)
        return row

    async def _read(self, checksum: str) -> TokenRow | None:
        group = self._next
        if group is None and not self._wire.locked():
            return await self._fetch_alone(checksum)
        if group is None:
            group = self._next = _Group()
            group.sent = asyncio.ensure_future(self._send(group))
            group.sent.add_done_callback(_retrieved)
        group.checksums.add(checksum)
        rows = await asyncio.shield(group.sent)  # a caller that goes away does not cancel the others'
        return rows.get(checksum)

    async def _fetch_alone(self, checksum: str) -> TokenRow | None:
        """Nothing on the wire and nobody waiting: look up in the caller's own task, without a group
        task and its hand-offs; requests arriving meanwhile group up for the next lookup. If the
        caller is cancelled mid-statement, psycopg cancels it on the server and the connection
        stays usable (tested)."""
        async with self._wire:
            return (await self._lookup([checksum])).get(checksum)

    async def _send(self, group: _Group) -> dict[str, TokenRow]:
        async with self._wire:
            if self._next is group:
                self._next = None  # closed: later requests wait for the next lookup
            return await self._lookup(sorted(group.checksums))

    async def _lookup(self, checksums: list[str]) -> dict[str, TokenRow]:
        """The rows of ``checksums``, on this loop's connection. A restarted server or a dropped
        connection is tried once more on a new connection; after that, or after any other error,
        the worker-thread path answers (it has Django's own reconnection and errors)."""
        import psycopg

        async def lookup(cursor) -> dict[str, TokenRow]:
            if len(checksums) == 1:  # the usual case below full load: the plan of a single-key lookup
                await cursor.execute(self._sql_one, (timezone.now(), checksums[0]), prepare=self._prepare)
                fetched = await cursor.fetchone()
                return {} if fetched is None else {checksums[0]: _decode(fetched)}
            await cursor.execute(self._sql_many, (timezone.now(), checksums), prepare=self._prepare)
            return {fetched[0]: _decode(fetched[1:]) for fetched in await cursor.fetchall()}

        try:
            return await self.connection.run(lookup, Tries(attempts=2))
        except psycopg.Error as exc:
            raise LookupUnavailable(exc.__class__.__name__) from None

    async def _notify(self, payload: str) -> None:
        """The token-row cache's heartbeat: ``pg_notify`` on this reader's connection.

        :raises psycopg.Error: it could not be sent.
        """
        async def notify(cursor) -> None:
            await cursor.execute("SELECT pg_notify(%s, %s)", (CHANNEL, payload))

        async with self._wire:
            await self.connection.run(notify, Tries(attempts=1))

    async def _stopped(self) -> None:
        """The event loop is shutting down: close this reader's connection and forget it."""
        await self.close()
        loop = asyncio.get_running_loop()
        if _readers.get(loop) is self:
            del _readers[loop]

    async def close(self) -> None:
        await self.connection.close()


def _retrieved(task: asyncio.Future) -> None:
    """Mark a failed lookup's error as seen even if every caller of it went away meanwhile."""
    if not task.cancelled():
        task.exception()


class _Group:
    """Checksums waiting for the same lookup, and that lookup's task."""

    __slots__ = ("checksums", "sent")

    def __init__(self) -> None:
        self.checksums: set[str] = set()
        self.sent: asyncio.Future | None = None


_READERS = {"sqlite": _SqliteReader, "postgresql": _PostgresReader}
_readers: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


async def fetch_token_row(checksum: str) -> TokenRow | None:
    """:func:`token_row`, from the running event loop without a worker thread.

    :raises LookupUnavailable: this path cannot answer now (see the module docstring); nothing was
        decided about the token.
    """
    loop = asyncio.get_running_loop()
    reader = _readers.get(loop)
    if reader is None:
        connection = _connection()
        factory = _READERS.get(connection.vendor)
        if factory is None:
            raise LookupUnavailable(connection.vendor)
        reader = _readers[loop] = factory(connection)
    return await reader.fetch(checksum)
