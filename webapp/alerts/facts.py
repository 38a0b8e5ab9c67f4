"""An alert's facts (the exact marks or records that raised it, engine.alerts) in words: summary list
rows for the figures, and the marks as rows of a table."""

from __future__ import annotations

from datetime import date
from typing import Any

from engine.attendance.codes import BY_CODE
from engine.attendance.pupil_views import SHOWN_AS

from ..forms_render.templating import uk_date

#: Facts shown elsewhere on the page (the marks' table, the condition's dates) or not worth a row.
NOT_ROWS = {"marks", "ongoing"}
LABELS = {
    "codes": "Codes counted",
    "count": "Sessions counted",
    "count_required": "Sessions needed",
    "weeks": "School weeks",
    "window": "Window",
    "unit": "Counted in",
    "length_required": "Length needed",
    "run_length": "Length of the run",
    "first_session": "First session",
    "first_absence_date": "First absence",
    "rate": "Absence rate (%)",
    "possible": "Possible sessions",
    "absent": "Sessions absent",
    "authorised": "Authorised absence",
    "unauthorised": "Unauthorised absence",
    "period": "Period",
    "op": "Condition",
    "percent": "Threshold (%)",
    "amount_required": "Amount needed",
    "school_days": "School days",
    "sessions": "Sessions",
    "code": "Code",
    "school_days_allowed": "School days allowed",
    "school_days_unresolved": "School days unresolved",
    "oldest": "Oldest session",
    "hours_per_week": "Hours a week",
    "threshold_hours": "Threshold (hours a week)",
    "review_date": "Review date",
    "review_overdue": "Review overdue",
    "agreed_with_parent": "Agreed with the parent",
    "day_reached_on": "Day reached on",
    "school_days_excluded": "School days excluded",
    "duty_to_provide": "Who must provide education",
    "provision_recorded": "Provision recorded",
    "proposed_start": "Proposed start",
    "grace_school_days": "School days allowed",
    "school_days_since_proposed_start": "School days since the proposed start",
    "attended_sessions": "Sessions attended",
}
WORDS = {"at_least": "at least", "below": "below", "school_days": "school days", "sessions": "sessions"}


def fact_rows(facts: dict[str, Any]) -> list[dict[str, Any]]:
    """``govukSummaryList`` rows, one per fact other than the marks."""
    return [
        {
            "key": {"text": LABELS.get(name, name.replace("_", " ").capitalize())},
            "value": {"text": fact_text(value)},
        }
        for name, value in facts.items()
        if name not in NOT_ROWS
    ]


def fact_text(value: Any) -> str:
    """A fact's value in words: dates as GOV.UK writes them, ``[date, "AM"]`` as a session, a pair of
    dates as a period, records as their fields."""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if value is None or value in ([], {}):
        return "None"
    if isinstance(value, str):
        return _date_text(value) or WORDS.get(value, value)
    if isinstance(value, list):
        return _pair_text(value) or ", ".join(fact_text(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k.replace('_', ' ')}: {fact_text(v)}" for k, v in value.items())
    return str(value)


def _date_text(text: str) -> str | None:
    try:
        return uk_date(date.fromisoformat(text)) if len(text) == 10 else None
    except ValueError:
        return None


def _pair_text(value: list[Any]) -> str | None:
    if len(value) != 2 or not all(isinstance(v, str) for v in value):
        return None
    first, second = _date_text(value[0]), _date_text(value[1])
    if first and second:
        return f"{first} to {second}"
    if first and value[1] in ("AM", "PM"):
        return f"{first} ({'morning' if value[1] == 'AM' else 'afternoon'})"
    return None


def _short_date(text: str) -> str:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return text
    return f"{day.day} {day:%b}"


def marks_of(facts: dict[str, Any]) -> list[dict[str, Any]]:
    """The triggering marks: ``{"day", "session", "code", "meaning", "shown_as"}`` each."""
    found = []
    for entry in facts.get("marks") or []:
        if not (isinstance(entry, list) and len(entry) == 3):
            continue
        day, session, code = entry
        known = BY_CODE.get(str(code))
        found.append(
            {
                "day": _date_text(str(day)) or str(day),
                "session": "Morning" if session == "AM" else "Afternoon",
                "short": f"{_short_date(str(day))} {session}",
                "code": str(code),
                "meaning": known.meaning if known else "",
                "shown_as": SHOWN_AS[known.category] if known else "not-possible",
            }
        )
    return found
