"""How the pupil and establishment pages draw what the services give them: flag icons (small SVG
files in webapp/static/icons, put inline so they take the text's colour), the weekly attendance chart's
geometry (drawn by the template as SVG: no chart library, no script), and links to the records a
chronology entry is about."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from flask import url_for
from markupsafe import Markup
from werkzeug.routing import BuildError

from engine.access import Principal
from engine.attendance.pupil_views import WeekFigures
from engine.attendance.vocabulary import DELETION_GROUNDS, FLAGS

ICONS = Path(__file__).parents[1] / "static" / "icons"
#: The persistent-absence line: attendance below 90 % is absence of 10 % or more.
PERSISTENT_LINE = 90


# --- flags ------------------------------------------------------------------------------------------


@cache
def _icon_source(flag: str) -> str | None:
    path = ICONS / f"flag-{flag.lower().replace('_', '-')}.svg"
    if not path.is_file():
        return None
    return (
        path.read_text()
        .strip()
        .replace("<svg ", '<svg aria-hidden="true" focusable="false" class="educase-flag__icon" ', 1)
    )


def flag_icon(flag: str) -> Markup:
    """The flag's icon, inline and hidden from screen readers (the label beside it says what it is)."""
    return Markup(_icon_source(flag) or "")


def flag_label(flag: str) -> str:
    """``CLA``'s label: "child looked after"."""
    return FLAGS.get(flag, flag.replace("_", " ").lower())


def flag_short(flag: str) -> str:
    """``SEN_SUPPORT`` → ``SEN support``, ``YOUNG_CARER`` → ``Young carer``; acronyms as they are."""
    return {"SEN_SUPPORT": "SEN support", "YOUNG_CARER": "Young carer"}.get(flag, flag)


# --- the weekly chart -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    band: str  # good (90 % or more), low (under 90 %), severe (50 % or under), none (no possible session)
    label: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int
    bars: list[Bar]
    gridlines: list[tuple[float, str]]  # (y, label)
    persistent_y: float
    months: list[tuple[float, str]] = field(default_factory=list)  # (x, label) under the first week of each

    @property
    def plot_width(self) -> int:
        return self.right - self.left


def weekly_chart(weeks: list[WeekFigures], width: int = 760, height: int = 260) -> Chart:
    """Bars of attendance % per week (0-100 %), with gridlines, the 90 % line and month labels."""
    left, right, top, bottom = 52, width - 12, 34, height - 34
    step = (right - left) / max(len(weeks), 1)

    def y_of(percent: float) -> float:
        return round(bottom - (bottom - top) * percent / 100, 1)

    bars, months, seen = [], [], set()
    for i, week in enumerate(weeks):
        x = round(left + i * step + step * 0.15, 1)
        rate = week.attendance_rate
        band = (
            "none"
            if rate is None
            else "good"
            if rate >= PERSISTENT_LINE
            else "low"
            if rate > 50
            else "severe"
        )
        top_y = y_of(rate) if rate is not None else bottom - 3
        bars.append(Bar(x, top_y, round(step * 0.7, 1), round(bottom - top_y, 1), band, week_text(week)))
        month = _first_day_in_week(week.monday)
        centre = round(left + i * step + step / 2, 1)
        if (month.year, month.month) not in seen and (not months or centre - months[-1][0] >= 36):
            seen.add((month.year, month.month))
            months.append((centre, month.strftime("%b")))
    grid = [(y_of(p), f"{p} %") for p in (0, 25, 50, 75, 100)]
    return Chart(width, height, left, right, top, bottom, bars, grid, y_of(PERSISTENT_LINE), months)


def _first_day_in_week(monday: date) -> date:
    """The month a week is shown under: the month of its Friday (a week starting on 29 September is
    mostly October's)."""
    return date.fromordinal(monday.toordinal() + 4)


def week_text(week: WeekFigures) -> str:
    rate = week.attendance_rate
    figure = "no possible sessions" if rate is None else f"{rate:.1f} % attended"
    return f"Week beginning {week.monday.day} {week.monday:%B %Y}: {figure}"


def chart_summary(weeks: list[WeekFigures]) -> str:
    """One sentence for screen readers about the chart; the table under it has every figure."""
    rated = [w for w in weeks if w.attendance_rate is not None]
    if not rated:
        return "No week has a possible session."
    lowest = min(rated, key=lambda w: w.attendance_rate or 0)
    below = sum(1 for w in rated if (w.attendance_rate or 0) < PERSISTENT_LINE)
    return (
        f"{len(rated)} weeks with possible sessions. {below} below {PERSISTENT_LINE} %. "
        f"Lowest: {lowest.attendance_rate:.1f} % in the week beginning "
        f"{lowest.monday.day} {lowest.monday:%B %Y}."
    )


# --- links ------------------------------------------------------------------------------------------


def optional_url(endpoint: str, **values: Any) -> str | None:
    """The URL of ``endpoint``, or None when that page is not installed."""
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return None


def ref_url(ref: tuple[str, str] | None, principal: Principal) -> str | None:
    """Where a chronology entry's record is, if this person may open it: an alert, a case (managers), a
    task, an episode, or an establishment (a school user: only their own)."""
    if ref is None:
        return None
    kind, key = ref
    number = int(key) if key.isdigit() else 0
    if kind == "case":
        return optional_url("instances.instance", instance_id=number) if principal.is_manager else None
    if kind == "establishment" and principal.is_school and key != principal.establishment:
        return None
    targets = {
        "alert": ("alerts.alert", {"alert_id": number}),
        "task": ("tasks.task", {"task_id": key}),
        "episode": ("episodes.episode", {"episode_id": number}),
        "establishment": ("pupils.establishment", {"laestab": key}),
    }
    endpoint, values = targets.get(kind, ("", {}))
    return optional_url(endpoint, **values) if endpoint else None


def school_year_text(year: int) -> str:
    return f"{year}/{(year + 1) % 100:02d}"


REGISTRATIONS = {"single": "Single", "main": "Dual: main school", "subsidiary": "Dual: subsidiary"}
#: Case states as the casework pages name them.
CASE_STATES = {
    "user_input_required": "Waiting for a person",
    "waiting": "Waiting for a date or message",
    "error": "Stopped with an error",
    "complete": "Complete",
    "cancelled": "Cancelled",
    "running": "Running",
}
#: GOV.UK tag colours of an alert's states.
ALERT_STATE_CLASSES = {
    "open": "govuk-tag--red",
    "acknowledged": "govuk-tag--yellow",
    "actioned": "govuk-tag--blue",
    "closed": "govuk-tag--grey",
}


#: What each entry of an alert's history says.
ALERT_HISTORY = {
    "raised": "Raised",
    "acknowledged": "Acknowledged",
    "actioned": "Marked as actioned",
    "closed": "Closed",
    "process_started": "Case started",
    "process_failed": "Case could not be started",
    "condition_ended": "Condition no longer met",
}


def alert_history_text(action: str) -> str:
    return ALERT_HISTORY.get(action, action.replace("_", " ").capitalize())


def registration_text(registration: str) -> str:
    return REGISTRATIONS.get(registration, registration)


def deletion_ground_text(ground: str | None) -> str:
    return DELETION_GROUNDS.get(ground, ground) if ground else ""


def case_state_text(state: str) -> str:
    return CASE_STATES.get(state, state.replace("_", " ").capitalize())


def alert_state_tag(state: str) -> dict[str, str]:
    """The ``govukTag`` parameters of an alert's state."""
    return {"text": state.capitalize(), "classes": ALERT_STATE_CLASSES.get(state, "govuk-tag--grey")}


TEMPLATE_GLOBALS = {
    "flag_icon": flag_icon,
    "flag_label": flag_label,
    "flag_short": flag_short,
    "optional_url": optional_url,
    "ref_url": ref_url,
    "school_year_text": school_year_text,
    "registration_text": registration_text,
    "deletion_ground_text": deletion_ground_text,
    "case_state_text": case_state_text,
    "alert_state_tag": alert_state_tag,
    "alert_history_text": alert_history_text,
}
