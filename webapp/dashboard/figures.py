"""The dashboard's charts from its figures: what each bar and point links to (its drill-down list)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import url_for

from engine.services.dashboard import Dashboard, Figure, Week

from . import charts
from .charts import Item

#: Establishments shown as bars (the table lists every one).
TOP_ESTABLISHMENTS = 15


@dataclass
class Charts:
    stages: charts.StackedChart
    overdue: charts.BarChart
    at_risk: charts.BarChart
    timers: charts.BarChart
    rules: charts.BarChart
    establishments: charts.BarChart
    caseload: charts.BarChart
    cases_trend: charts.LineChart
    alerts_trend: charts.LineChart


def build(board: Dashboard) -> Charts:
    return Charts(
        stages=_stages(board),
        overdue=_bars(
            board.overdue_by_team, lambda f: list_url("tasks", team=f.key, overdue="1"), charts.HALF
        ),
        at_risk=_bars(
            board.at_risk_by_team, lambda f: list_url("tasks", team=f.key, at_risk="1"), charts.HALF
        ),
        timers=_bars(board.at_risk_timers, lambda f: list_url("deadlines", process=f.key)),
        rules=_bars(board.alerts_by_rule, lambda f: list_url("alerts", rule=f.key), charts.HALF),
        establishments=_bars(
            board.alerts_by_establishment[:TOP_ESTABLISHMENTS],
            lambda f: list_url("alerts", establishment=f.key),
            charts.HALF,
        ),
        caseload=_bars(board.caseload, lambda f: list_url("tasks", assignee=f.key)),
        cases_trend=charts.line_chart(
            [
                ("Cases started", [_started(w) for w in board.weeks]),
                ("Cases completed", [_completed(w) for w in board.weeks]),
            ],
            week_labels(board.weeks),
        ),
        alerts_trend=charts.line_chart(
            [
                (
                    "Alerts raised",
                    [
                        Item(_week_name(w), w.raised, list_url("alerts", raised=w.monday.isoformat()))
                        for w in board.weeks
                    ],
                ),
                (
                    "Alerts closed",
                    [
                        Item(_week_name(w), w.closed, list_url("alerts", closed=w.monday.isoformat()))
                        for w in board.weeks
                    ],
                ),
            ],
            week_labels(board.weeks),
        ),
    )


def list_url(kind: str, **params: Any) -> str:
    return url_for("dashboard.list", kind=kind, **params)


def stage_url(process_id: str, stage: str) -> str:
    return list_url("instances", process=process_id, stage=stage)


def started_url(week: Week) -> str:
    """The colleague's case list, filtered to the cases started that week (UK days, Monday to Sunday)."""
    last = week.monday + timedelta(days=6)
    return url_for(
        "instances.index",
        **{"from-day": week.monday.day, "from-month": week.monday.month, "from-year": week.monday.year,
           "to-day": last.day, "to-month": last.month, "to-year": last.year},
    )  # fmt: skip


def week_labels(weeks: list[Week]) -> list[str]:
    return [f"{w.monday.day} {w.monday:%b}" for w in weeks]


def _week_name(week: Week) -> str:
    return f"week of {week.monday.day} {week.monday:%B %Y}"


def _started(week: Week) -> Item:
    return Item(_week_name(week), week.started, started_url(week))


def _completed(week: Week) -> Item:
    return Item(_week_name(week), week.completed, list_url("instances", completed=week.monday.isoformat()))


def _bars(figures: list[Figure], href: Any, size: tuple[int, int, int] = charts.FULL) -> charts.BarChart:
    return charts.bar_chart([Item(f.label, f.value, href(f)) for f in figures], size=size)


def _stages(board: Dashboard) -> charts.StackedChart:
    by_process: dict[str, list[Item]] = {}
    names: dict[str, str] = {}
    for figure in board.stages:
        names[figure.process_id] = figure.process_name
        by_process.setdefault(figure.process_id, []).append(
            Item(figure.stage_name, figure.value, stage_url(figure.process_id, figure.stage))
        )
    return charts.stacked_chart([(names[p], items) for p, items in by_process.items()])
