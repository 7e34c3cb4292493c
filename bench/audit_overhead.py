"""What the per-tool-call audit row costs: tool-call latency with and without the audit write,
measured side by side in one run.

    python bench/audit_overhead.py                 # SQLite in a temp dir, as configured
    python bench/audit_overhead.py --sqlite-wal    # SQLite with journal_mode=WAL, synchronous=NORMAL
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mcprag_bench python bench/audit_overhead.py  # a scratch database

The real SDK client calls tools on the real server (``build_server()`` with the permission
middleware) in-process, where the call waits for its row's commit before answering (no HTTP
request to answer first). Rounds alternate between "audit on" (the middleware queues one
ToolCall row with ``submit_tool_call`` and waits for it) and "audit off" (the same function
replaced by a no-op), so drift hits both sides alike. It prints median and p95 latency per side and
the ratio of medians, for a search (typical) and for ``index_status`` (cheap, so the worst case).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _sqlite_wal(sender, connection, **kwargs) -> None:
    """What ``--sqlite-wal`` measures: commits without an fsync each (WAL, synchronous=NORMAL)."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")


def _setup_django(workdir: Path, sqlite_wal: bool) -> str:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mcprag_site.settings")
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{workdir / 'bench.sqlite3'}")
    os.environ.setdefault("MCPRAG_EMBEDDINGS", "none")
    import django
    from django.core.management import call_command

    django.setup()
    if sqlite_wal:
        from django.db.backends.signals import connection_created

        connection_created.connect(_sqlite_wal)
    call_command("migrate", verbosity=0)
    from django.db import connection

    return connection.vendor


def _make_repository(workdir: Path, files: int = 40) -> Path:
    root = workdir / "repo"
    root.mkdir()
    for n in range(files):
        (root / f"module_{n}.py").write_text(
            f'"""Module {n}."""\n\n\ndef compute_invoice_total_{n}(lines, tax_rate):\n'
            f'    """Sum invoice lines and add tax."""\n    return sum(lines) * (1 + tax_rate)\n\n\n'
            f"class Customer{n}:\n    def send_reminder_email(self):\n        return 'please pay'\n"
        )
    return root


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(round(fraction * len(ordered))) - 1)]


async def _measure(tool: str, arguments: dict, calls: int, rounds: int) -> dict[str, list[float]]:
    from mcp.client import Client

    from mcp_gateway import server as gateway_server
    from mcp_gateway.auth.identity import Caller

    real_submit = gateway_server.submit_tool_call

    def no_audit(**_fields) -> asyncio.Future:
        written = asyncio.get_running_loop().create_future()
        written.set_result(None)
        return written

    caller = Caller(user_id=None, username="bench", client_id="bench-agent", scopes=frozenset({"code:read"}), tier="service")
    timings: dict[str, list[float]] = {"audit on": [], "audit off": []}
    async with Client(gateway_server.build_server(default_caller=caller, transport="bench")) as client:
        for _ in range(5):  # warm-up: imports, connections, SQLite page cache
            await client.call_tool(tool, arguments)
        for round_no in range(rounds):
            order = ["audit on", "audit off"] if round_no % 2 == 0 else ["audit off", "audit on"]
            for side in order:
                gateway_server.submit_tool_call = real_submit if side == "audit on" else no_audit
                try:
                    for _ in range(calls):
                        started = time.perf_counter()
                        result = await client.call_tool(tool, arguments)
                        timings[side].append((time.perf_counter() - started) * 1000)
                        assert not result.is_error, result.content
                finally:
                    gateway_server.submit_tool_call = real_submit
    return timings


async def _bare_write_ms(samples: int) -> float:
    from mcp_gateway.audit import record_tool_call
    from mcp_gateway.auth.identity import Caller

    caller = Caller(user_id=None, username="bench", client_id="bench-agent", scopes=frozenset({"code:read"}))
    started = time.perf_counter()
    for _ in range(samples):
        await record_tool_call(caller=caller, tool="bench", transport="bench", arguments={"q": "x"}, outcome="ok", duration_ms=1.0)
    return (time.perf_counter() - started) * 1000 / samples


def _report(name: str, timings: dict[str, list[float]]) -> float:
    on, off = timings["audit on"], timings["audit off"]
    ratio = statistics.median(on) / statistics.median(off)
    print(f"\n{name}: {len(on)} calls per side")
    for side, values in timings.items():
        print(f"  {side:9}  median {statistics.median(values):7.3f} ms   p95 {_percentile(values, 0.95):7.3f} ms"
              f"   mean {statistics.fmean(values):7.3f} ms")
    print(f"  ratio (audit on / audit off, medians): {ratio:.3f}   "
          f"added per call: {statistics.median(on) - statistics.median(off):+.3f} ms")
    return ratio


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=50, help="calls per side per round")
    parser.add_argument("--rounds", type=int, default=6, help="alternating rounds (even is fairest)")
    parser.add_argument("--sqlite-wal", action="store_true", help="SQLite in WAL mode with synchronous=NORMAL")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mcprag-bench-") as tmp:
        vendor = _setup_django(Path(tmp), args.sqlite_wal)
        from codeindex import services
        from mcp_gateway.models import ToolCall

        repo_name = f"bench-{os.getpid()}"
        services.index_repository(_make_repository(Path(tmp)), repo_name)
        before = ToolCall.objects.count()
        mode = " (WAL, synchronous=NORMAL)" if args.sqlite_wal and vendor == "sqlite" else ""
        print(f"database: {vendor}{mode}; {args.rounds} rounds x {args.calls} calls per side, interleaved")
        ratios = {
            "search_code": _report("search_code (typical tool)", asyncio.run(_measure(
                "search_code", {"query": "invoice total with tax", "repository": repo_name, "max_results": 5}, args.calls, args.rounds))),
            "index_status": _report("index_status (cheap tool: worst case for the ratio)", asyncio.run(_measure(
                "index_status", {}, args.calls, args.rounds))),
        }
        bare = asyncio.run(_bare_write_ms(200))
        written = ToolCall.objects.count() - before
        expected = (args.calls * args.rounds + 5) * 2 + 200  # audited calls + warm-ups + bare writes
        print(f"\none audit write on its own (record_tool_call): {bare:.3f} ms; rows written {written} (expected {expected})")
        print("RESULT " + " ".join(f"{tool}_ratio={ratio:.3f}" for tool, ratio in ratios.items()) + f" write_ms={bare:.3f}")
        # Leave a shared (PostgreSQL) database as it was.
        from codeindex.models import Repository

        ToolCall.objects.filter(client_id="bench-agent").delete()
        Repository.objects.filter(name=repo_name).delete()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
