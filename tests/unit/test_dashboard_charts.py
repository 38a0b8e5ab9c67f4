"""The dashboard's chart geometry (webapp/dashboard/charts.py): scales, bars, stacks and lines."""

from __future__ import annotations

import pytest

from webapp.dashboard import charts
from webapp.dashboard.charts import Item


@pytest.mark.parametrize(("value", "end"), [(0, 1), (1, 1), (2, 2), (3, 5), (7, 10), (10, 10), (11, 20), (420, 500)])
def test_the_axis_ends_at_a_round_number(value: int, end: int) -> None:
    assert charts.nice_maximum(value) == end


def test_long_labels_are_shortened_with_an_ellipsis() -> None:
    assert charts.shorten("Short") == "Short"
    assert charts.shorten("A" * 40, 10) == "AAAAAAAAA\u2026"


def test_bars_are_proportional_to_their_values() -> None:
    chart = charts.bar_chart([Item("a", 10, "/a"), Item("b", 5, "/b"), Item("c", 0, "/c")])
    widths = [bar.width for bar in chart.bars]
    assert widths[0] == chart.plot_width and widths[1] == chart.plot_width / 2 and widths[2] == 0
    assert [bar.y for bar in chart.bars] == sorted(bar.y for bar in chart.bars)
    assert [t.value for t in chart.ticks] == [0, 5, 10]
    assert chart.height > chart.bars[-1].y + chart.bars[-1].height


def test_a_stack_lays_its_items_end_to_end_in_different_colours() -> None:
    chart = charts.stacked_chart([("P", [Item("x", 3, "/x"), Item("y", 2, "/y")]), ("Q", [Item("z", 1, "/z")])])
    first = chart.rows[0]
    assert first.total == 5 and chart.ticks[-1].value == 5
    assert first.segments[1].x == pytest.approx(first.segments[0].x + first.segments[0].width)
    assert first.segments[0].colour != first.segments[1].colour
    assert sum(s.width for s in first.segments) == pytest.approx(chart.plot_width)


def test_lines_share_their_x_positions_and_the_second_is_dashed() -> None:
    weeks = [f"w{k}" for k in range(12)]
    chart = charts.line_chart(
        [("started", [Item(w, k, f"/{w}") for k, w in enumerate(weeks)]), ("done", [Item(w, 0, "/") for w in weeks])],
        weeks,
    )
    started, done = chart.series
    assert [p.x for p in started.points] == [p.x for p in done.points]
    assert not started.dashed and done.dashed
    assert started.points[0].y == chart.plot_bottom and started.points[-1].y > chart.plot_top  # 11 of 20
    assert [label for _x, label in chart.x_labels] == ["w1", "w3", "w5", "w7", "w9", "w11"]
