"""Numbers for the console overview, read from the hourly rollups (:mod:`console.rollups`).

    report = overview(date(2025, 5, 1), date(2025, 5, 14))          # whole days, local time zone
    report = overview_hours(24)                                      # the last 24 hours, per hour
    report.calls_by_day[date(2025, 5, 2)]["search_code"]             # 41
    report.latency["search_code"].p95_ms                             # 212.5 (within 2 %)
    report.agents[0].client_id, report.people[0].username            # busiest first

The cost of a report grows with the hours × tools in its range, not with the number of calls:
the raw ``ToolCall`` rows are read only for the last few minutes that are not rolled up yet.
Percentiles are nearest-rank (the value at rank ⌈p·n⌉) over the calls that ran (refused calls
never ran the tool), read from latency histograms: within 2 % of the exact value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.utils import timezone
from oauth2_provider.models import get_access_token_model
from oauth2_provider.settings import oauth2_settings

from codeindex import services as codeindex
from mcp_gateway.models import ToolCall

from . import rollups

__all__ = ["ToolLatency", "DayOutcomes", "AgentUsage", "PersonUsage", "Overview", "overview", "overview_hours",
           "day_bounds", "LAST_DAY", "BREAKDOWN_ROWS"]

#: Rows in the per-agent and per-person tables (the busiest first).
BREAKDOWN_ROWS = 20


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


@dataclass(frozen=True)
class AgentUsage:
    """One agent's calls in the range; ``people``: how many people called through it."""

    client_id: str
    calls: int
    errors: int
    refused: int
    people: int


@dataclass(frozen=True)
class PersonUsage:
    """One person's calls in the range (``user_id`` None: service clients); ``agents``: through how many."""

    user_id: int | None
    username: str
    calls: int
    errors: int
    refused: int
    agents: int


@dataclass
class Overview:
    """``days`` are the periods of the range: dates (``step == "day"``) or the starts of hours
    (``step == "hour"``); ``calls_by_day`` and ``outcomes_by_day`` are keyed by them."""

    start: date
    end: date
    days: list
    tools: list[str]
    calls_by_day: dict
    outcomes_by_day: dict
    latency: dict[str, ToolLatency]
    active_agents: int
    active_people: int
    agents_with_live_tokens: int
    repositories: list = field(default_factory=list)
    step: str = "day"
    agents: list[AgentUsage] = field(default_factory=list)
    people: list[PersonUsage] = field(default_factory=list)

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


#: The last day :func:`day_bounds` can bound (it needs the day after ``end``); the console's date
#: fields accept no later day (:class:`console.forms.DayField`).
LAST_DAY = date.max - timedelta(days=1)


def day_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """``[start 00:00, end+1 00:00)`` in the current time zone: both days are included."""
    tz = timezone.get_current_timezone()
    return (datetime.combine(start, time.min, tzinfo=tz), datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz))


def _report(since: datetime, until: datetime, periods: list, step: str) -> Overview:
    rollups.refresh()
    window = rollups.read(since, until, by_day=(step == "day"))
    calls_by_day = {p: {} for p in periods}
    outcomes = {p: [0, 0, 0] for p in periods}
    per_tool: dict[str, list[int]] = {}
    for (period, tool, outcome), calls in window.calls.items():
        if period not in calls_by_day:
            continue
        day = calls_by_day[period]
        day[tool] = day.get(tool, 0) + calls
        counts = per_tool.setdefault(tool, [0, 0, 0])
        counts[0] += calls
        outcomes[period][0] += calls
        if outcome == ToolCall.Outcome.ERROR:
            counts[1] += calls
            outcomes[period][1] += calls
        if outcome == ToolCall.Outcome.REFUSED:
            counts[2] += calls
            outcomes[period][2] += calls
    ran = window.latency
    tools = sorted(per_tool, key=lambda t: (-per_tool[t][0], t))
    latency = {}
    for tool in tools:
        stats = ran.get(tool)

        def pct(fraction, stats=stats):
            if stats is None:
                return None
            return rollups.percentile(stats.histogram, fraction, stats.duration_ms_min, stats.duration_ms_max)

        latency[tool] = ToolLatency(tool, *per_tool[tool], pct(0.50), pct(0.95))
    agents: dict[str, list] = {}
    people: dict[int | None, list] = {}
    for (client_id, user_id), stats in window.agents.items():
        agent = agents.setdefault(client_id, [0, 0, 0, set()])
        person = people.setdefault(user_id, [0, 0, 0, set(), stats.username])
        for row in (agent, person):
            row[0] += stats.calls
            row[1] += stats.errors
            row[2] += stats.refused
        agent[3].add(user_id)
        person[3].add(client_id)
        person[4] = person[4] or stats.username
    agent_rows = sorted((AgentUsage(c, a[0], a[1], a[2], len(a[3] - {None})) for c, a in agents.items() if c),
                        key=lambda a: (-a.calls, a.client_id))
    person_rows = sorted((PersonUsage(u, p[4], p[0], p[1], p[2], len(p[3] - {""})) for u, p in people.items()),
                         key=lambda p: (-p.calls, p.username))
    return Overview(
        start=timezone.localtime(since).date(), end=timezone.localtime(until - timedelta(microseconds=1)).date(),
        days=periods, tools=tools, calls_by_day=calls_by_day,
        outcomes_by_day={p: DayOutcomes(*o) for p, o in outcomes.items()}, latency=latency,
        active_agents=len(agent_rows), active_people=sum(1 for p in person_rows if p.user_id is not None),
        agents_with_live_tokens=get_access_token_model().objects.filter(expires__gt=timezone.now())
        .exclude(scope__contains=oauth2_settings.DCR_REGISTRATION_SCOPE).values("application_id").distinct().count(),
        repositories=codeindex.status(), step=step,
        agents=agent_rows[:BREAKDOWN_ROWS], people=person_rows[:BREAKDOWN_ROWS],
    )


def overview(start: date, end: date) -> Overview:
    """Everything the overview page shows for the days ``start``..``end`` (inclusive, local time zone)."""
    since, until = day_bounds(start, end)
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    return _report(since, until, days, "day")


def overview_hours(hours: int = 24, now: datetime | None = None) -> Overview:
    """The last ``hours`` hours, per hour: from the start of the hour ``hours - 1`` hours ago to now."""
    until = rollups.floor_hour(now or timezone.now()) + timedelta(hours=1)
    since = until - timedelta(hours=hours)
    periods = [since + timedelta(hours=n) for n in range(hours)]
    return _report(since, until, periods, "hour")
