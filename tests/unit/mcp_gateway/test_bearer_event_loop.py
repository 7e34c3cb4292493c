"""The bearer check from the gateway's event loop (``averify_access_token``, ``aretry_after``).

A token seen before is decided without a worker thread, from its database row read on the loop's
own connection; these tests make the worker-thread path fail loudly to show which path answered,
and check that every decision (revocation, tier, disabled person or client) still takes effect on
the very next call. They run with committed data (``transaction=True``): the loop's connection is
not the test's.
"""

from __future__ import annotations

import asyncio
import hashlib
import os

import jwt
import pytest
from django.db import connection
from django.utils import timezone
from oauth2_provider.models import get_access_token_model

from mcp_gateway.auth import bearer
from mcp_gateway.auth.bearer import InvalidToken, averify_access_token, verify_access_token
from mcp_gateway.db import token_rows
from oauth_app.ratelimit import aretry_after, retry_after
from oauth_app.services import set_tier

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def no_worker_thread(monkeypatch):
    """Make the worker-thread path fail, so an answer can only have come from the event loop."""

    async def refuse(*args, **kwargs):
        raise AssertionError("the bearer check went to a worker thread")

    monkeypatch.setattr(bearer, "in_thread", refuse)


def _on_loop(coroutine_fn, *args):
    """Run on one event loop, as the gateway does (its own lookup connection per loop)."""

    async def run():
        return await coroutine_fn(*args)

    return asyncio.run(run())


def _row(token: str):
    return get_access_token_model().objects.get(token_checksum=hashlib.sha256(token.encode()).hexdigest())


def test_a_known_token_is_decided_on_the_event_loop_with_the_same_caller(token, person, no_worker_thread):
    expected = verify_access_token(token)  # first sight: signature verified (worker thread in the gateway)
    assert _on_loop(averify_access_token, token) == expected
    assert expected.user_id == person.pk and expected.scopes == {"code:read", "code:write"}


def test_first_sight_of_a_token_verifies_its_signature(token, person, monkeypatch):
    from oauth_app.models import SigningKey

    bearer._verified.clear()
    assert _on_loop(averify_access_token, token).user_id == person.pk  # first sight: verified in a worker thread
    bearer._verified.clear()
    SigningKey.objects.filter(kid=jwt.get_unverified_header(token)["kid"]).update(
        retired_at=timezone.now() - timezone.timedelta(days=30))
    monkeypatch.setattr(bearer, "_keys_loaded_at", 0.0)
    with pytest.raises(InvalidToken):  # its row is live: only the signature check can refuse it
        _on_loop(averify_access_token, token)


@pytest.mark.parametrize("change, refusal", [
    (lambda token, person: _row(token).delete(), "revoked"),
    (lambda token, person: get_access_token_model().objects.filter(pk=_row(token).pk).update(
        expires=timezone.now() - timezone.timedelta(seconds=1)), "expired"),
    (lambda token, person: type(person).objects.filter(pk=person.pk).update(is_active=False), "disabled"),
    (lambda token, person: type(_row(token).application).objects.filter(pk=_row(token).application_id).update(
        disabled_at=timezone.now()), "disabled by an operator"),
])
def test_the_next_call_after_a_change_is_refused_from_the_event_loop(token, person, no_worker_thread, change, refusal):
    verify_access_token(token)

    async def before_and_after():
        assert (await averify_access_token(token)).user_id == person.pk  # the loop's connection is open
        await asyncio.get_running_loop().run_in_executor(None, change, token, person)
        with pytest.raises(InvalidToken, match=refusal):
            await averify_access_token(token)

    asyncio.run(before_and_after())


def test_a_lowered_tier_narrows_the_next_call_from_the_event_loop(token, person, no_worker_thread):
    verify_access_token(token)

    async def before_and_after():
        assert (await averify_access_token(token)).scopes == {"code:read", "code:write"}
        await asyncio.get_running_loop().run_in_executor(None, set_tier, person, "public")
        assert (await averify_access_token(token)).scopes == {"code:read"}

    asyncio.run(before_and_after())


def test_when_the_event_loop_lookup_cannot_answer_the_worker_thread_does(token, person, monkeypatch):
    verify_access_token(token)
    monkeypatch.setattr(token_rows, "_READERS", {})  # e.g. a database backend it has no reader for
    assert _on_loop(averify_access_token, token).user_id == person.pk
    _row(token).delete()
    with pytest.raises(InvalidToken, match="revoked"):
        _on_loop(averify_access_token, token)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's own connection handling")
def test_the_loop_connection_recovers_when_postgresql_drops_it(token, person, no_worker_thread):
    verify_access_token(token)

    async def drop_and_call():
        assert (await averify_access_token(token)).user_id == person.pk
        reader = token_rows._readers[asyncio.get_running_loop()]
        pid = reader.connection.db.info.backend_pid

        def terminate():
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_terminate_backend(%s)", [pid])

        await asyncio.get_running_loop().run_in_executor(None, terminate)
        assert (await averify_access_token(token)).user_id == person.pk  # reconnected, still no worker thread
        assert reader.connection.db.info.backend_pid != pid

    asyncio.run(drop_and_call())


def test_event_loop_rate_limit_counts_with_the_blocking_one(settings):
    settings.MCPRAG_RATE_LIMITS = {"probe": (3, 60)}
    assert retry_after("probe", "client-a") is None
    assert [_on_loop(aretry_after, "probe", "client-a") for _ in range(2)] == [None, None]
    wait = _on_loop(aretry_after, "probe", "client-a")
    assert wait is not None and 0 < wait <= 60
    assert _on_loop(aretry_after, "probe", "client-b") is None  # per key


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs the Redis server of REDIS_URL")
def test_event_loop_rate_limit_shares_redis_counters_with_the_blocking_one(settings):
    from django.core.cache import cache

    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": os.environ["REDIS_URL"]}}
    settings.MCPRAG_RATE_LIMITS = {"probe": (3, 60)}
    key = f"client-{os.getpid()}-{timezone.now().timestamp()}"
    assert _on_loop(aretry_after, "probe", key) is None
    assert retry_after("probe", key) is None  # the same counter, from Django's cache API
    assert _on_loop(aretry_after, "probe", key) is None
    assert _on_loop(aretry_after, "probe", key) is not None
    cache.clear()


def test_event_loop_rate_limit_counts_in_process_when_redis_is_down(settings, caplog, monkeypatch):
    from oauth_app import ratelimit

    monkeypatch.setattr(ratelimit, "_warned", False)
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": "redis://127.0.0.1:1/0"}}
    settings.MCPRAG_RATE_LIMITS = {"probe": (2, 60)}
    results = [_on_loop(aretry_after, "probe", "10.0.0.9") for _ in range(3)]
    assert results[:2] == [None, None] and results[2] is not None
    assert "Rate-limit store unavailable" in caplog.text


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL prepared statements")
@pytest.mark.parametrize("allowed", [True, False])
def test_the_lookup_is_a_prepared_statement_unless_switched_off(token, settings, no_worker_thread, allowed):
    settings.MCPRAG_DB_PREPARED_STATEMENTS = allowed
    verify_access_token(token)

    async def prepared_statements():
        for _ in range(3):  # the lookup is prepared at its first use when allowed
            await averify_access_token(token)
        reader = token_rows._readers[asyncio.get_running_loop()]
        cursor = await reader.connection.db.execute("SELECT count(*) FROM pg_prepared_statements")
        return (await cursor.fetchone())[0]

    assert (asyncio.run(prepared_statements()) > 0) is allowed


@pytest.mark.skipif(connection.vendor != "postgresql", reason="group lookups are PostgreSQL's")
def test_concurrent_checks_share_lookups_and_each_gets_its_own_answer(issue_token, person, no_worker_thread):
    tokens = [issue_token("code:read") for _ in range(4)]
    for token in tokens:
        verify_access_token(token)
    _row(tokens[3]).delete()
    lookups = []

    async def all_at_once():
        reader_calls = 0
        await averify_access_token(tokens[0])  # the loop's reader exists
        reader = token_rows._readers[asyncio.get_running_loop()]
        real = reader._lookup

        async def counted(checksums):
            nonlocal reader_calls
            reader_calls += 1
            lookups.append(len(checksums))
            return await real(checksums)

        reader._lookup = counted
        answers = await asyncio.gather(*(averify_access_token(tokens[i % 4]) for i in range(40)),
                                       return_exceptions=True)
        return answers, reader_calls

    answers, reader_calls = asyncio.run(asyncio.wait_for(all_at_once(), timeout=30))
    ids = [_row(t).pk for t in tokens[:3]]
    for i, answer in enumerate(answers):
        if i % 4 == 3:
            assert isinstance(answer, InvalidToken) and "revoked" in str(answer)
        else:
            assert answer.token_id == ids[i % 4] and answer.user_id == person.pk
    assert reader_calls < 40 and max(lookups) > 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="group lookups are PostgreSQL's")
def test_a_check_never_takes_the_answer_of_a_lookup_sent_before_it_arrived(token, person, no_worker_thread):
    verify_access_token(token)

    async def revoke_while_a_lookup_is_on_the_wire():
        await averify_access_token(token)
        reader = token_rows._readers[asyncio.get_running_loop()]
        real, answered, release = reader._lookup, asyncio.Event(), asyncio.Event()

        async def slow_return(checksums):
            rows = await real(checksums)  # read before the revocation...
            if not answered.is_set():
                answered.set()
                await release.wait()  # ...and still on its way back when the next check arrives
            return rows

        reader._lookup = slow_return
        first = asyncio.ensure_future(averify_access_token(token))
        await answered.wait()
        await asyncio.get_running_loop().run_in_executor(None, lambda: _row(token).delete())
        second = asyncio.ensure_future(averify_access_token(token))
        await asyncio.sleep(0.05)
        release.set()
        return await first, await asyncio.gather(second, return_exceptions=True)

    first, (second,) = asyncio.run(asyncio.wait_for(revoke_while_a_lookup_is_on_the_wire(), timeout=30))
    assert first.user_id == person.pk  # it arrived before the revocation
    assert isinstance(second, InvalidToken) and "revoked" in str(second)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the loop's psycopg connection is PostgreSQL's")
def test_a_check_cancelled_while_its_lookup_is_on_the_wire_leaves_later_checks_working(token, person, no_worker_thread):
    import psycopg

    verify_access_token(token)
    table = get_access_token_model()._meta.db_table
    params = {k: v for k, v in connection.get_connection_params().items() if k in ("dbname", "user", "password", "host", "port")}

    async def cancel_mid_lookup():
        await averify_access_token(token)  # the loop's reader is connected; the next lookup goes alone
        with psycopg.connect(**params) as holder:
            holder.execute(f'LOCK TABLE "{table}" IN ACCESS EXCLUSIVE MODE')  # the lookup waits in PostgreSQL
            check = asyncio.ensure_future(averify_access_token(token))
            await asyncio.sleep(0.3)
            assert not check.done()
            check.cancel()
            with pytest.raises(asyncio.CancelledError):
                await check
            holder.rollback()
        return await asyncio.wait_for(averify_access_token(token), timeout=10)

    assert asyncio.run(cancel_mid_lookup()).user_id == person.pk
