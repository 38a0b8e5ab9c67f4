"""School calendars: which days are school days, and date arithmetic in school days.

A school day is a weekday inside one of the LA's terms that is neither a closure (INSET day,
establishment closure) nor an England & Wales bank holiday. Exclusion, CME and CTF deadlines count
school days; the penalty-notice threshold counts school weeks (domain.md section 0).

A calendar only knows the span its terms cover, from the first term's start to the last term's end
(the holidays between terms are known). A question that needs a day outside that span raises
:class:`CalendarError` instead of guessing: an uncovered day is not a holiday, it is an unknown.

Everything is precomputed on construction, so the queries used in hot loops (alert rules over every
pupil) are dictionary look-ups or binary searches, never walks day by day.
"""

from __future__ import annotations

import json
import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache
from itertools import pairwise
from pathlib import Path
from typing import Any

from engine.errors import InvalidInput

BANK_HOLIDAY_YEARS = range(2020, 2031)
LOAD_HINT = "load the LA's term dates with `educase calendar load FILE`"
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ONE_DAY = timedelta(days=1)


class CalendarError(InvalidInput):
    """A term-dates file is unusable, or the calendar cannot answer a question about a date."""

    code = "calendar_error"


@dataclass(frozen=True)
class BankHolidays:
    """Bank-holiday dates together with the years they are complete for."""

    dates: frozenset[date]
    years: range

    def covers(self, year: int) -> bool:
        """Whether every bank holiday of ``year`` is known."""
        return year in self.years


@cache
def england_bank_holidays() -> BankHolidays:
    """England & Wales bank holidays 2020-2030, substitute days and one-off holidays included.

    Computed on first use (not at import) from the offline ``holidays`` package, then cached.
    """
    import holidays  # imported here so that importing this module stays cheap

    found = holidays.country_holidays("GB", subdiv="ENG", years=BANK_HOLIDAY_YEARS)
    return BankHolidays(frozenset(found), BANK_HOLIDAY_YEARS)


@dataclass(frozen=True)
class SchoolCalendar:
    """An immutable school calendar: terms (inclusive date pairs), closures and bank holidays.

    Terms are stored sorted by start date and must not overlap. Closures outside the terms are
    allowed and change nothing.
    """

    terms: tuple[tuple[date, date], ...]
    closures: frozenset[date] = frozenset()
    bank_holidays: BankHolidays = field(default_factory=england_bank_holidays, repr=False)
    _days: tuple[date, ...] = field(init=False, repr=False, compare=False)
    _index: dict[date, int] = field(init=False, repr=False, compare=False)
    _weeks: tuple[date, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        terms = tuple(sorted(self.terms))
        _check_terms(terms, self.bank_holidays)
        closures = frozenset(self.closures)
        days = tuple(_school_days_in(terms, closures | self.bank_holidays.dates))
        self._set("terms", terms)
        self._set("closures", closures)
        self._set("_days", days)
        self._set("_index", {day: i for i, day in enumerate(days)})
        self._set("_weeks", tuple(dict.fromkeys(school_week_start(day) for day in days)))

    def _set(self, name: str, value: object) -> None:
        object.__setattr__(self, name, value)

    # --- construction --------------------------------------------------------------------------

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SchoolCalendar:
        """Build a calendar from ``{"terms": [{"start": ..., "end": ...}], "closures": [...]}``.

        Dates may be ``YYYY-MM-DD`` strings or ``date`` objects (as YAML gives them). Other keys,
        such as ``description``, are ignored.
        """
        if not isinstance(data, Mapping):
            raise CalendarError(f"Term dates must be an object with 'terms', not {type(data).__name__}")
        if "terms" not in data:
            raise CalendarError('Term dates have no "terms": list each term as {"start": ..., "end": ...}')
        terms = tuple(_parse_term(entry, f"terms[{i}]") for i, entry in enumerate(_as_list(data, "terms")))
        closures = _as_list(data, "closures") if "closures" in data else []
        return cls(terms, frozenset(_parse_date(v, f"closures[{i}]") for i, v in enumerate(closures)))

    @classmethod
    def from_json_file(cls, path: str | Path) -> SchoolCalendar:
        """Build a calendar from a JSON term-dates file (see :meth:`from_dict` for the shape)."""
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as error:
            raise CalendarError(f"Cannot read term dates file {path}: {error.strerror}", file=str(path))
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise CalendarError(f"{path}:{error.lineno}: not valid JSON: {error.msg}", file=str(path))
        try:
            return cls.from_dict(data)
        except CalendarError as error:
            raise CalendarError(f"{path}: {error.message}", file=str(path))

    def with_closures(self, extra_dates: Iterable[date]) -> SchoolCalendar:
        """This calendar plus more closures (an establishment's calendar from its LA's)."""
        return SchoolCalendar(self.terms, self.closures | frozenset(extra_dates), self.bank_holidays)

    def to_dict(self) -> dict[str, Any]:
        """The terms and closures in the shape :meth:`from_dict` reads (bank holidays are national)."""
        return {
            "terms": [{"start": start.isoformat(), "end": end.isoformat()} for start, end in self.terms],
            "closures": sorted(day.isoformat() for day in self.closures),
        }

    # --- queries -------------------------------------------------------------------------------

    @property
    def first_day(self) -> date:
        """The first date the calendar covers (the first term's start)."""
        return self.terms[0][0]

    @property
    def last_day(self) -> date:
        """The last date the calendar covers (the last term's end)."""
        return self.terms[-1][1]

    def is_school_day(self, day: date) -> bool:
        """Whether ``day`` is a school day."""
        if day in self._index:
            return True
        self._require_covered(day)
        return False

    def add_school_days(self, day: date, n: int) -> date:
        """The date ``n`` school days after ``day`` (``day`` itself not counted; negative ``n`` counts back).

        ``n == 0`` gives ``day`` back unchanged, school day or not.
        """
        self._require_covered(day)
        if n == 0:
            return day
        position = bisect_right(self._days, day) + n - 1 if n > 0 else bisect_left(self._days, day) + n
        return self._day_at(position)

    def school_days_between(self, start: date, end: date) -> int:
        """School days after ``start`` up to and including ``end``; negative if ``end`` is earlier.

        Counting back mirrors counting forward: ``start`` is never counted and ``end`` always is, so
        ``add_school_days(start, school_days_between(start, end)) == end`` whenever ``end`` is a
        school day.
        """
        self._require_covered(start)
        self._require_covered(end)
        if end >= start:
            return bisect_right(self._days, end) - bisect_right(self._days, start)
        return bisect_left(self._days, end) - bisect_left(self._days, start)

    def next_school_day(self, day: date) -> date:
        """The first school day strictly after ``day``."""
        return self.add_school_days(day, 1)

    def school_days(self, start: date, end: date) -> Iterator[date]:
        """The school days from ``start`` to ``end``, both included, in order."""
        self._require_covered(start)
        self._require_covered(end)
        return iter(self._days[bisect_left(self._days, start) : bisect_right(self._days, end)])

    def school_weeks_back(self, day: date, weeks: int) -> date:
        """The Monday that starts the ``weeks`` most recent school weeks up to ``day``'s week.

        A school week is a Monday-Sunday week with at least one school day; weeks without one (half
        term, holidays) are skipped, so the window may span terms and years. ``day``'s own week
        counts only if it is a school week. This is the penalty-notice "10 school weeks" window.
        """
        if weeks < 1:
            raise CalendarError(f"A window of school weeks needs at least 1 week, not {weeks}")
        self._require_covered(day)
        monday = school_week_start(day)
        self._require_week_known(monday)
        position = bisect_right(self._weeks, monday) - weeks
        if position < 0:
            raise self._not_covered(self.first_day - _ONE_DAY)
        return self._weeks[position]

    # --- helpers -------------------------------------------------------------------------------

    def _day_at(self, position: int) -> date:
        if position < 0:
            raise self._not_covered(self.first_day - _ONE_DAY)
        if position >= len(self._days):
            raise self._not_covered(self.last_day + _ONE_DAY)
        return self._days[position]

    def _require_covered(self, day: date) -> None:
        if not self.first_day <= day <= self.last_day:
            raise self._not_covered(day)

    def _require_week_known(self, monday: date) -> None:
        """A week without a known school day is known to be no school week only if fully covered."""
        i = bisect_left(self._weeks, monday)
        if i < len(self._weeks) and self._weeks[i] == monday:
            return
        for offset in range(5):
            self._require_covered(monday + timedelta(days=offset))

    def _not_covered(self, day: date) -> CalendarError:
        return CalendarError(
            f"No term dates cover {day.isoformat()} (the loaded terms run {self.first_day.isoformat()} "
            f"to {self.last_day.isoformat()}): {LOAD_HINT}",
            date=day.isoformat(),
        )


def school_week_start(day: date) -> date:
    """The Monday of ``day``'s week."""
    return day - timedelta(days=day.weekday())


# --- validation and parsing --------------------------------------------------------------------


def _school_days_in(terms: tuple[tuple[date, date], ...], not_school: frozenset[date]) -> Iterator[date]:
    for start, end in terms:
        for offset in range((end - start).days + 1):
            day = start + timedelta(days=offset)
            if day.weekday() < 5 and day not in not_school:
                yield day


def _check_terms(terms: tuple[tuple[date, date], ...], bank_holidays: BankHolidays) -> None:
    if not terms:
        raise CalendarError(f"Term dates list no terms: {LOAD_HINT}")
    for start, end in terms:
        if end < start:
            raise CalendarError(f"Term {_span(start, end)} ends before it starts")
        for year in (start.year, end.year):
            if not bank_holidays.covers(year):
                raise CalendarError(
                    f"Term {_span(start, end)} is in {year}, but bank holidays are only known for "
                    f"{bank_holidays.years.start}-{bank_holidays.years.stop - 1}"
                )
    for (start, end), (next_start, next_end) in pairwise(terms):
        if next_start <= end:
            raise CalendarError(f"Terms {_span(start, end)} and {_span(next_start, next_end)} overlap")


def _span(start: date, end: date) -> str:
    return f"{start.isoformat()} to {end.isoformat()}"


def _as_list(data: Mapping[str, Any], key: str) -> list[Any]:
    value = data[key]
    if not isinstance(value, list):
        raise CalendarError(f"'{key}' must be a list, not {type(value).__name__}")
    return value


def _parse_term(entry: Any, where: str) -> tuple[date, date]:
    if not isinstance(entry, Mapping):
        raise CalendarError(f"{where} must be an object with 'start' and 'end', not {entry!r}")
    for key in ("start", "end"):
        if key not in entry:
            raise CalendarError(f"{where} has no '{key}' date: {dict(entry)!r}")
    return _parse_date(entry["start"], f"{where}.start"), _parse_date(entry["end"], f"{where}.end")


def _parse_date(value: Any, where: str) -> date:
    if isinstance(value, datetime):
        raise CalendarError(f"{where}: {value.isoformat()} has a time of day; give a date, YYYY-MM-DD")
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        raise CalendarError(f"{where}: {value!r} is not a date; write dates as YYYY-MM-DD, e.g. 2025-09-03")
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise CalendarError(f"{where}: {value!r} is not a real date ({error})")


def add_working_days(day: date, n: int, bank_holidays: BankHolidays | None = None) -> date:
    """The date ``n`` working days (Monday to Friday, not a bank holiday) after ``day``.

    Used where the law counts working days rather than school days, e.g. the deemed receipt of a
    posted notice. ``day`` itself is not counted; ``n`` may be negative.
    """
    holidays = bank_holidays or england_bank_holidays()
    step = 1 if n >= 0 else -1
    remaining, current = abs(n), day
    while remaining:
        current += timedelta(days=step)
        if not holidays.covers(current.year):
            raise CalendarError(
                f"Bank holidays are only known for {holidays.years.start}-{holidays.years.stop - 1}"
            )
        if current.weekday() < 5 and current not in holidays.dates:
            remaining -= 1
    return current
