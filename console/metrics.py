"""Numbers for the console overview, computed in the database for a date range.

    report = overview(date(2025, 5, 1), date(2025, 5, 14))
    report.calls_by_day["2025-05-02"]["search_code"]   # 41
    report.latency["search_code"].p95_ms               # 212.5

Percentiles are nearest-rank (the value at rank ⌈p·n⌉), read with one ordered ``OFFSET`` query
each, so no tool's durations are ever loaded into memory and SQLite and PostgreSQL agree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.utils import timezone
from oauth2_provider.models import get_access_token_model
from oauth2_provider.settings import oauth2_settings

from codeindex import services as codeindex
from mcp_gateway.models import ToolCall

__all__ = ["ToolLatency", "DayOutcomes", "Overview", "overview", "percentile", "day_bounds"]


@dataclass(frozen=True)
class ToolLatency:
    tool: str
    calls: int
    errors: int
    refused: int
    p50_ms: float | None
    p95_ms: float | None

    @property
    def error_rate(self) -> float:
        return self.errors / self.calls if self.calls else 0.0


@dataclass(frozen=True)
class DayOutcomes:
    total: int = 0
    errors: int = 0
    refused: int = 0


@dataclass
class Overview:
    start: date
    end: date
    days: list[date]
    tools: list[str]
    calls_by_day: dict[date, dict[str, int]]
    outcomes_by_day: dict[date, DayOutcomes]
    latency: dict[str, ToolLatency]
    active_agents: int
    active_people: int
    agents_with_live_tokens: int
    repositories: list = field(default_factory=list)

    @property
    def total_calls(self) -> int:
        return sum(o.total for o in self.outcomes_by_day.values())

    @property
    def total_errors(self) -> int:
        return sum(o.errors for o in self.outcomes_by_day.values())

    @property
    def total_refused(self) -> int:
        return sum(o.refused for o in self.outcomes_by_day.values())

    @property
    def error_rate(self) -> float:
        return self.total_errors / self.total_calls if self.total_calls else 0.0


def day_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """``[start 00:00, end+1 00:00)`` in the current time zone: both days are included."""
    tz = timezone.get_current_timezone()
    return (datetime.combine(start, time.min, tzinfo=tz), datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz))


def percentile(queryset, fraction: float, count: int) -> float | None:
    """Nearest-rank percentile of ``duration_ms`` over ``queryset`` (of ``count`` rows)."""
    if not count:
        return None
    rank = max(1, math.ceil(fraction * count))
    return queryset.order_by("duration_ms").values_list("duration_ms", flat=True)[rank - 1]


def _calls_by_day(calls, days) -> tuple[dict, list[str]]:
    table = {day: {} for day in days}
    for row in calls.annotate(day=TruncDate("at")).values("day", "tool").annotate(n=Count("id")):
        table.setdefault(row["day"], {})[row["tool"]] = row["n"]
    tools = sorted({tool for counts in table.values() for tool in counts},
                   key=lambda t: -sum(c.get(t, 0) for c in table.values()))
    return table, tools


def _outcomes_by_day(calls, days) -> dict[date, DayOutcomes]:
    table = {day: DayOutcomes() for day in days}
    rows = calls.annotate(day=TruncDate("at")).values("day").annotate(
        total=Count("id"), errors=Count("id", filter=Q(outcome=ToolCall.Outcome.ERROR)),
        refused=Count("id", filter=Q(outcome=ToolCall.Outcome.REFUSED)),
    )
    for row in rows:
        table[row["day"]] = DayOutcomes(row["total"], row["errors"], row["refused"])
    return table


def _latency(calls, tools) -> dict[str, ToolLatency]:
    stats = {row["tool"]: row for row in calls.values("tool").annotate(
        n=Count("id"), errors=Count("id", filter=Q(outcome=ToolCall.Outcome.ERROR)),
        refused=Count("id", filter=Q(outcome=ToolCall.Outcome.REFUSED)),
    )}
    result = {}
    for tool in tools:
        row = stats.get(tool, {"n": 0, "errors": 0, "refused": 0})
        # Refused calls never ran the tool: their durations would flatter the latency.
        ran = calls.filter(tool=tool).exclude(outcome=ToolCall.Outcome.REFUSED)
        ran_count = row["n"] - row["refused"]
        result[tool] = ToolLatency(tool, row["n"], row["errors"], row["refused"],
                                   percentile(ran, 0.50, ran_count), percentile(ran, 0.95, ran_count))
    return result


def overview(start: date, end: date) -> Overview:
    """Everything the overview page shows for the days ``start``..``end`` (inclusive)."""
    since, until = day_bounds(start, end)
    calls = ToolCall.objects.filter(at__gte=since, at__lt=until)
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    calls_by_day, tools = _calls_by_day(calls, days)
    return Overview(
        start=start, end=end, days=days, tools=tools, calls_by_day=calls_by_day,
        outcomes_by_day=_outcomes_by_day(calls, days), latency=_latency(calls, tools),
        active_agents=calls.exclude(client_id="").values("client_id").distinct().count(),
        active_people=calls.exclude(user_id=None).values("user_id").distinct().count(),
        agents_with_live_tokens=get_access_token_model().objects.filter(expires__gt=timezone.now())
        .exclude(scope__contains=oauth2_settings.DCR_REGISTRATION_SCOPE).values("application_id").distinct().count(),
        repositories=codeindex.status(),
    )
