"""Console response times at scale: the overview and the tool-call audit list at 10k, 100k and 1M
audit rows, before (the query path that scanned the raw ``ToolCall`` rows) and after (hourly
rollups, :mod:`console.rollups`), side by side in one run.

    python bench/console.py                                   # SQLite in a temp dir
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/mcprag_bench_console python bench/console.py
    python bench/console.py --sizes 10000,100000 --repeat 5

Rows are generated in the database (PostgreSQL ``generate_series``, SQLite a recursive CTE): 90
days of calls, 15 tools, 30 agents, 20 people, 4 % tool errors and 1 % refusals, log-normal
durations. Each page is fetched through Django's test client as a signed-in operator (template
rendering included); the table gives the median of ``--repeat`` fetches per side. "before" runs
the same page with the old ``console.metrics.overview`` (kept below as :func:`legacy_overview`)
and the old audit-list path (a ``SELECT DISTINCT tool`` over the raw rows for the filter form).
The rollups are rebuilt from scratch at each size first ("rollup build", a one-time cost at
deploy; afterwards each run folds only the hours closed since the last one).

Target (issue 22): the overview's default range (7 days) at 1M rows in ≤ 300 ms.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_support import setup_django, table  # noqa: E402

TOOLS = ["search_code", "read_file", "list_files", "grep", "find_definition", "find_references", "file_outline",
         "explain_search", "index_status", "list_repositories", "find_implementation", "related_files",
         "submit_feedback", "index_repository", "health"]
DAYS = 90


def _insert_rows(count: int, offset: int) -> None:
    """Append ``count`` ToolCall rows spread over the last :data:`DAYS` days, in one statement."""
    from django.db import connection
    from django.utils import timezone

    from mcp_gateway.models import ToolCall

    table_name = connection.ops.quote_name(ToolCall._meta.db_table)
    now = timezone.now()
    tools = "ARRAY[" + ",".join(f"'{t}'" for t in TOOLS) + "]"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"""
                INSERT INTO {table_name} (at, user_id, username, client_id, tool, transport, arguments_sha256,
                    arguments_bytes, outcome, error_class, duration_ms, result_bytes)
                SELECT %s::timestamptz - (((n::bigint * 7919) %% (%s * 86400)) || ' seconds')::interval,
                       NULL, 'person-' || (n %% 20), 'agent-' || (n %% 30), ({tools})[1 + (n::bigint * 31) %% {len(TOOLS)}],
                       'streamable_http', '', 40,
                       CASE WHEN n %% 100 = 0 THEN 'refused' WHEN n %% 25 = 0 THEN 'error' ELSE 'ok' END,
                       '', exp(1.5 + 1.2 * sqrt(-2 * ln(random())) * cos(2 * pi() * random())), 800
                FROM generate_series(%s, %s) AS n""", [now, DAYS, offset, offset + count - 1])
        else:
            tool_case = "CASE (n * 31) % {k} {whens} END".format(
                k=len(TOOLS), whens=" ".join(f"WHEN {i} THEN '{t}'" for i, t in enumerate(TOOLS)))
            cursor.execute(f"""
                WITH RECURSIVE seq(n) AS (SELECT %s UNION ALL SELECT n + 1 FROM seq WHERE n < %s)
                INSERT INTO {table_name} (at, user_id, username, client_id, tool, transport, arguments_sha256,
                    arguments_bytes, outcome, error_class, duration_ms, result_bytes)
                SELECT strftime('%%Y-%%m-%%d %%H:%%M:%%f', %s, '-' || ((n * 7919) %% (%s * 86400)) || ' seconds'),
                       NULL, 'person-' || (n %% 20), 'agent-' || (n %% 30), {tool_case},
                       'streamable_http', '', 40,
                       CASE WHEN n %% 100 = 0 THEN 'refused' WHEN n %% 25 = 0 THEN 'error' ELSE 'ok' END,
                       '', exp(1.5 + 3.0 * ((abs(random()) %% 1000000) / 1000000.0)), 800
                FROM seq""", [offset, offset + count - 1, now.strftime("%Y-%m-%d %H:%M:%S"), DAYS])
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {table_name}")


# --- The old query path, as it was before the rollups --------------------------------------------

def _legacy_percentile(queryset, fraction: float, count: int):
    if not count:
        return None
    rank = max(1, math.ceil(fraction * count))
    return queryset.order_by("duration_ms").values_list("duration_ms", flat=True)[rank - 1]


def legacy_overview(start, end):
    """The overview computed from the raw rows (COUNT … GROUP BY per day and tool, one ordered
    OFFSET query per tool and percentile), returned as today's ``Overview``."""
    from django.db.models import Count, Q
    from django.db.models.functions import TruncDate
    from django.utils import timezone
    from oauth2_provider.models import get_access_token_model
    from oauth2_provider.settings import oauth2_settings

    from codeindex import services as codeindex
    from console import metrics
    from mcp_gateway.models import ToolCall

    since, until = metrics.day_bounds(start, end)
    calls = ToolCall.objects.filter(at__gte=since, at__lt=until)
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    table_ = {day: {} for day in days}
    for row in calls.annotate(day=TruncDate("at")).values("day", "tool").annotate(n=Count("id")):
        table_.setdefault(row["day"], {})[row["tool"]] = row["n"]
    tools = sorted({t for counts in table_.values() for t in counts}, key=lambda t: -sum(c.get(t, 0) for c in table_.values()))
    outcomes = {day: metrics.DayOutcomes() for day in days}
    for row in calls.annotate(day=TruncDate("at")).values("day").annotate(
            total=Count("id"), errors=Count("id", filter=Q(outcome="error")), refused=Count("id", filter=Q(outcome="refused"))):
        outcomes[row["day"]] = metrics.DayOutcomes(row["total"], row["errors"], row["refused"])
    stats = {row["tool"]: row for row in calls.values("tool").annotate(
        n=Count("id"), errors=Count("id", filter=Q(outcome="error")), refused=Count("id", filter=Q(outcome="refused")))}
    latency = {}
    for tool in tools:
        row = stats.get(tool, {"n": 0, "errors": 0, "refused": 0})
        ran = calls.filter(tool=tool).exclude(outcome="refused")
        ran_count = row["n"] - row["refused"]
        latency[tool] = metrics.ToolLatency(tool, row["n"], row["errors"], row["refused"],
                                            _legacy_percentile(ran, 0.5, ran_count), _legacy_percentile(ran, 0.95, ran_count))
    return metrics.Overview(
        start=start, end=end, days=days, tools=tools, calls_by_day=table_, outcomes_by_day=outcomes, latency=latency,
        active_agents=calls.exclude(client_id="").values("client_id").distinct().count(),
        active_people=calls.exclude(user_id=None).values("user_id").distinct().count(),
        agents_with_live_tokens=get_access_token_model().objects.filter(expires__gt=timezone.now())
        .exclude(scope__contains=oauth2_settings.DCR_REGISTRATION_SCOPE).values("application_id").distinct().count(),
        repositories=codeindex.status())


class _LegacyPaths:
    """While active, the console pages take the old query paths."""

    def __enter__(self):
        from console import filters, metrics

        self._saved = (metrics.overview, filters.ToolCallFilterForm.__dict__["tool_choices"])
        metrics.overview = legacy_overview
        filters.ToolCallFilterForm.tool_choices = staticmethod(_legacy_tool_choices)
        return self

    def __exit__(self, *exc):
        from console import filters, metrics

        metrics.overview, tool_choices = self._saved
        filters.ToolCallFilterForm.tool_choices = tool_choices


def _legacy_tool_choices():
    from mcp_gateway.models import ToolCall

    return list(ToolCall.objects.order_by("tool").values_list("tool", flat=True).distinct())


def _time_get(client, url: str, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        began = time.perf_counter()
        response = client.get(url)
        samples.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000", help="audit row counts, comma-separated, ascending")
    parser.add_argument("--repeat", type=int, default=3, help="fetches per page and side (median reported)")
    args = parser.parse_args()
    setup_django(embeddings="none")

    from django.conf import settings
    from django.db import connection
    from django.test import Client

    from console import rollups
    from oauth_app.services import create_or_update_account

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    settings.MCPRAG_CONSOLE_REQUIRE_MFA = False
    operator, _ = create_or_update_account("bench-operator", email="op@example.com", password="bench-Pass-9z", tier="public")
    operator.is_staff = True
    operator.save(update_fields=["is_staff"])
    client = Client()
    client.force_login(operator)

    pages = [("overview, 7 days (default)", "/console/"), ("overview, 30 days", "/console/?range=30d"),
             ("overview, 24 h", "/console/?range=24h"), ("audit list, page 1", "/console/audit/"),
             ("audit list, tool filter", "/console/audit/?tool=grep"),
             ("audit list, page 200", "/console/audit/?page=200")]
    rows, built = [], []
    have = 0
    for size in (int(s) for s in args.sizes.split(",")):
        _insert_rows(size - have, have)
        have = size
        began = time.perf_counter()
        rollups.rebuild()
        built.append([f"{size:,}", f"{(time.perf_counter() - began):.1f} s"])
        for name, url in pages:
            after = _time_get(client, url, args.repeat)
            with _LegacyPaths():
                before = _time_get(client, url, args.repeat)
            rows.append([f"{size:,}", name, f"{before:,.0f}", f"{after:,.0f}", f"{before / after:,.1f}×"])
            print(" | ".join(rows[-1]), flush=True)
    print(f"\ndatabase: {connection.vendor}; median of {args.repeat} fetches per cell, ms (Django test client, "
          "page rendered); before = raw-row queries, after = rollups\n")
    print(table(["audit rows", "page", "before ms", "after ms", "speed-up"], rows))
    print("\n" + table(["audit rows", "rollup build (once, from scratch)"], built))
    print("\ntarget: overview default range (7 days) at 1,000,000 rows ≤ 300 ms")


if __name__ == "__main__":
    main()
