"""search_code latency on an index of at least 100k chunks, against ripgrep over the same files.

Corpus: Python files of large installed packages (torch, transformers, scipy, sklearn, …) until
at least ``--min-chunks`` chunks are indexed (lexical index; identifier queries never use the
dense signal, so no vectors are needed). Queries: identifiers sampled from the indexed
function names. For each query: ``services.search`` (what the search_code tool runs, ten hits)
and ``rg -n -w IDENT`` over the same directories (ripgrep honours the same .gitignore files).

Targets: search p50 ≥ 10× faster than rg; search p99 ≤ 3× its p50.

    python bench/search_latency.py [--min-chunks 100000] [--queries 200]
"""

from __future__ import annotations

import argparse
import importlib
import random
import shutil
import subprocess
import time
from pathlib import Path

from bench_support import percentile, setup_django, table

PACKAGES = ["transformers", "torch", "scipy", "sklearn", "sympy", "django", "numpy", "celery", "pygments", "rich", "kombu"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--min-chunks", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    rg = shutil.which("rg")
    if rg is None:
        raise SystemExit("ripgrep is not installed (apt-get install -y ripgrep)")
    setup_django("none")
    from codeindex import services
    from codeindex.access import SYSTEM
    from codeindex.models import Chunk

    roots, chunks, started = [], 0, time.monotonic()
    for package in PACKAGES:
        if chunks >= args.min_chunks:
            break
        try:
            root = Path(importlib.import_module(package).__file__).parent
        except ImportError:
            continue
        services.index_repository(root, package.replace(".", "-"))
        roots.append(root)
        chunks = Chunk.objects.count()
        print(f"  indexed {package}: {chunks:,} chunks so far ({time.monotonic() - started:.0f} s)", flush=True)
    names = sorted({s.rsplit(".", 1)[-1] for s in Chunk.objects.exclude(symbol="").filter(kind__in=["function", "method"])
                    .values_list("symbol", flat=True) if len(s.rsplit(".", 1)[-1]) >= 6 and not s.rsplit(".", 1)[-1].startswith("_")})
    queries = random.Random(11).sample(names, min(args.queries, len(names)))
    for q in queries[:5]:  # warm caches on both sides
        services.search(q, access=SYSTEM)
        subprocess.run([rg, "-n", "-w", q, *map(str, roots)], capture_output=True)
    ours, theirs = [], []
    for q in queries:
        t0 = time.perf_counter()
        services.search(q, access=SYSTEM, max_results=10)
        ours.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        subprocess.run([rg, "-n", "-w", q, *map(str, roots)], capture_output=True)
        theirs.append((time.perf_counter() - t0) * 1000)
    files = sum(1 for _ in Chunk.objects.values("file_id").distinct().iterator())
    p50, p99 = percentile(ours, 0.5), percentile(ours, 0.99)
    rg50, rg99 = percentile(theirs, 0.5), percentile(theirs, 0.99)
    print(f"index: {chunks:,} chunks in {files:,} files; {len(queries)} identifier queries")
    print(table(["", "p50 ms", "p99 ms", "p99/p50"], [
        ["search_code (services.search, 10 hits)", f"{p50:.1f}", f"{p99:.1f}", f"{p99 / p50:.2f}"],
        ["rg -n -w (same directories)", f"{rg50:.1f}", f"{rg99:.1f}", f"{rg99 / rg50:.2f}"],
        ["rg / search_code", f"{rg50 / p50:.1f}x", f"{rg99 / p99:.1f}x", ""],
    ]))
    print(f"targets: p50 >= 10x faster than rg: {'met' if rg50 / p50 >= 10 else 'NOT met'}; "
          f"p99 <= 3x p50: {'met' if p99 <= 3 * p50 else 'NOT met'}")


if __name__ == "__main__":
    main()
