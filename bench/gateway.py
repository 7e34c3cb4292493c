"""Gateway benchmark: throughput and p50/p99 latency of ``tools/call`` through mcprag's full stack
(JWT check, live token row, permissions, audit row) side by side, in one run, with

* a reference server built from the ``mcp`` SDK alone (bench/reference_server.py: ``MCPServer``
  on uvicorn, a ``TokenVerifier`` checking the same JWT, the same tool bodies), and
* mcprag's stack with authentication switched off (bench/gateway_noauth.py),

for ``health_check`` and ``search_code`` on a warm index, at 1, 8 and 32 concurrent clients.
Each server runs alone (uvicorn, same worker count) while it is measured.

    python bench/gateway.py [--seconds 8] [--workers 1] [--concurrency 1 8 32]

Uses DATABASE_URL when it names PostgreSQL (a fresh database is created and dropped), else a
temporary SQLite file. Targets: mcprag ≥ 1.0× the reference's requests/s; authenticated ≥ 0.9×
unauthenticated.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.live_server import _own_database_url, free_port  # noqa: E402
from tests.support.load import mint_tokens, run_load, server_env, start_uvicorn, stop  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
STACKS = [
    ("mcprag", "mcprag_site.asgi:application", False),
    ("mcprag, auth off", "bench.gateway_noauth:application", False),
    ("SDK reference", "bench.reference_server:app", True),
]
TOOLS = [("health_check", {}), ("search_code", {"query": "parse a date string", "max_results": 5})]


def _prepare(workdir: Path) -> tuple[dict, list[str], callable, int]:
    database_url, drop = _own_database_url(workdir)
    port = free_port()
    env = server_env(f"http://127.0.0.1:{port}", database_url, MCPRAG_EMBEDDINGS="none",
                     MCPRAG_MCP_RATE_LIMIT="0")
    run = lambda *a: subprocess.run([sys.executable, "manage.py", *a], cwd=ROOT, env=env, check=True,  # noqa: E731
                                    capture_output=True, timeout=900)
    run("migrate", "--noinput")
    import dateutil

    run("index_repo", str(Path(dateutil.__file__).parent), "--name", "dateutil")
    tokens = mint_tokens(env, 64)
    return env, tokens, drop, port


def _measure(app: str, lifespan: bool, env: dict, port: int, tokens, args, workdir: Path) -> dict:
    results = {}
    import subprocess as sp

    cmd_env = dict(env)
    proc = start_uvicorn(app, port, cmd_env, workers=args.workers, log_path=workdir / f"{app.replace(':', '_')}.log") \
        if not lifespan else _start_with_lifespan(app, port, cmd_env, args.workers, workdir)
    try:
        for tool, arguments in TOOLS:
            asyncio.run(run_load(f"http://127.0.0.1:{port}/mcp", tokens, sessions=4, seconds=2, tool=tool, arguments=arguments))
            for concurrency in args.concurrency:
                stats = asyncio.run(run_load(f"http://127.0.0.1:{port}/mcp", tokens, sessions=concurrency,
                                             seconds=args.seconds, tool=tool, arguments=arguments))
                results[(tool, concurrency)] = stats
    finally:
        stop(proc)
        del sp
    return results


def _start_with_lifespan(app, port, env, workers, workdir):
    import time

    import httpx2

    log = open(workdir / "reference.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port),
                             "--workers", str(workers), "--no-access-log", "--log-level", "warning"],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    for _ in range(300):
        try:
            httpx2.post(f"http://127.0.0.1:{port}/mcp", json={}, timeout=2)
            return proc
        except httpx2.HTTPError:
            time.sleep(0.2)
    raise RuntimeError("reference server did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        env, tokens, drop, port = _prepare(workdir)
        try:
            measured = {name: _measure(app, lifespan, env, port, tokens, args, workdir) for name, app, lifespan in STACKS}
        finally:
            drop()
    print(f"\ntools/call, {args.workers} uvicorn worker(s), {args.seconds:.0f} s per cell; requests/s and p50/p99 ms\n")
    header = f"{'tool':<13} {'conc':>4} | " + " | ".join(f"{name:^27}" for name, _, _ in STACKS) + " | vs SDK | auth on/off"
    print(header)
    print("-" * len(header))
    for tool, _ in TOOLS:
        for concurrency in args.concurrency:
            cells = [measured[name][(tool, concurrency)] for name, _, _ in STACKS]
            text = " | ".join(f"{c.rps:7.1f}/s {c.percentile(50):6.1f} {c.percentile(99):7.1f}" for c in cells)
            ours, noauth, ref = (c.rps for c in cells)
            print(f"{tool:<13} {concurrency:>4} | {text} | {ours / ref:5.2f}× | {ours / noauth:5.2f}×")
    for name, _, _ in STACKS:
        statuses: dict = {}
        for stats in measured[name].values():
            for status, n in stats.statuses.items():
                statuses[status] = statuses.get(status, 0) + n
        failures = sum(len(stats.errors) for stats in measured[name].values())
        print(f"{name}: HTTP statuses {statuses}, failed tool results {failures}")


if __name__ == "__main__":
    main()
