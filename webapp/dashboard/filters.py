"""The dashboard lists' query strings: read into the service's filters, and written back for links
(pages, exports, the dashboard's drill-downs)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from werkzeug.datastructures import MultiDict

from engine.errors import InvalidInput
from engine.services.dashboard_lists import (
    AlertFilters,
    DeadlineFilters,
    Filters,
    InstanceFilters,
    TaskFilters,
)
from engine.services.dashboard_terms import Due

#: The lists, by the name in their URL: /manage/<kind>.
KINDS = ("tasks", "instances", "deadlines", "alerts")
TITLES = {"tasks": "Open tasks", "instances": "Cases", "deadlines": "Case deadlines", "alerts": "Alerts"}


def read(kind: str, args: MultiDict[str, str]) -> Filters:
    """The filters of list ``kind`` from a query string; a week that is not a date is refused."""
    page = _page(args)
    if kind == "tasks":
        due = Due.OVERDUE if args.get("overdue") == "1" else Due.AT_RISK if args.get("at_risk") == "1" else ""
        return TaskFilters(_text(args, "team"), _text(args, "assignee"), _text(args, "process"), due, page)
    if kind == "instances":
        return InstanceFilters(_text(args, "process"), _text(args, "stage"), _week(args, "completed"), page)
    if kind == "deadlines":
        return DeadlineFilters(_text(args, "process"), page)
    return AlertFilters(
        _text(args, "rule"), _text(args, "establishment"), _week(args, "raised"), _week(args, "closed"), page
    )


def query(filters: Filters) -> dict[str, str]:
    """The query string of ``filters`` (without the page), as :func:`read` reads it."""
    values: dict[str, Any] = {}
    if isinstance(filters, TaskFilters):
        values = {"team": filters.team, "assignee": filters.assignee, "process": filters.process_id,
                  "overdue": "1" if filters.due == Due.OVERDUE else "",
                  "at_risk": "1" if filters.due == Due.AT_RISK else ""}  # fmt: skip
    elif isinstance(filters, InstanceFilters):
        values = {"process": filters.process_id, "stage": filters.stage, "completed": filters.completed_week}
    elif isinstance(filters, DeadlineFilters):
        values = {"process": filters.process_id}
    elif isinstance(filters, AlertFilters):
        values = {"rule": filters.rule_id, "establishment": filters.establishment,
                  "raised": filters.raised_week, "closed": filters.closed_week}  # fmt: skip
    return {
        name: value.isoformat() if isinstance(value, date) else value
        for name, value in values.items()
        if value
    }


def _text(args: MultiDict[str, str], name: str) -> str:
    return args.get(name, "").strip()[:200]


def _page(args: MultiDict[str, str]) -> int:
    page = args.get("page", "1")
    return int(page) if page.isdigit() and len(page) < 7 else 1


def _week(args: MultiDict[str, str], name: str) -> date | None:
    text = args.get(name, "").strip()
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            f"The week must be given as the date of its Monday, like 2026-03-02, not {text[:20]!r}"
        )
    return day - timedelta(days=day.weekday())  # the week's Monday, whichever of its days was given
