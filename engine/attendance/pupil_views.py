"""What a record page shows of a year of marks: the figures of each week (for the weekly attendance
chart) and month grids of session codes, each with the class it counts as (for the marks calendar).

Pure functions over stored mark strings (:mod:`engine.attendance.layout`). Weeks run Monday to Sunday
and are shown when they hold at least one mark, which is how a school week is recognised without a
calendar (a week of half term has no marks); a week whose marks are all not possible (D, Y1...) has
no attendance rate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from .codes import BY_BYTE, CATEGORY_TABLE, Category
from .layout import YEAR_BYTES, end_offset, offset_of, session_at, year_end, year_start
from .measures import Measures

_CATEGORIES = np.frombuffer(CATEGORY_TABLE, dtype=np.uint8)
_COUNTED = (
    Category.PRESENT,
    Category.EDUCATIONAL_ACTIVITY,
    Category.AUTHORISED,
    Category.UNAUTHORISED,
    Category.NOT_COUNTED,
    Category.ADMINISTRATIVE,
)

#: The class each category is shown as (a CSS modifier and the key's wording).
SHOWN_AS: dict[Category, str] = {
    Category.PRESENT: "present",
    Category.EDUCATIONAL_ACTIVITY: "activity",
    Category.AUTHORISED: "authorised",
    Category.UNAUTHORISED: "unauthorised",
    Category.NOT_COUNTED: "not-possible",
    Category.ADMINISTRATIVE: "not-possible",
}
#: The key under a marks calendar, in the order it is shown.
KEY: tuple[tuple[str, str], ...] = (
    ("present", "Present (/, \\, L)"),
    ("activity", "Approved educational activity (K, V, P, W, B): counts as attendance"),
    ("authorised", "Authorised absence"),
    ("unauthorised", "Unauthorised absence (G, N, O, U)"),
    ("not-possible", "Not a possible session (D, X, Q, Y1 to Y7, Z, #)"),
)


@dataclass(frozen=True)
class WeekFigures:
    """The sessions of one Monday-to-Sunday week."""

    monday: date
    measures: Measures

    @property
    def attendance_rate(self) -> float | None:
        """Sessions attended (present or approved educational activity) per possible session, in %."""
        m = self.measures
        return m.attended * 100 / m.possible if m.possible else None


@dataclass(frozen=True)
class SessionMark:
    code: str
    meaning: str
    shown_as: str  # one of the keys of KEY


@dataclass(frozen=True)
class DayCell:
    day: date
    am: SessionMark | None
    pm: SessionMark | None


@dataclass(frozen=True)
class MonthGrid:
    """One month: ``weeks`` rows of ``len(weekdays)`` cells (None outside the month)."""

    first: date
    weekdays: tuple[str, ...]
    weeks: list[list[DayCell | None]]


def weekly_figures(
    mark_strings: Sequence[bytes], school_year: int, through: date | None = None
) -> list[WeekFigures]:
    """Each week of ``school_year`` holding a mark, summed over ``mark_strings`` (one enrolment's, or
    a whole roll's), up to ``through``."""
    rows = [m for m in mark_strings if len(m) == YEAR_BYTES]
    if not rows:
        return []
    end = _end(school_year, through)
    if end == 0:
        return []
    matrix = np.frombuffer(b"".join(rows), dtype=np.uint8).reshape(len(rows), YEAR_BYTES)[:, :end]
    categories = _CATEGORIES[matrix]
    per_session = np.stack([(categories == c).sum(axis=0) for c in _COUNTED])
    mondays, starts = _weeks(school_year, end)
    per_week = np.add.reduceat(per_session, starts, axis=1)
    return [
        WeekFigures(monday, Measures(*(int(v) for v in per_week[:, i])))
        for i, monday in enumerate(mondays)
        if per_week[:, i].any()
    ]


def month_grids(marks: bytes, school_year: int, through: date | None = None) -> list[MonthGrid]:
    """Month grids from the first to the last month holding a mark (Monday to Friday, and the
    weekend too in a month where a weekend session is marked)."""
    end = _end(school_year, through)
    marked = [i for i in range(min(end, len(marks))) if marks[i]]
    if not marked:
        return []
    first, last = session_at(school_year, marked[0])[0], session_at(school_year, marked[-1])[0]
    grids = []
    month = first.replace(day=1)
    while month <= last:
        grids.append(_month(marks, month))
        month = (month + timedelta(days=32)).replace(day=1)
    return grids


def _month(marks: bytes, first: date) -> MonthGrid:
    days = [first + timedelta(days=n) for n in range(31) if (first + timedelta(days=n)).month == first.month]
    weekend = any(d.weekday() >= 5 and (marks[offset_of(d, 0)] or marks[offset_of(d, 1)]) for d in days)
    width = 7 if weekend else 5
    weeks: list[list[DayCell | None]] = []
    monday = first - timedelta(days=first.weekday())
    while monday <= days[-1]:
        week: list[DayCell | None] = []
        for n in range(width):
            day = monday + timedelta(days=n)
            week.append(_cell(marks, day) if day.month == first.month else None)
        if any(week):
            weeks.append(week)
        monday += timedelta(days=7)
    names = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
    return MonthGrid(first, names[:width], weeks)


def _cell(marks: bytes, day: date) -> DayCell:
    return DayCell(day, _session(marks[offset_of(day, 0)]), _session(marks[offset_of(day, 1)]))


def _session(byte: int) -> SessionMark | None:
    code = BY_BYTE.get(byte)
    if code is None:
        return None
    return SessionMark(code.code, code.meaning, SHOWN_AS[code.category])


def _end(school_year: int, through: date | None) -> int:
    if through is None or through >= year_end(school_year):
        return YEAR_BYTES
    if through < year_start(school_year):
        return 0
    return end_offset(through)


def _weeks(school_year: int, end: int) -> tuple[list[date], list[int]]:
    """The Mondays of the weeks touching the first ``end`` sessions, and each week's first offset."""
    start = year_start(school_year)
    monday = start - timedelta(days=start.weekday())
    mondays, starts = [], []
    while True:
        offset = max(0, 2 * (monday - start).days)
        if offset >= end:
            break
        mondays.append(monday)
        starts.append(offset)
        monday += timedelta(days=7)
    return mondays, starts
