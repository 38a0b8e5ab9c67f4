"""Turning what a timer or due-date expression gives into an exact instant.

Rules (stated once, used by timers and human-task due dates alike):

* a ``datetime`` (or an ISO string with a time) is that instant; without an offset it is read as UK
  local time (the LA's clock), never the server's;
* an ISO 8601 duration (``"P3D"``) runs from now;
* a ``date`` (or ``"YYYY-MM-DD"``) is a **deadline day**: the deadline is met if done on that day, so
  the instant stored is the first moment after the day ends (00:00 UK time the next day). A timer set
  to ``add_school_days(start, 15)`` therefore fires once day 15 is over, never during it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

UK = ZoneInfo("Europe/London")


def deadline_instant(value: object) -> datetime:
    """The UTC instant a timer fires / a task becomes overdue, for a date, datetime or ISO string."""
    if isinstance(value, datetime):
        return _aware(value).astimezone(UTC)
    if isinstance(value, date):
        return _end_of_day(value)
    if isinstance(value, str):
        text = value.strip()
        if text.upper().startswith("P"):  # a duration (e.g. camunda:dueDate="P3D") runs from now
            from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

            from .. import clock

            start = clock.now()
            parsed = TimerEventDefinition.parse_iso_duration(text.upper())
            return start + TimerEventDefinition.get_timedelta_from_start(parsed, start)
        if len(text) == 10:
            return _end_of_day(date.fromisoformat(text))
        return _aware(datetime.fromisoformat(text.replace("Z", "+00:00"))).astimezone(UTC)
    raise ValueError(f"expected a date, a date-time or an ISO 8601 string, got {value!r}")


def due_date(due_at: datetime) -> date:
    """The calendar day (UK) by which something due at ``due_at`` must be done."""
    return (due_at.astimezone(UK) - timedelta(microseconds=1)).date()


def uk_today(now: datetime) -> date:
    return now.astimezone(UK).date()


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UK)


def _end_of_day(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(0, 0), UK).astimezone(UTC)
