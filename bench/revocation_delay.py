"""How long after a revocation commits does a gateway process stop using its cached token row?

On PostgreSQL the gateway keeps token rows in memory while it listens for change notifications
(``mcp_gateway.db.row_cache``). This measures, on the same machine, the time from the moment a
writing transaction's ``COMMIT`` returns in another process to the moment the gateway's cache,
polled as a bearer check would (it applies pending notifications first), has dropped its rows.

    DATABASE_URL=postgres://… python bench/revocation_delay.py [--trials 500]

Prints p50 / p99 / max in microseconds. Needs PostgreSQL (the migrations applied to a fresh
database it creates and drops).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.live_server import _own_database_url  # noqa: E402
from tests.support.load import server_env  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=500)
    args = parser.parse_args()
    if not (os.environ.get("DATABASE_URL") or "").startswith("postgres"):
        sys.exit("Set DATABASE_URL to a PostgreSQL server: the cache exists only there.")
    with tempfile.TemporaryDirectory() as tmp:
        database_url, drop = _own_database_url(Path(tmp))
        try:
            env = server_env("http://127.0.0.1:8000", database_url)
            subprocess.run([sys.executable, "manage.py", "migrate", "--noinput"], cwd=ROOT, env=env, check=True,
                           capture_output=True, timeout=900)
            os.environ.update(env)
            os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mcprag_site.settings")
            delays = _measure(args.trials)
        finally:
            from django.db import connections

            connections.close_all()
            drop()
    delays.sort()
    print(f"commit returned → cache emptied, {len(delays)} trials: "
          f"p50 {statistics.median(delays):.0f} µs, p99 {delays[int(0.99 * (len(delays) - 1))]:.0f} µs, "
          f"max {delays[-1]:.0f} µs")


def _measure(trials: int) -> list[float]:
    import django

    django.setup()
    import psycopg
    from django.contrib.auth import get_user_model
    from django.db import connection

    from mcp_gateway.db.connection import psycopg_params
    from mcp_gateway.db.row_cache import TokenRowCache

    params = psycopg_params(connection)
    table = get_user_model()._meta.db_table
    delays: list[float] = []

    async def run() -> None:
        cache = TokenRowCache(params, 30)
        cache.start()
        while not cache.listening:
            await asyncio.sleep(0.01)
        with psycopg.connect(**params) as writer:
            for _ in range(trials):
                before = cache._generation
                committed = threading.Event()
                stamp: list[float] = []

                def write() -> None:
                    writer.execute(f'UPDATE "{table}" SET is_active = is_active WHERE false')  # fires the trigger
                    writer.commit()
                    stamp.append(time.perf_counter())
                    committed.set()

                threading.Thread(target=write).start()
                while cache._generation == before:
                    cache.listening  # what a bearer check does first: apply pending notifications
                    await asyncio.sleep(0)
                seen = time.perf_counter()
                committed.wait()
                delays.append(max(0.0, seen - stamp[0]) * 1e6)
        await cache.close()

    asyncio.run(run())
    return delays


if __name__ == "__main__":
    main()
