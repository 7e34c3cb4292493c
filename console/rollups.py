"""Hourly rollups of the tool-call audit trail, so the overview never scans the raw rows.

The gateway's audit writer (:mod:`mcp_gateway.db.audit_writer`) only inserts ``ToolCall`` rows; it
does no extra work per call. This module folds those rows, one closed hour at a time, into

- :class:`console.models.ToolCallRollup`: per hour × tool × outcome, the number of calls,
  the sum, min and max of their durations and a latency histogram;
- :class:`console.models.AgentRollup`: per hour × agent (``client_id``) × person, the number of
  calls, errors and refusals.

Days (midnight to midnight in ``TIME_ZONE``) before yesterday (:data:`HOURLY_DAYS`) are
kept as one row per day × tool × outcome (``hours == 24``), so a 90-day report reads about 90 rows
per tool, and the hourly rows are there for the "last 24 hours" view. (After a change of
``TIME_ZONE``, run ``rollup_audit --rebuild`` so day rows match the new midnights.)

:func:`refresh` rolls up every hour that ended at least :data:`SETTLE` ago (so rows still in the
audit writer's group commit or retries are in before their hour is closed). It runs before every
overview read, every five minutes from Celery beat or, without a broker, the server's worker
thread (``console.tasks.rollup_audit``), and by hand
with ``python manage.py rollup_audit`` (``--rebuild`` starts over, e.g. after importing rows).
Each run handles at most a day of raw rows per transaction and is safe to run concurrently: the
run that moves :class:`console.models.RollupState` forward does the work, the others stop.

A reader (:func:`read`) takes the rollups before ``RollupState.until`` and aggregates the few raw
rows after it on the fly, so the numbers include calls made a second ago.

Latency histograms use buckets whose bounds grow by :data:`GROWTH` (4 %) from :data:`BASE_MS`
(0.01 ms): bucket ``k`` holds durations in ``[BASE_MS·GROWTH^k, BASE_MS·GROWTH^(k+1))``. A
percentile is read as the geometric middle of the bucket holding the nearest-rank value, clamped
to the observed min and max, so it is within 2 % of the exact nearest-rank percentile.

    refresh()                                   # fold closed hours into the rollups
    report = read(since, until, by_day=True)    # rollups + the raw tail
    report.calls[(date(2025, 5, 2), "search_code", "ok")], report.latency["search_code"].histogram
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Count, F, FloatField, Max, Min, Q, Sum, Value
from django.db.models.functions import Floor, Greatest, Ln, TruncDate, TruncDay, TruncHour
from django.utils import timezone

from mcp_gateway.models import ToolCall

from .models import AgentRollup, RollupState, ToolCallRollup

__all__ = ["BASE_MS", "GROWTH", "SETTLE", "ToolStats", "AgentStats", "Window", "Report", "bucket_of", "bucket_value",
           "percentile", "refresh", "rebuild", "read", "known_tools", "purge_before", "floor_hour"]

#: Lower bound of the first histogram bucket, in ms; shorter durations count in bucket 0.
BASE_MS = 0.01
#: Ratio between consecutive bucket bounds: a percentile is within ±2 % of the exact one.
GROWTH = 1.04
#: An hour is rolled up once it ended this long ago (the audit writer retries for 5 s at most).
SETTLE = timedelta(minutes=10)
#: Days that ended longer ago than this are kept as one row per day instead of 24.
HOURLY_DAYS = 1

_STATE_KEY = "tool_calls"
_LN_GROWTH = math.log(GROWTH)


def floor_hour(moment: datetime) -> datetime:
    """The start of ``moment``'s hour, in UTC."""
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def bucket_of(duration_ms: float) -> int:
    """The histogram bucket of one duration (ms)."""
    return int(math.floor(math.log(max(duration_ms, BASE_MS) / BASE_MS) / _LN_GROWTH))


def bucket_value(bucket: int) -> float:
    """The duration (ms) a bucket stands for: the geometric middle of its bounds."""
    return BASE_MS * GROWTH ** (bucket + 0.5)


def percentile(histogram: dict[int, int], fraction: float, low: float, high: float) -> float | None:
    """Nearest-rank percentile (the value at rank ⌈fraction·n⌉) read from ``histogram``
    (bucket → count), clamped to ``[low, high]``, the observed min and max; None when empty."""
    total = sum(histogram.values())
    if not total:
        return None
    rank = max(1, math.ceil(fraction * total))
    if rank == total:
        return high  # the largest value is known exactly
    if rank == 1:
        return low
    seen = 0
    for bucket in sorted(histogram):
        seen += histogram[bucket]
        if seen >= rank:
            return min(max(bucket_value(bucket), low), high)
    return high  # not reached


@dataclass
class ToolStats:
    """Calls of one (period, tool, outcome): counts, duration sum/min/max and a histogram."""

    calls: int = 0
    duration_ms_sum: float = 0.0
    duration_ms_min: float = math.inf
    duration_ms_max: float = -math.inf
    histogram: dict[int, int] = field(default_factory=dict)

    def add(self, calls: int, total: float, low: float, high: float, histogram: dict[int, int]) -> None:
        self.calls += calls
        self.duration_ms_sum += total
        self.duration_ms_min = min(self.duration_ms_min, low)
        self.duration_ms_max = max(self.duration_ms_max, high)
        for bucket, count in histogram.items():
            self.histogram[bucket] = self.histogram.get(bucket, 0) + count


@dataclass
class AgentStats:
    calls: int = 0
    errors: int = 0
    refused: int = 0
    username: str = ""

    def add(self, calls: int, errors: int, refused: int, username: str = "") -> None:
        self.calls += calls
        self.errors += errors
        self.refused += refused
        self.username = self.username or username


@dataclass
class Report:
    """What :func:`read` returns: ``calls[(period, tool, outcome)]`` (a count), ``latency[tool]``
    (calls that ran, with the merged histogram) and ``agents[(client_id, user_id)]``."""

    calls: dict[tuple, int] = field(default_factory=dict)
    latency: dict[str, ToolStats] = field(default_factory=dict)
    agents: dict[tuple, AgentStats] = field(default_factory=dict)


@dataclass
class Window:
    """Raw rows aggregated per hour: ``tools[(hour, tool, outcome)]`` and ``agents[(hour, client_id, user_id)]``."""

    tools: dict[tuple, ToolStats] = field(default_factory=dict)
    agents: dict[tuple, AgentStats] = field(default_factory=dict)


def _aggregate(calls, by_day: bool = False) -> Window:
    """Aggregate raw ``ToolCall`` rows (a queryset) by hour (or by local day), in the database."""
    window = Window()
    trunc = TruncDay("at", tzinfo=timezone.get_current_timezone()) if by_day else TruncHour("at", tzinfo=UTC)
    bucket = Floor(Ln(Greatest(F("duration_ms"), Value(BASE_MS), output_field=FloatField()) / Value(BASE_MS),
                      output_field=FloatField()) / Value(_LN_GROWTH), output_field=FloatField())
    rows = (calls.annotate(hour=trunc, bucket=bucket)
            .values("hour", "tool", "outcome", "bucket")
            .annotate(n=Count("id"), total=Sum("duration_ms"), low=Min("duration_ms"), high=Max("duration_ms"))
            .order_by())
    for row in rows:
        stats = window.tools.setdefault((row["hour"], row["tool"], row["outcome"]), ToolStats())
        stats.add(row["n"], row["total"] or 0.0, row["low"], row["high"], {int(row["bucket"]): row["n"]})
    people = (calls.annotate(hour=trunc).values("hour", "client_id", "user_id")
              .annotate(n=Count("id"), errors=Count("id", filter=Q(outcome=ToolCall.Outcome.ERROR)),
                        refused=Count("id", filter=Q(outcome=ToolCall.Outcome.REFUSED)), username=Max("username"))
              .order_by())
    for row in people:
        window.agents.setdefault((row["hour"], row["client_id"], row["user_id"]), AgentStats()).add(
            row["n"], row["errors"], row["refused"], row["username"] or "")
    return window


def _write(start: datetime, stop: datetime, by_day: bool) -> None:
    window = _aggregate(ToolCall.objects.filter(at__gte=start, at__lt=stop), by_day)
    _store(window, 24 if by_day else 1)


def _store(window: Window, hours: int) -> None:
    ToolCallRollup.objects.bulk_create(
        [ToolCallRollup(hour=hour, hours=hours, tool=tool, outcome=outcome, calls=s.calls, duration_ms_sum=s.duration_ms_sum,
                        duration_ms_min=s.duration_ms_min, duration_ms_max=s.duration_ms_max,
                        histogram={str(k): v for k, v in s.histogram.items()})
         for (hour, tool, outcome), s in window.tools.items()], batch_size=500)
    AgentRollup.objects.bulk_create(
        [AgentRollup(hour=hour, hours=hours, client_id=client_id, user_id=user_id, username=s.username[:255], calls=s.calls,
                     errors=s.errors, refused=s.refused)
         for (hour, client_id, user_id), s in window.agents.items()], batch_size=500)


def _state() -> RollupState:
    try:
        return RollupState.objects.get_or_create(key=_STATE_KEY)[0]
    except IntegrityError:  # created by a concurrent run meanwhile
        return RollupState.objects.get(key=_STATE_KEY)


def refresh(now: datetime | None = None) -> datetime | None:
    """Fold every tool call of the hours that ended :data:`SETTLE` before ``now`` into the rollups.

    Returns how far the rollups now reach (None: there is nothing to roll up yet). Cheap when
    nothing is new: one read of the state row.
    """
    closed = floor_hour((now or timezone.now()) - SETTLE)
    state = _state()
    start = state.until
    if start is None:
        first = ToolCall.objects.filter(at__lt=closed).order_by("at").values_list("at", flat=True).first()
        if first is None:
            return None
        start = floor_hour(first)
    known = state.until
    daily_before = _day_start(timezone.now()) - timedelta(days=HOURLY_DAYS)
    while start < closed:
        day = _day_start(start)
        stop = min(_next_day(day), closed)
        by_day = start == day and stop == _next_day(day) and stop <= daily_before  # a whole old day: one row
        with transaction.atomic():
            claimed = RollupState.objects.filter(key=_STATE_KEY)
            claimed = claimed.filter(until__isnull=True) if known is None else claimed.filter(until=known)
            if not claimed.update(until=stop):  # another run moved it on: that run does the work
                return RollupState.objects.get(key=_STATE_KEY).until
            _write(start, stop, by_day)
        known = start = stop
    _compact(daily_before)
    return known


def _day_start(moment: datetime) -> datetime:
    """Midnight (``TIME_ZONE``) starting ``moment``'s day."""
    local = timezone.localtime(moment)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def _next_day(midnight: datetime) -> datetime:
    return _day_start(midnight + timedelta(hours=26))  # DST-proof: 23- and 25-hour days too


def _compact(before: datetime) -> None:
    """Merge the hourly rows of whole days that ended before ``before`` into one row per day."""
    first = ToolCallRollup.objects.filter(hours=1, hour__lt=before).order_by("hour").values_list("hour", flat=True).first()
    first_agent = AgentRollup.objects.filter(hours=1, hour__lt=before).order_by("hour").values_list("hour", flat=True).first()
    starts = [h for h in (first, first_agent) if h is not None]
    if not starts:
        return
    day = _day_start(min(starts))
    while _next_day(day) <= before:
        stop = _next_day(day)
        with transaction.atomic():
            hourly = ToolCallRollup.objects.select_for_update().filter(hours=1, hour__gte=day, hour__lt=stop)
            agents = AgentRollup.objects.select_for_update().filter(hours=1, hour__gte=day, hour__lt=stop)
            merged = Window()
            for row in hourly:
                merged.tools.setdefault((day, row.tool, row.outcome), ToolStats()).add(
                    row.calls, row.duration_ms_sum, row.duration_ms_min, row.duration_ms_max,
                    {int(k): v for k, v in row.histogram.items()})
            for row in agents:
                merged.agents.setdefault((day, row.client_id, row.user_id), AgentStats()).add(
                    row.calls, row.errors, row.refused, row.username)
            if merged.tools or merged.agents:
                hourly.delete()
                agents.delete()
                _store(merged, 24)
        day = stop


def rebuild() -> datetime | None:
    """Drop every rollup and roll the whole audit trail up again."""
    with transaction.atomic():
        ToolCallRollup.objects.all().delete()
        AgentRollup.objects.all().delete()
        RollupState.objects.filter(key=_STATE_KEY).update(until=None)
    return refresh()


def known_tools() -> list[str]:
    """Every tool name in the audit trail, sorted: from the rollups and the raw rows not rolled up yet."""
    until = refresh()
    tools = set(ToolCallRollup.objects.order_by().values_list("tool", flat=True).distinct())
    tail = ToolCall.objects.filter(at__gte=until) if until is not None else ToolCall.objects.all()
    tools.update(tail.order_by().values_list("tool", flat=True).distinct())
    return sorted(tools)


def purge_before(cutoff: datetime) -> int:
    """Delete the rollups of hours that ended before ``cutoff`` (audit retention)."""
    hour = floor_hour(cutoff)
    return (ToolCallRollup.objects.filter(hour__lt=hour).delete()[0]
            + AgentRollup.objects.filter(hour__lt=hour).delete()[0])


def read(since: datetime, until: datetime, *, by_day: bool = False) -> Report:
    """Tool-call statistics for ``[since, until)`` (both on whole hours, or on local midnights with
    ``by_day``): the rollups up to ``RollupState.until``, summed in the database, and the raw rows
    after it. Periods are local dates with ``by_day``, else the starts of hours."""
    state = RollupState.objects.filter(key=_STATE_KEY).values_list("until", flat=True).first()
    rolled = min(max(state, since), until) if state is not None else since
    report = Report()
    if rolled > since:
        rows = ToolCallRollup.objects.filter(hour__gte=since, hour__lt=rolled)
        period = TruncDate("hour", tzinfo=timezone.get_current_timezone()) if by_day else F("hour")
        for row in rows.annotate(period=period).values("period", "tool", "outcome").annotate(n=Sum("calls")).order_by():
            report.calls[(row["period"], row["tool"], row["outcome"])] = row["n"]
        ran = rows.exclude(outcome=ToolCall.Outcome.REFUSED)
        for row in ran.values("tool").annotate(n=Sum("calls"), total=Sum("duration_ms_sum"), low=Min("duration_ms_min"),
                                               high=Max("duration_ms_max")).order_by():
            report.latency.setdefault(row["tool"], ToolStats()).add(row["n"], row["total"], row["low"], row["high"], {})
        for tool, bucket, count in _merged_histograms(ran):
            histogram = report.latency[tool].histogram
            histogram[int(bucket)] = histogram.get(int(bucket), 0) + int(count)
        for row in (AgentRollup.objects.filter(hour__gte=since, hour__lt=rolled).values("client_id", "user_id")
                    .annotate(n=Sum("calls"), errors=Sum("errors"), refused=Sum("refused"), username=Max("username"))
                    .order_by()):  # the breakdown needs no hours
            report.agents.setdefault((row["client_id"], row["user_id"]), AgentStats()).add(
                row["n"], row["errors"], row["refused"], row["username"])
    if rolled < until:
        tail = _aggregate(ToolCall.objects.filter(at__gte=rolled, at__lt=until))
        for (hour, tool, outcome), stats in tail.tools.items():
            key = (timezone.localtime(hour).date() if by_day else hour, tool, outcome)
            report.calls[key] = report.calls.get(key, 0) + stats.calls
            if outcome != ToolCall.Outcome.REFUSED:
                report.latency.setdefault(tool, ToolStats()).add(stats.calls, stats.duration_ms_sum, stats.duration_ms_min,
                                                                 stats.duration_ms_max, stats.histogram)
        for (_hour, client_id, user_id), stats in tail.agents.items():
            report.agents.setdefault((client_id, user_id), AgentStats()).add(stats.calls, stats.errors, stats.refused, stats.username)
    return report


def _merged_histograms(rows) -> list[tuple[str, str, int]]:
    """``(tool, bucket, count)``: the histograms of the rollup ``rows`` (a queryset) summed per
    tool and bucket in the database (PostgreSQL ``jsonb_each_text``, SQLite ``json_each``)."""
    from django.db import connections, router

    connection = connections[router.db_for_read(ToolCallRollup)]
    ids_sql, params = rows.values("id").query.sql_with_params()
    table = connection.ops.quote_name(ToolCallRollup._meta.db_table)
    if connection.vendor == "postgresql":
        expand, value = "jsonb_each_text(r.histogram)", "h.value::bigint"
    elif connection.vendor == "sqlite":
        expand, value = "json_each(r.histogram)", "h.value"
    else:  # any other backend: merge in Python
        merged: dict[tuple[str, str], int] = {}
        for tool, histogram in rows.values_list("tool", "histogram"):
            for bucket, count in histogram.items():
                merged[(tool, bucket)] = merged.get((tool, bucket), 0) + count
        return [(tool, bucket, count) for (tool, bucket), count in merged.items()]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT r.tool, h.key, SUM({value}) FROM {table} r, {expand} h "
                       f"WHERE r.id IN ({ids_sql}) GROUP BY r.tool, h.key", params)
        return cursor.fetchall()
