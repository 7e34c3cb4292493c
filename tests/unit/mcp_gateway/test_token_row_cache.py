"""The token-row cache of the gateway's event loop on PostgreSQL (``mcp_gateway.db.row_cache``).

A row is answered from memory only while the loop listens on ``mcprag_bearer``; every write that
can change a bearer decision notifies it (the migration's triggers), and ORM writes in this process
empty it at commit. These tests change rows the way other processes do — raw SQL on a connection
of their own, so no Django signal fires — and check what the next checks answer. They use committed
data (``transaction=True``): the loop's connections are not the test's.
"""

from __future__ import annotations

import asyncio
import hashlib
import time

import psycopg
import pytest
from django.db import connection
from oauth2_provider.models import get_access_token_model

from mcp_gateway.auth import bearer
from mcp_gateway.auth.bearer import InvalidToken, averify_access_token, verify_access_token
from mcp_gateway.db import token_rows

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="LISTEN/NOTIFY is PostgreSQL's"),
]

WAIT = 5.0  # seconds: far above a notification's trip on loopback, far below the cache's 30 s


@pytest.fixture(autouse=True)
def no_worker_thread(monkeypatch):
    async def refuse(*args, **kwargs):
        raise AssertionError("the bearer check went to a worker thread")

    monkeypatch.setattr(bearer, "in_thread", refuse)


def _params() -> dict:
    keep = ("dbname", "user", "password", "host", "port")
    return {k: v for k, v in connection.get_connection_params().items() if k in keep}


def _sql(*statements: tuple[str, list], notify: bool = True) -> None:
    """Run ``(statement, params)`` pairs in one transaction on a connection of its own, as another
    process would, and commit; with ``notify=False`` in replica mode, where PostgreSQL fires no
    ordinary trigger."""
    with psycopg.connect(**_params()) as other:
        if not notify:
            other.execute("SET session_replication_role = replica")
        for statement, params in statements:
            other.execute(statement, params)
        other.commit()


def _checksum(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _table(model) -> str:
    return model._meta.db_table


async def _listening_cache():
    """The running loop's cache, once it listens."""
    reader = token_rows._readers[asyncio.get_running_loop()]
    deadline = time.monotonic() + WAIT
    while not reader._cache.listening:
        assert time.monotonic() < deadline, "the cache never started listening"
        await asyncio.sleep(0.01)
    return reader._cache


async def _in_thread(fn, *args):
    return await asyncio.get_running_loop().run_in_executor(None, fn, *args)


async def _cached(token: str):
    """Check ``token`` until its row is kept, and return the cache."""
    await averify_access_token(token)
    cache = await _listening_cache()
    await averify_access_token(token)
    assert cache.get(_checksum(token)) is not None
    return cache


async def _until_refused(token: str, match: str) -> float:
    """Seconds until a check of ``token`` is refused with ``match`` (fails after WAIT)."""
    start = time.monotonic()
    while time.monotonic() - start < WAIT:
        try:
            await averify_access_token(token)
        except InvalidToken as exc:
            assert match in str(exc)
            return time.monotonic() - start
        await asyncio.sleep(0.001)
    raise AssertionError(f"still accepted {WAIT} s after the change")


def test_a_kept_row_answers_while_the_token_table_is_locked(issue_token, person):
    kept, fresh = issue_token(), issue_token()
    for token in (kept, fresh):
        verify_access_token(token)
    table = _table(get_access_token_model())

    async def locked():
        await _cached(kept)
        with psycopg.connect(**_params()) as holder:
            holder.execute(f'LOCK TABLE "{table}" IN ACCESS EXCLUSIVE MODE')
            answer = await asyncio.wait_for(averify_access_token(kept), timeout=2)
            waiting = asyncio.ensure_future(averify_access_token(fresh))  # not kept: it reads the table
            await asyncio.sleep(0.3)
            blocked = not waiting.done()
            holder.rollback()
        await asyncio.wait_for(waiting, timeout=10)
        return answer, blocked

    answer, blocked = asyncio.run(locked())
    assert answer.user_id == person.pk
    assert blocked  # the lock is real: only the kept row got past it


def _revoke(token, person, notify: bool = True):
    """Delete the token's row as DOT's ``revoke`` does (its refresh token let go first)."""
    from oauth2_provider.models import get_refresh_token_model

    tokens, refresh = _table(get_access_token_model()), _table(get_refresh_token_model())
    _sql((f'UPDATE "{refresh}" SET access_token_id = NULL WHERE access_token_id IN '
          f'(SELECT id FROM "{tokens}" WHERE token_checksum = %s)', [_checksum(token)]),
         (f'DELETE FROM "{tokens}" WHERE token_checksum = %s', [_checksum(token)]), notify=notify)


def _expire(token, person):
    _sql((f'UPDATE "{_table(get_access_token_model())}" SET expires = now() - interval \'1 second\' '
          f'WHERE token_checksum = %s', [_checksum(token)]))


def _deactivate(token, person):
    _sql((f'UPDATE "{_table(type(person))}" SET is_active = false WHERE id = %s', [person.pk]))


def _disable_client(token, person):
    from oauth2_provider.models import get_application_model

    application_id = get_access_token_model().objects.get(token_checksum=_checksum(token)).application_id
    _sql((f'UPDATE "{_table(get_application_model())}" SET disabled_at = now() WHERE id = %s', [application_id]))


@pytest.mark.parametrize("change, refusal", [
    (_revoke, "revoked"), (_expire, "expired"), (_deactivate, "disabled"), (_disable_client, "disabled by an operator"),
])
def test_a_change_from_another_process_empties_the_cache(token, person, change, refusal):
    verify_access_token(token)

    async def change_then_check():
        cache = await _cached(token)
        await _in_thread(change, token, person)
        waited = await _until_refused(token, refusal)
        return waited, cache.listening

    waited, still_listening = asyncio.run(change_then_check())
    assert waited < 1.0 and still_listening


def test_a_lowered_tier_from_another_process_narrows_the_next_calls(token, person):
    from oauth_app.models import Profile

    verify_access_token(token)

    async def lower_then_check():
        await _cached(token)
        await _in_thread(_sql, (f'UPDATE "{_table(Profile)}" SET tier = %s WHERE user_id = %s', ["public", person.pk]))
        deadline = time.monotonic() + WAIT
        while (await averify_access_token(token)).scopes != {"code:read"}:
            assert time.monotonic() < deadline, "the tier change never reached the cache"
            await asyncio.sleep(0.001)

    asyncio.run(lower_then_check())


def test_a_revocation_through_the_orm_here_counts_on_the_very_next_call(token, person):
    verify_access_token(token)

    async def revoke_then_check():
        await _cached(token)
        await _in_thread(lambda: get_access_token_model().objects.get(token_checksum=_checksum(token)).revoke())
        with pytest.raises(InvalidToken, match="revoked"):  # no waiting: emptied at commit, in this process
            await averify_access_token(token)

    asyncio.run(revoke_then_check())


def test_without_a_notification_a_row_is_kept_no_longer_than_the_setting(token, person, settings):
    settings.MCPRAG_TOKEN_CACHE_SECONDS = 1
    verify_access_token(token)

    async def silent_revocation():
        await _cached(token)
        await _in_thread(lambda: _revoke(token, person, notify=False))
        await asyncio.sleep(0.2)
        still = await averify_access_token(token)  # nothing told this process: the kept row answers
        start = time.monotonic()
        with pytest.raises(InvalidToken, match="revoked"):
            while True:
                await averify_access_token(token)
                assert time.monotonic() - start < WAIT
                await asyncio.sleep(0.05)
        return still, time.monotonic() - start

    still, waited = asyncio.run(silent_revocation())
    assert still.user_id == person.pk
    assert waited <= 1.0


def test_while_the_listening_connection_is_down_every_check_reads_the_database(token, person):
    verify_access_token(token)

    async def drop_listener():
        cache = await _cached(token)
        pid, fd = cache._db.info.backend_pid, cache._fd
        await _in_thread(_sql, ("SELECT pg_terminate_backend(%s)", [pid]))
        deadline = time.monotonic() + WAIT
        while cache._db is not None and cache._db.info.backend_pid == pid:
            assert time.monotonic() < deadline, "the lost connection went unnoticed"
            await asyncio.sleep(0.01)
        dropped = cache.get(_checksum(token)) is None
        if cache._db is None:  # not reconnected yet (it backs off): the dead socket is unregistered,
            # or a later socket given the same number would never be read by this loop
            assert fd not in asyncio.get_running_loop()._selector.get_map()
        await _in_thread(_revoke, token, person)  # no listener may hear this one
        with pytest.raises(InvalidToken, match="revoked"):
            await averify_access_token(token)
        cache = await _listening_cache()  # and it listens again, on a new connection
        return dropped, cache._db.info.backend_pid != pid

    dropped, reconnected = asyncio.run(drop_listener())
    assert dropped and reconnected


def test_a_row_read_while_a_change_arrives_is_not_kept(token, person):
    verify_access_token(token)

    async def change_during_read():
        await averify_access_token(token)
        cache = await _listening_cache()
        reader = token_rows._readers[asyncio.get_running_loop()]
        real = reader._lookup

        async def read_then_change(checksums):
            rows = await real(checksums)  # the row as it was...
            generation = cache._generation
            await _in_thread(_revoke, token, person)  # ...then revoked before it is kept
            while cache._generation == generation:
                cache.listening  # applies what has arrived
                await asyncio.sleep(0.005)
            return rows

        reader._lookup = read_then_change
        first = await averify_access_token(token)
        reader._lookup = real
        return first, cache.get(_checksum(token))

    first, kept = asyncio.run(asyncio.wait_for(change_during_read(), timeout=30))
    assert first.user_id == person.pk  # its check began before the revocation
    assert kept is None


def test_the_cache_can_be_switched_off(token, person, settings):
    settings.MCPRAG_TOKEN_CACHE_SECONDS = 0
    verify_access_token(token)

    async def check_twice():
        await averify_access_token(token)
        reader = token_rows._readers[asyncio.get_running_loop()]
        await _in_thread(_revoke, token, person)
        with pytest.raises(InvalidToken, match="revoked"):
            await averify_access_token(token)
        return reader._cache

    assert asyncio.run(check_twice()) is None


def test_a_listener_that_stops_hearing_its_heartbeat_stops_using_the_cache(token, person, monkeypatch):
    from mcp_gateway.db import row_cache

    monkeypatch.setattr(row_cache, "_HEARTBEAT_SECONDS", 0.2)
    verify_access_token(token)

    async def deafened():
        cache = await _cached(token)
        # As behind a transaction-mode pooler: LISTEN "worked", but nothing sent elsewhere arrives.
        async def lost(payload):
            return None

        cache._probe = lost
        deadline = time.monotonic() + WAIT
        while cache.listening:
            assert time.monotonic() < deadline, "the cache kept trusting a listener it could not hear"
            await asyncio.sleep(0.05)
        await _in_thread(lambda: _revoke(token, person, notify=False))
        with pytest.raises(InvalidToken, match="revoked"):  # read from the database: no waiting
            await averify_access_token(token)

    asyncio.run(deafened())


def test_without_the_change_triggers_the_cache_stays_off(token, person, caplog):
    from django.apps import apps

    from mcp_gateway.db.row_cache import TRIGGER

    migration = __import__("mcp_gateway.migrations.0002_bearer_change_notifications", fromlist=["install"])
    table = _table(get_access_token_model())
    _sql((f'DROP TRIGGER {TRIGGER} ON "{table}"', []))
    try:
        verify_access_token(token)

        async def check():
            await averify_access_token(token)
            reader = token_rows._readers[asyncio.get_running_loop()]
            await asyncio.sleep(0.5)  # time enough to connect, LISTEN and count the triggers
            listening = reader._cache.listening
            await _in_thread(_revoke, token, person)  # the token table notifies nobody now
            with pytest.raises(InvalidToken, match="revoked"):
                await averify_access_token(token)
            return listening

        assert asyncio.run(check()) is False
        assert "change triggers are on 5 of 6 tables" in caplog.text
    finally:
        with connection.schema_editor() as editor:
            migration.install(apps, editor)



def test_the_listener_ends_when_cancelled_as_its_heartbeat_step_finishes(monkeypatch):
    """Event-loop shutdown cancels the listener at any moment; a cancellation that arrives in the
    same turn as a heartbeat step finishing must still end it (``asyncio.wait_for`` on Python 3.11
    swallowed such a cancellation, and ``asyncio.run`` then waited for the listener forever)."""
    from mcp_gateway.db import row_cache

    monkeypatch.setattr(row_cache, "_HEARTBEAT_SECONDS", 0.05)

    async def cancelled_in_the_same_turn():
        sender = await psycopg.AsyncConnection.connect(autocommit=True, **_params())
        probes, stop = [], asyncio.Event()

        async def probe(payload):
            if stop.is_set():
                raise OSError("stopping a listener that outlived its cancellation")
            await sender.execute("SELECT pg_notify(%s, %s)", (row_cache.CHANNEL, payload))
            probes.append(payload)
            if len(probes) == 2:  # listening and heard once: cancel as this step returns
                asyncio.get_running_loop().call_soon(cache._task.cancel)

        cache = row_cache.TokenRowCache(_params(), 30, probe=probe)
        cache.start()
        task = cache._task
        try:
            done, _ = await asyncio.wait({task}, timeout=WAIT)
        finally:
            stop.set()
            cache._closed = True
            await asyncio.wait({task}, timeout=WAIT)
            await sender.close()
        return task in done and task.cancelled(), len(probes)

    ended, probes = asyncio.run(cancelled_in_the_same_turn())
    assert ended, f"the listener went on after its cancellation ({probes} heartbeats)"


def test_closing_the_cache_keeps_its_callers_own_cancellation():
    from mcp_gateway.db import row_cache

    async def cancelled_while_closing():
        async def slow_probe(payload):
            await asyncio.sleep(WAIT)

        cache = row_cache.TokenRowCache(_params(), 30, probe=slow_probe)
        cache.start()
        await asyncio.sleep(0.5)  # connected, listening, waiting for its first heartbeat
        closing = asyncio.ensure_future(cache.close())
        await asyncio.sleep(0)  # close() has cancelled the listener and waits for it to end
        closing.cancel()
        await asyncio.wait({closing}, timeout=WAIT)
        return closing.done() and closing.cancelled()

    assert asyncio.run(cancelled_while_closing()), "close() swallowed the cancellation of the task awaiting it"
