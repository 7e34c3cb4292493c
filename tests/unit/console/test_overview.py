"""Overview numbers (calls per day by tool, nearest-rank p50/p95, error rates) and their SVG charts."""

from __future__ import annotations

import re
from datetime import timedelta
from http import HTTPStatus

import pytest
from django.urls import reverse
from django.utils import timezone

from console import metrics, rollups
from console.charts import nice_ceiling, overview_charts, stacked_bars

from tests.support.tool_calls import days_ago, make_call

pytestmark = pytest.mark.django_db


@pytest.fixture
def calls(person):
    for ms in (10, 20, 30, 40, 50, 60, 70, 80, 90, 100):
        make_call(tool="search_code", ms=ms, at=days_ago(1), user=person)
    make_call(tool="search_code", outcome="error", ms=500, at=days_ago(1), user=person)
    make_call(tool="search_code", outcome="refused", ms=0.1, at=days_ago(2), client_id="agent-2")
    make_call(tool="index_status", ms=5, at=days_ago(2), client_id="agent-2")
    make_call(tool="index_status", ms=5, at=days_ago(40))  # outside the default range


def test_overview_counts_calls_per_day_by_tool(calls):
    today = timezone.localdate()
    report = metrics.overview(today - timedelta(days=13), today)
    assert len(report.days) == 14
    assert report.calls_by_day[today - timedelta(days=1)] == {"search_code": 11}
    assert report.calls_by_day[today - timedelta(days=2)] == {"search_code": 1, "index_status": 1}
    assert report.tools == ["search_code", "index_status"]  # busiest first
    assert (report.total_calls, report.total_errors, report.total_refused) == (13, 1, 1)
    assert (report.active_agents, report.active_people) == (2, 1)


def test_latency_is_nearest_rank_over_calls_that_ran(calls):
    today = timezone.localdate()
    latency = metrics.overview(today - timedelta(days=13), today).latency["search_code"]
    # 11 calls ran (10..100 and one 500 ms error); the refused one is excluded.
    assert (latency.calls, latency.errors, latency.refused) == (12, 1, 1)
    assert latency.p50_ms == pytest.approx(60, rel=0.02)  # rank ⌈0.5·11⌉ = 6, read from the histogram
    assert latency.p95_ms == 500  # rank ⌈0.95·11⌉ = 11: the largest, known exactly
    assert latency.error_rate == pytest.approx(1 / 12)


def test_percentile_of_nothing_is_none():
    assert rollups.percentile({}, 0.5, 0, 0) is None


def test_histogram_percentiles_stay_within_two_percent():
    import math
    import random

    rng = random.Random(7)
    values = sorted(rng.lognormvariate(3, 1.5) for _ in range(5000))
    histogram = {}
    for v in values:
        histogram[rollups.bucket_of(v)] = histogram.get(rollups.bucket_of(v), 0) + 1
    for fraction in (0.5, 0.9, 0.95, 0.99):
        exact = values[math.ceil(fraction * len(values)) - 1]
        assert rollups.percentile(histogram, fraction, values[0], values[-1]) == pytest.approx(exact, rel=0.02)


def test_closed_hours_are_read_from_the_rollups(calls, person):
    from console.models import ToolCallRollup
    from mcp_gateway.models import ToolCall

    today = timezone.localdate()
    first = metrics.overview(today - timedelta(days=13), today)
    assert ToolCallRollup.objects.filter(tool="search_code").exists()
    # Raw rows of rolled-up hours are no longer read: deleting them leaves the report as it was.
    ToolCall.objects.filter(at__lt=timezone.now() - timedelta(hours=2)).delete()
    again = metrics.overview(today - timedelta(days=13), today)
    assert (again.total_calls, again.latency["search_code"].p95_ms) == (first.total_calls, 500)
    # Calls of the current hour are counted at once, from the raw rows.
    make_call(tool="search_code", ms=7, user=person)
    assert metrics.overview(today - timedelta(days=13), today).total_calls == first.total_calls + 1


def test_refresh_is_incremental_and_idempotent(calls):
    from console.models import ToolCallRollup

    rollups.refresh()
    rows = ToolCallRollup.objects.count()
    assert rollups.refresh() is not None and ToolCallRollup.objects.count() == rows
    rollups.rebuild()
    assert ToolCallRollup.objects.count() == rows


def test_last_24_hours_per_hour(person):
    make_call(tool="search_code", ms=5, at=timezone.now() - timedelta(hours=3), user=person)
    make_call(tool="search_code", ms=5, at=timezone.now() - timedelta(hours=30), user=person)
    report = metrics.overview_hours(24)
    assert report.step == "hour" and len(report.days) == 24 and report.total_calls == 1


def test_breakdown_per_agent_and_person(calls, person):
    today = timezone.localdate()
    report = metrics.overview(today - timedelta(days=13), today)
    assert [(a.client_id, a.calls, a.errors, a.refused, a.people) for a in report.agents] == [
        ("agent-1", 11, 1, 0, 1), ("agent-2", 2, 0, 1, 0)]
    assert [(p.username, p.calls, p.agents) for p in report.people] == [(person.username, 11, 1), ("svc", 2, 1)]


@pytest.mark.parametrize(("value", "ceiling"), [(0, 1), (1, 1), (3, 5), (7, 10), (11, 20), (240, 250), (1001, 2000)])
def test_axis_tops_are_round_numbers(value, ceiling):
    assert nice_ceiling(value) == ceiling


def test_stacked_bars_stack_series_and_keep_their_data():
    chart = stacked_bars("c", "Calls", ["05-01", "05-02"], {"a": [3, 0], "b": [1, 4]})
    assert [(b.series, b.label, b.value) for b in chart.bars] == [("a", "05-01", 3), ("b", "05-01", 1), ("b", "05-02", 4)]
    a, b = chart.bars[0], chart.bars[1]
    assert b.y + b.height == pytest.approx(a.y)  # b sits on top of a
    assert not chart.empty


def test_overview_page_renders_svg_charts_with_data_points(operator_client, calls):
    response = operator_client.get(reverse("console:overview"))
    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    assert '<svg class="chart" id="chart-calls-per-day"' in html
    points = re.findall(r'<rect class="bar"[^>]*data-series="search_code" data-label="[0-9-]+" data-value="(\d+)"', html)
    assert "11" in points
    assert 'id="chart-latency-per-tool"' in html and 'id="chart-error-rate-per-day"' in html
    assert "<script src=\"/console/console.js\"" in html and "<script>" not in html  # no inline script (CSP)
    assert "<title>Overview · mcprag console</title>" in html
    assert html.count('id="per-agent"') == 1 and html.count('id="per-person"') == 1  # each table once, in the page body


def test_overview_date_range_form(operator_client, calls):
    today = timezone.localdate()
    start = (today - timedelta(days=45)).isoformat()
    response = operator_client.get(reverse("console:overview"), {"start": start, "end": today.isoformat()})
    assert response.context["report"].total_calls == 14
    backwards = operator_client.get(reverse("console:overview"), {"start": today.isoformat(), "end": start})
    assert "The start date is after the end date." in backwards.content.decode()
    assert len(backwards.context["report"].days) == 7  # falls back to the last 7 days


def test_overview_presets(operator_client, calls):
    default = operator_client.get(reverse("console:overview"))
    assert default.context["preset"] == "7d" and len(default.context["report"].days) == 7
    month = operator_client.get(reverse("console:overview"), {"range": "90d"})
    assert month.context["report"].total_calls == 14 and 'aria-current="true">90 days' in month.content.decode()
    assert operator_client.get(reverse("console:overview"), {"range": "24h"}).context["report"].step == "hour"


def test_invalid_overview_dates_are_reported(operator_client, calls):
    html = operator_client.get(reverse("console:overview"), {"start": "2025-13-45"}).content.decode()
    assert 'id="range-errors"' in html and "Enter a valid date." in html


def test_overview_dates_past_the_last_day_are_reported(operator_client, calls):
    response = operator_client.get(reverse("console:overview"), {"end": "9999-12-31"})
    assert response.status_code == 200 and len(response.context["report"].days) == 7  # the default range
    html = response.content.decode()
    assert 'id="range-errors"' in html and "Enter a date no later than 9999-12-30." in html
    last_week = operator_client.get(reverse("console:overview"), {"start": "9999-12-24", "end": "9999-12-30"})
    assert last_week.status_code == 200 and last_week.context["report"].total_calls == 0


def test_overview_shows_index_freshness(operator_client, tmp_path):
    from codeindex import services

    (tmp_path / "a.py").write_text("def f():\n    return 1\n")
    services.index_repository(tmp_path, "tiny")
    html = operator_client.get(reverse("console:overview")).content.decode()
    assert "tiny" in html and "just now" in html


def test_empty_overview_says_so(operator_client):
    today = timezone.localdate()
    charts = overview_charts(metrics.overview(today, today))
    assert charts["calls"].empty and charts["latency"].bars == []
    assert "No data in this range" in operator_client.get(reverse("console:overview")).content.decode()


def test_console_script_is_served_same_origin(operator_client):
    response = operator_client.get(reverse("console:script"))
    assert response["Content-Type"].startswith("text/javascript")
    assert b"chart-wrap" in response.content


def test_count_axes_have_whole_number_ticks_and_thousands_separators():
    from console.charts import stacked_bars

    small = stacked_bars("c", "Calls", ["a", "b"], {"t": [3, 1]}, integer=True)
    ticks = [label.text for label in small.labels if label.anchor == "end"]
    assert ticks and all(t.isdigit() for t in ticks)  # never 0.75 or 37.5
    big = stacked_bars("c", "Calls", ["a"], {"t": [12345]}, integer=True)
    assert "15,000" in [label.text for label in big.labels]


def test_a_tools_colour_does_not_depend_on_the_other_tools_shown():
    from console.charts import PALETTE, series_colors

    alone = series_colors(["search_code"])["search_code"]
    assert series_colors(["search_code", "read_file"])["search_code"] == alone or "read_file" < "search_code"
    assert series_colors(["grep", "search_code", "list_files"])["search_code"] in PALETTE

    def luminance(hex_colour):
        channels = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    assert all(1.05 / (luminance(c) + 0.05) >= 3 for c in PALETTE)  # WCAG non-text contrast on white
