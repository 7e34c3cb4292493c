"""Server-rendered SVG charts: this module computes the geometry, ``console/_chart.html`` draws it.

No JavaScript library and nothing from a CDN: every bar is an SVG ``<rect>`` carrying its data
(``data-series``, ``data-label``, ``data-value``) and a ``<title>`` tooltip, so the chart reads
without scripts and tests can find the data points.

    chart = stacked_bars("calls-per-day", "Calls per day", ["05-01", "05-02"],
                         {"search_code": [3, 5], "index_status": [1, 0]})
    chart.bars[0].series, chart.bars[0].value        # ('search_code', 3)
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.html import format_html, format_html_join

__all__ = ["Bar", "Label", "Line", "Chart", "stacked_bars", "grouped_hbars", "nice_ceiling", "nice_axis",
           "series_colors", "PALETTE"]

#: Series colours: distinct hues, each with a contrast of at least 3:1 against the white page
#: (WCAG 2.1 §1.4.11 non-text contrast).
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#7570B3", "#A6761D", "#E7298A", "#0F7B8A", "#B2182B", "#4D4D4D",
           "#6A3D9A"]

WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 12, 36


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    color: str
    series: str
    label: str
    value: float
    display: str


@dataclass(frozen=True)
class Label:
    x: float
    y: float
    text: str
    anchor: str = "middle"
    full: str = ""  # the whole text when ``text`` is cut short (shown on hover)


@dataclass(frozen=True)
class Line:
    x1: float
    y1: float
    x2: float
    y2: float


@dataclass
class Chart:
    id: str
    title: str
    width: int = WIDTH
    height: int = HEIGHT
    bars: list[Bar] = field(default_factory=list)
    labels: list[Label] = field(default_factory=list)
    gridlines: list[Line] = field(default_factory=list)
    legend: list[tuple[str, str]] = field(default_factory=list)
    unit: str = ""

    @property
    def empty(self) -> bool:
        return not any(bar.value for bar in self.bars)

    def markup(self) -> str:
        """The chart's gridlines, bars and labels as SVG elements (escaped), for ``console/_chart.html``.

        Built here rather than in template loops: a 90-day chart has thousands of attributes, and
        the template engine would spend most of the page's time formatting them."""
        grid = format_html_join("", '<line x1="{}" y1="{}" x2="{}" y2="{}"/>',
                                ((_n(g.x1), _n(g.y1), _n(g.x2), _n(g.y2)) for g in self.gridlines))
        bars = format_html_join(
            "", '<rect class="bar" x="{}" y="{}" width="{}" height="{}" fill="{}" data-series="{}" data-label="{}" '
                'data-value="{}" data-display="{}"><title>{} · {}: {}</title></rect>',
            ((_n(b.x), _n(b.y), _n(b.width), _n(b.height), b.color, b.series, b.label, _n(b.value), b.display,
              b.label, b.series, b.display) for b in self.bars))
        labels = format_html_join(
            "", '<text x="{}" y="{}" text-anchor="{}">{}{}</text>',
            ((_n(t.x), _n(t.y), t.anchor, format_html("<title>{}</title>", t.full) if t.full else "", t.text)
             for t in self.labels))
        return format_html('<g class="grid">{}</g><g class="bars">{}</g><g class="labels">{}</g>', grid, bars, labels)


def _n(value: float) -> str:
    """A coordinate or value for an SVG attribute: at most two decimals, a dot, no grouping."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text if text not in ("", "-0") else "0"


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 × 10ⁿ at or above ``value`` (at least 1): a readable axis top."""
    if value <= 1:
        return 1
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power:
            return step * power
    return 10 * power


def nice_axis(value: float, *, integer: bool = False, ticks: int = 4) -> tuple[float, float]:
    """``(top, step)`` of a value axis reaching ``value`` with about ``ticks`` steps of 1, 2 or 5 × 10ⁿ;
    with ``integer`` (a count axis) every tick is a whole number."""
    if value <= 0:
        return (ticks if integer else 1), (1 if integer else 1 / ticks)
    raw = value / ticks
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw and not (integer and (m * power) % 1))
    if integer:
        step = max(1, step)
    return step * math.ceil(value / step - 1e-9), step


def series_colors(names) -> dict[str, str]:
    """A colour per series name that does not depend on which other series are shown: each name
    has a home slot in :data:`PALETTE` (a checksum of the name); a name whose slot is taken in
    this chart takes the next free one."""
    colors: dict[str, str] = {}
    used: set[int] = set()
    for name in sorted(names):
        slot = zlib.crc32(name.encode()) % len(PALETTE)
        for n in range(len(PALETTE)):
            if (slot + n) % len(PALETTE) not in used:
                slot = (slot + n) % len(PALETTE)
                break
        used.add(slot)
        if len(used) == len(PALETTE):
            used.clear()
        colors[name] = PALETTE[slot]
    return colors


def _short(text: str, chars: int) -> str:
    return text if len(text) <= chars else text[: max(1, chars - 1)] + "…"


def _fmt(value: float, unit: str) -> str:
    text = f"{value:,.0f}" if value >= 100 or float(value).is_integer() else f"{value:,.2f}".rstrip("0").rstrip(".")
    return f"{text}{unit}"


def _value_axis(chart: Chart, top_value: float, step: float) -> None:
    plot_h = chart.height - TOP - BOTTOM
    ticks = max(1, round(top_value / step))
    for n in range(ticks + 1):
        value = step * n
        y = chart.height - BOTTOM - plot_h * n / ticks
        chart.gridlines.append(Line(LEFT, y, chart.width - RIGHT, y))
        chart.labels.append(Label(LEFT - 6, y + 4, _fmt(value, chart.unit), "end"))


def stacked_bars(chart_id: str, title: str, categories: list[str], series: dict[str, list[float]],
                 *, unit: str = "", colors: dict[str, str] | None = None, width: int = WIDTH, height: int = HEIGHT,
                 integer: bool = False) -> Chart:
    """Vertical bars, one per category (a day), stacked by series (a tool); ``integer``: a count
    axis (whole-number ticks)."""
    chart = Chart(chart_id, title, width=width, height=height, unit=unit)
    colors = colors or series_colors(series)
    chart.legend = [(name, colors[name]) for name in series]
    totals = [sum(values[i] for values in series.values()) for i in range(len(categories))]
    top, step = nice_axis(max(totals, default=0), integer=integer)
    _value_axis(chart, top, step)
    plot_w, plot_h = chart.width - LEFT - RIGHT, chart.height - TOP - BOTTOM
    slot = plot_w / max(len(categories), 1)
    every = max(1, math.ceil(len(categories) / max(2, width // 60)))
    for i, category in enumerate(categories):
        base = chart.height - BOTTOM
        for name, values in series.items():
            height = plot_h * values[i] / top
            if values[i]:
                chart.bars.append(Bar(LEFT + i * slot + slot * 0.15, base - height, slot * 0.7, height, colors[name],
                                      name, category, values[i], _fmt(values[i], unit)))
            base -= height
        if i % every == 0:
            chart.labels.append(Label(LEFT + (i + 0.5) * slot, chart.height - BOTTOM + 16, category))
    return chart


def grouped_hbars(chart_id: str, title: str, categories: list[str], series: dict[str, list[float | None]],
                  *, unit: str = "", width: int = WIDTH) -> Chart:
    """Horizontal bars, one group per category (a tool), one bar per series (p50, p95)."""
    row = 40
    chart = Chart(chart_id, title, width=width, height=TOP + BOTTOM + row * max(len(categories), 1), unit=unit)
    colors = {name: PALETTE[n % len(PALETTE)] for n, name in enumerate(series)}
    chart.legend = [(name, colors[name]) for name in series]
    left = min(170, width * 2 // 5)
    top, step = nice_axis(max((v or 0 for values in series.values() for v in values), default=0))
    ticks = max(1, round(top / step))
    plot_w = chart.width - left - RIGHT - 8  # room for the last tick's label
    for n in range(ticks + 1):
        x = left + plot_w * n / ticks
        chart.gridlines.append(Line(x, TOP, x, chart.height - BOTTOM))
        chart.labels.append(Label(x, chart.height - BOTTOM + 16, _fmt(step * n, unit), "end" if n == ticks else "middle"))
    bar_h = (row * 0.7) / max(len(series), 1)
    for i, category in enumerate(categories):
        y0 = TOP + i * row + row * 0.15
        chart.labels.append(Label(left - 8, y0 + row * 0.35 + 4, _short(category, (left - 8) // 7), "end", category))
        for j, (name, values) in enumerate(series.items()):
            value = values[i]
            if value is None:
                continue
            chart.bars.append(Bar(left, y0 + j * bar_h, max(plot_w * value / top, 1), bar_h * 0.9, colors[name],
                                  name, category, value, _fmt(value, unit)))
    return chart


def overview_charts(report) -> dict[str, Chart]:
    """The overview page's three charts from a :class:`console.metrics.Overview`."""
    hourly = getattr(report, "step", "day") == "hour"
    days = [f"{timezone.localtime(day):%H:00}" if hourly else f"{day:%m-%d}" for day in report.days]
    per = "hour" if hourly else "day"
    calls = stacked_bars("calls-per-day", f"Calls per {per}, by tool", days,
                         {tool: [report.calls_by_day[day].get(tool, 0) for day in report.days] for tool in report.tools},
                         width=640, height=260, integer=True)
    tools = [t for t in report.tools if report.latency[t].p50_ms is not None]
    latency = grouped_hbars("latency-per-tool", "Latency per tool", tools,
                            {"p50": [report.latency[t].p50_ms for t in tools],
                             "p95": [report.latency[t].p95_ms for t in tools]}, unit=" ms", width=480)

    def share(part: int, total: int) -> float:
        return round(100 * part / total, 1) if total else 0

    outcomes = [report.outcomes_by_day[day] for day in report.days]
    errors = stacked_bars("error-rate-per-day", f"Failed and refused calls, % of calls per {per}", days,
                          {"tool error": [share(o.errors, o.total) for o in outcomes],
                           "refused": [share(o.refused, o.total) for o in outcomes]},
                          unit="%", colors={"tool error": "#D55E00", "refused": "#7570B3"}, width=480, height=220)
    return {"calls": calls, "latency": latency, "errors": errors}
