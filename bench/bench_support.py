"""Shared set-up for the codeindex benchmarks: Django on a fresh database, and table printing.

Each benchmark runs against its own throw-away SQLite file (or ``BENCH_DATABASE_URL``, e.g. a
PostgreSQL database you created for it), migrated on start.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def setup_django(embeddings: str = "local") -> Path:
    """Configure Django on a new database; returns the scratch directory."""
    scratch = Path(tempfile.mkdtemp(prefix="mcprag-bench-"))
    os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{scratch / 'bench.sqlite3'}"
    os.environ["MCPRAG_EMBEDDINGS"] = embeddings
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mcprag_site.settings")
    os.environ.pop("REDIS_URL", None)  # Celery eager: jobs run in this process
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return scratch


def table(headers: list[str], rows: list[list]) -> str:
    cells = [[str(c) for c in row] for row in [headers, *rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    line = lambda r: "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |"  # noqa: E731
    return "\n".join([line(cells[0]), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(line, cells[1:])])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)
