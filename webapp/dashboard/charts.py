"""Geometry of the dashboard's charts, drawn as SVG by ``templates/dashboard/_charts.html``.

No chart library and no script: the server works out every rectangle and point, each of which is a
link to the list it counts. Each chart also comes with a table of the same figures (its text
alternative), so the colours and shapes never carry meaning on their own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

#: (width, label width, label characters) of a chart in a full-width column, and in half of one (drawn
#: smaller so that, scaled to fit, its words stay as large as a full-width chart's).
FULL = (640, 230, 32)
HALF = (460, 170, 22)
#: GOV.UK colours with at least 3:1 contrast against white (WCAG 1.4.11 non-text contrast).
PALETTE = ("#1d70b8", "#00703c", "#4c2c92", "#d4351c", "#003078", "#912b88", "#505a5f", "#6f4b00")


@dataclass(frozen=True)
class Item:
    """A figure to draw: its label, its value and the list it drills down to."""

    label: str
    value: int
    href: str


@dataclass(frozen=True)
class Bar:
    item: Item
    x: float
    y: float
    width: float
    height: float
    colour: str = PALETTE[0]

    limit: int = FULL[2]

    @property
    def short_label(self) -> str:
        return shorten(self.item.label, self.limit)


@dataclass(frozen=True)
class Tick:
    value: int
    position: float


@dataclass
class BarChart:
    """Horizontal bars: labels on the left, counts at the end of each bar."""

    bars: list[Bar]
    width: int
    height: int
    plot_left: int
    plot_width: int
    ticks: list[Tick] = field(default_factory=list)


@dataclass(frozen=True)
class Segment:
    item: Item
    x: float
    width: float
    colour: str


@dataclass(frozen=True)
class StackedRow:
    label: str
    total: int
    y: float
    segments: list[Segment]

    @property
    def short_label(self) -> str:
        return shorten(self.label)


@dataclass
class StackedChart:
    rows: list[StackedRow]
    width: int
    height: int
    plot_left: int
    plot_width: int
    bar_height: int
    ticks: list[Tick] = field(default_factory=list)


@dataclass(frozen=True)
class Point:
    item: Item
    x: float
    y: float


@dataclass(frozen=True)
class Series:
    name: str
    points: list[Point]
    colour: str
    dashed: bool

    @property
    def path(self) -> str:
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)


@dataclass
class LineChart:
    series: list[Series]
    x_labels: list[tuple[float, str]]
    width: int
    height: int
    plot_left: int
    plot_top: int
    plot_bottom: int
    plot_right: int
    ticks: list[Tick] = field(default_factory=list)


def shorten(label: str, limit: int = FULL[2]) -> str:
    """A label that fits the space left of the bars (the full one is the link's name)."""
    return label if len(label) <= limit else label[: limit - 1].rstrip() + "\u2026"


def nice_maximum(value: int) -> int:
    """The axis end: 1, 2 or 5 times a power of ten, at least ``value`` (and at least 1)."""
    if value <= 1:
        return 1
    power = 10 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 2, 5, 10) if step * power >= value)


def _ticks(maximum: int, start: float, length: float, *, reverse: bool = False) -> list[Tick]:
    values = sorted({0, maximum // 2, maximum}) if maximum >= 2 else [0, maximum]
    return [
        Tick(v, start + (length - length * v / maximum if reverse else length * v / maximum)) for v in values
    ]


def bar_chart(items: list[Item], *, size: tuple[int, int, int] = FULL, row: int = 30) -> BarChart:
    """One horizontal bar per item, in the order given."""
    width, label_width, limit = size
    plot_width = width - label_width - 60  # room for the count after the longest bar
    maximum = nice_maximum(max((i.value for i in items), default=0))
    bars = [
        Bar(item, label_width, 10 + n * row, plot_width * item.value / maximum, row - 10, limit=limit)
        for n, item in enumerate(items)
    ]
    height = 10 + len(items) * row + 25
    return BarChart(bars, width, height, label_width, plot_width, _ticks(maximum, label_width, plot_width))


def stacked_chart(
    rows: list[tuple[str, list[Item]]], *, width: int = 640, label_width: int = 230, row: int = 34
) -> StackedChart:
    """One horizontal bar per row, its items laid end to end, each in its own colour."""
    plot_width = width - label_width - 60
    maximum = nice_maximum(max((sum(i.value for i in items) for _, items in rows), default=0))
    drawn = []
    for n, (label, items) in enumerate(rows):
        x, segments = float(label_width), []
        for k, item in enumerate(items):
            length = plot_width * item.value / maximum
            segments.append(Segment(item, x, length, PALETTE[k % len(PALETTE)]))
            x += length
        drawn.append(StackedRow(label, sum(i.value for i in items), 10 + n * row, segments))
    height = 10 + len(rows) * row + 25
    return StackedChart(
        drawn, width, height, label_width, plot_width, row - 12, _ticks(maximum, label_width, plot_width)
    )


def line_chart(
    series: list[tuple[str, list[Item]]], x_labels: list[str], *, width: int = HALF[0], height: int = 240
) -> LineChart:
    """Lines over the same x positions (weeks); the second series is dashed, so that colour is not the
    only difference. With many positions, every other one is labelled (the last one always)."""
    left, top, right, bottom = 50, 15, width - 20, height - 40
    maximum = nice_maximum(max((i.value for _, items in series for i in items), default=0))
    count = max(len(x_labels), 2)
    step = (right - left) / (count - 1)
    drawn = [
        Series(
            name,
            [
                Point(item, left + k * step, bottom - (bottom - top) * item.value / maximum)
                for k, item in enumerate(items)
            ],
            PALETTE[n % len(PALETTE)],
            dashed=n % 2 == 1,
        )
        for n, (name, items) in enumerate(series)
    ]
    every = 2 if len(x_labels) > 8 else 1
    last = len(x_labels) - 1
    labels = [(left + k * step, text) for k, text in enumerate(x_labels) if (last - k) % every == 0]
    return LineChart(
        drawn,
        labels,
        width,
        height,
        left,
        top,
        bottom,
        right,
        _ticks(maximum, top, bottom - top, reverse=True),
    )
