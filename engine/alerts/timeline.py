"""The days and sessions alert rules look at, and vectorised helpers over "condition holds" matrices.

A :class:`Timeline` is the LA's school days of one school year up to a horizon (the evaluation date),
optionally preceded by the last school weeks of the year before (a penalty window in September
reaches back into July; a run of absence may continue over the summer). Weekends, holidays and LA
closure days are not on it, so nothing a rule counts can be broken by them. Day ``i`` of the timeline
owns the sessions ``2 * i`` (AM) and ``2 * i + 1`` (PM) of a chunk's ``sessions`` matrix.

Rules decide, day by day, whether their condition *holds* for an enrolment; an *episode* is a
maximal stretch of days on which it holds (merged further by some kinds). :func:`intervals` and
:func:`merge` find them for many enrolments at once.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property

import numpy as np

from ..attendance.codes import BY_BYTE, CODES, decode
from ..attendance.layout import SESSIONS, offset_of, school_year_of, year_end, year_start
from ..calendar import LOAD_HINT, CalendarError, SchoolCalendar, school_week_start

CODES_SPAN = max(c.byte for c in CODES) + 1


@dataclass(frozen=True)
class Timeline:
    """School days (previous-year tail first, then this year's up to the horizon) and their offsets."""

    school_year: int
    calendar: SchoolCalendar = field(repr=False)
    days: tuple[date, ...] = field(repr=False)
    first_current: int  # index in ``days`` of this school year's first school day
    horizon: date
    _windows: dict[int, np.ndarray] = field(default_factory=dict, repr=False, compare=False)

    @property
    def last(self) -> int:
        """Index of the last day (the horizon's school day); -1 when there is none."""
        return len(self.days) - 1

    @cached_property
    def ordinals(self) -> np.ndarray:
        return np.array([d.toordinal() for d in self.days], dtype=np.int64)

    @cached_property
    def iso_days(self) -> list[str]:
        """``days`` as ISO strings (facts are written in them)."""
        return [d.isoformat() for d in self.days]

    @cached_property
    def _mark_table(self) -> list[tuple[str, str, str]]:
        names = [decode(b) if b in BY_BYTE else "" for b in range(CODES_SPAN)]
        return [(day, session, name) for day in self.iso_days for session in SESSIONS for name in names]

    def marks_at(self, positions: np.ndarray, codes: np.ndarray) -> list[tuple[str, str, str]]:
        """``(date, session, code)`` for each session position and its code byte (shared tuples)."""
        table = self._mark_table
        return [table[i] for i in (positions * CODES_SPAN + codes).tolist()]

    @cached_property
    def current_offsets(self) -> np.ndarray:
        """Offsets in this year's mark string of this year's sessions (AM, PM of each day)."""
        return _offsets(self.days[self.first_current :])

    @cached_property
    def previous_offsets(self) -> np.ndarray:
        """Offsets in the previous year's mark string of the tail's sessions."""
        return _offsets(self.days[: self.first_current])

    def index_on_or_before(self, day: date) -> int:
        """Index of the last timeline day on or before ``day`` (-1 if none)."""
        return bisect_right(self.days, day) - 1

    def index_on_or_after(self, day: date) -> int:
        """Index of the first timeline day on or after ``day`` (``len(days)`` if none)."""
        return bisect_left(self.days, day)

    def session(self, position: int) -> tuple[date, str]:
        """The date and ``AM``/``PM`` of a session position."""
        return self.days[position // 2], SESSIONS[position % 2]

    def window_starts(self, weeks: int) -> np.ndarray:
        """For each day, the index of the first day of the ``weeks`` most recent school weeks ending
        with that day's week (:meth:`SchoolCalendar.school_weeks_back`); 0 when the window reaches
        back beyond the timeline."""
        if weeks not in self._windows:
            self._windows[weeks] = _window_starts(self, weeks)
        return self._windows[weeks]


def _offsets(days: tuple[date, ...]) -> np.ndarray:
    out = np.empty(2 * len(days), dtype=np.int64)
    for i, day in enumerate(days):
        out[2 * i] = offset_of(day, 0)
        out[2 * i + 1] = out[2 * i] + 1
    return out


def _window_starts(timeline: Timeline, weeks: int) -> np.ndarray:
    starts = np.zeros(len(timeline.days), dtype=np.int64)
    mondays: dict[date, int] = {}
    for i, day in enumerate(timeline.days):
        monday = school_week_start(day)
        if monday not in mondays:
            try:
                first = timeline.calendar.school_weeks_back(day, weeks)
            except CalendarError:  # the window reaches before the loaded terms: truncate it
                first = date.min
            mondays[monday] = max(0, timeline.index_on_or_after(first))
        starts[i] = mondays[monday]
    return starts


def build(calendar: SchoolCalendar, horizon: date, tail_weeks: int = 0) -> Timeline:
    """The timeline of ``horizon``'s school year up to ``horizon``, with ``tail_weeks`` school weeks
    of the previous year when the calendar knows them."""
    school_year = school_year_of(horizon)
    first, last = year_start(school_year), min(horizon, year_end(school_year))
    if last < calendar.first_day or first > calendar.last_day:
        raise CalendarError(
            f"No term dates cover the school year of {horizon.isoformat()} (the loaded terms run "
            f"{calendar.first_day.isoformat()} to {calendar.last_day.isoformat()}): {LOAD_HINT}",
            date=horizon.isoformat(),
        )
    current = _school_days(calendar, max(first, calendar.first_day), min(last, calendar.last_day))
    tail = _tail(calendar, school_year, tail_weeks) if tail_weeks > 0 else []
    return Timeline(school_year, calendar, tuple(tail + current), len(tail), horizon)


def _school_days(calendar: SchoolCalendar, first: date, last: date) -> list[date]:
    return list(calendar.school_days(first, last)) if first <= last else []


def _tail(calendar: SchoolCalendar, school_year: int, weeks: int) -> list[date]:
    first = max(year_start(school_year - 1), calendar.first_day)
    last = min(year_end(school_year - 1), calendar.last_day)
    days = _school_days(calendar, first, last)
    mondays = sorted({school_week_start(d) for d in days})[-weeks:]
    return [d for d in days if mondays and school_week_start(d) >= mondays[0]]


def school_weeks_until(timeline: Timeline, index: int) -> int:
    """How many school weeks of this school year the timeline has up to day ``index``."""
    days = timeline.days[timeline.first_current : index + 1]
    return len({school_week_start(d) for d in days})


# --- episodes from "holds" matrices ----------------------------------------------------------------


@dataclass(frozen=True)
class Span:
    """Which episodes an evaluation raises: those whose condition was met by the ``last`` day and
    still held on some day from ``first - catch_up`` on (indices into the timeline's days).

    ``evaluate --as-of D`` has ``first == last ==`` D's index; a simulation from F to T has F's and
    T's. ``catch_up`` (school days) lets an evaluation raise an episode it missed: an evaluation that
    did not run, a feed that arrived late, a run that reached its length in the morning and was broken
    in the afternoon.
    """

    first: int
    last: int
    catch_up: int = 0

    def alertable(self, reached: np.ndarray, last: np.ndarray) -> np.ndarray:
        """Element-wise: was an episode met by ``reached`` and did it last until ``last`` in the span?"""
        return (reached <= self.last) & (last >= self.first - self.catch_up)

    def alertable_dates(self, timeline: Timeline, reached: date, last: date) -> bool:
        """The same for one episode given by dates (for the kinds that work from records)."""
        reached_index = timeline.index_on_or_after(reached)
        last_index = timeline.index_on_or_before(last)
        return bool(self.alertable(np.array([reached_index]), np.array([last_index]))[0])


def intervals(holds: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The maximal runs of True in each row of a boolean matrix: ``(row, first, last)`` arrays, ``last``
    inclusive, ordered by row then day."""
    rows, width = holds.shape
    padded = np.zeros((rows, width + 2), dtype=np.int8)
    padded[:, 1:-1] = holds
    step = np.diff(padded, axis=1)
    starts_row, starts = np.nonzero(step == 1)
    _ends_row, ends = np.nonzero(step == -1)
    return starts_row, starts, ends - 1


def merge(
    rows: np.ndarray, starts: np.ndarray, ends: np.ndarray, joins: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Merge each interval into the one before it (same row) where ``joins`` is True."""
    if len(rows) == 0:
        return rows, starts, ends
    continues = np.zeros(len(rows), dtype=bool)
    continues[1:] = (rows[1:] == rows[:-1]) & joins[1:]
    heads = np.nonzero(~continues)[0]
    tails = np.append(heads[1:] - 1, len(rows) - 1)
    return rows[heads], starts[heads], ends[tails]


def cut_after(holds: np.ndarray, last_on_roll: np.ndarray) -> np.ndarray:
    """Holds only up to each row's last day on roll (a pupil who left is no longer counted).
    Changes ``holds`` in place (only the few rows of pupils who left)."""
    left = np.nonzero(last_on_roll < holds.shape[1] - 1)[0]
    if len(left):
        days = np.arange(holds.shape[1])
        holds[left] &= days[None, :] <= last_on_roll[left, None]
    return holds
