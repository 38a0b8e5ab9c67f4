"""Attendance measures exactly as the DfE defines them (domain.md section 1), per enrolment.

- possible sessions: sessions whose code counts as possible (present, approved educational activity,
  authorised and unauthorised absence); D, X, Q, Y1-Y7, Z and # are not possible;
- approved educational activity counts as attendance;
- overall absence rate = (authorised + unauthorised) / possible x 100;
- persistent absence: rate >= 10 %; severe absence: rate >= 50 %.

The thresholds are compared in whole numbers (``absent * 10 >= possible``) so that exactly 10 % is
persistent and 9.99 % is not, with no floating-point doubt.

Counting is ``bytes.translate`` then ``bytes.count`` on the stored mark string: a few microseconds per
enrolment-year, so an establishment's report or an LA-wide summary needs no database aggregation.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

from .codes import CATEGORY_TABLE, Category, membership_table
from .layout import YEAR_BYTES, end_offset, offset_of, school_year_of

PERSISTENT_PERCENT = 10
SEVERE_PERCENT = 50


@dataclass(frozen=True)
class Measures:
    """Session counts of one enrolment (or a sum of enrolments) over a period."""

    present: int = 0
    educational_activity: int = 0
    authorised: int = 0
    unauthorised: int = 0
    not_counted: int = 0
    administrative: int = 0

    @property
    def possible(self) -> int:
        return self.present + self.educational_activity + self.authorised + self.unauthorised

    @property
    def attended(self) -> int:
        """Sessions counting as attendance: present plus approved educational activity."""
        return self.present + self.educational_activity

    @property
    def absent(self) -> int:
        return self.authorised + self.unauthorised

    @property
    def absence_rate(self) -> float | None:
        """Overall absence rate in percent; None when there is no possible session."""
        return self.absent * 100 / self.possible if self.possible else None

    @property
    def authorised_rate(self) -> float | None:
        return self.authorised * 100 / self.possible if self.possible else None

    @property
    def unauthorised_rate(self) -> float | None:
        return self.unauthorised * 100 / self.possible if self.possible else None

    @property
    def persistent(self) -> bool:
        """Persistently absent: absence rate of 10 % or more."""
        return at_least_percent(self.absent, self.possible, PERSISTENT_PERCENT)

    @property
    def severe(self) -> bool:
        """Severely absent: absence rate of 50 % or more."""
        return at_least_percent(self.absent, self.possible, SEVERE_PERCENT)

    def __add__(self, other: Measures) -> Measures:
        return total([self, other])

    def as_dict(self) -> dict[str, Any]:
        rate = self.absence_rate
        return {
            "possible": self.possible,
            "present": self.present,
            "approved_educational_activity": self.educational_activity,
            "attended": self.attended,
            "authorised": self.authorised,
            "unauthorised": self.unauthorised,
            "absent": self.absent,
            "not_counted": self.not_counted,
            "administrative": self.administrative,
            "absence_rate": None if rate is None else round(rate, 2),
            "persistent_absence": self.persistent,
            "severe_absence": self.severe,
        }


def at_least_percent(part: int, whole: int, percent: int) -> bool:
    """``part / whole * 100 >= percent`` in exact integer arithmetic (False when ``whole`` is 0)."""
    return whole > 0 and part * 100 >= percent * whole


def measure(marks: bytes, end: int = YEAR_BYTES, start: int = 0) -> Measures:
    """Measures of the sessions stored at offsets ``start`` to ``end`` (exclusive) of a mark string."""
    categories = marks[start:end].translate(CATEGORY_TABLE)
    return Measures(
        present=categories.count(Category.PRESENT),
        educational_activity=categories.count(Category.EDUCATIONAL_ACTIVITY),
        authorised=categories.count(Category.AUTHORISED),
        unauthorised=categories.count(Category.UNAUTHORISED),
        not_counted=categories.count(Category.NOT_COUNTED),
        administrative=categories.count(Category.ADMINISTRATIVE),
    )


def measure_as_of(marks: bytes, as_of: date) -> Measures:
    """Measures from the start of ``as_of``'s school year up to and including ``as_of`` (both sessions)."""
    return measure(marks, end_offset(as_of))


def measure_between(marks: bytes, first: date, last: date) -> Measures:
    """Measures of the sessions from ``first`` to ``last`` inclusive, both in the same school year."""
    if school_year_of(first) != school_year_of(last):
        raise ValueError(f"{first} and {last} are in different school years; measure each year separately")
    return measure(marks, end_offset(last), offset_of(first, 0))


def count_codes(marks: bytes, codes: Iterable[str], end: int = YEAR_BYTES, start: int = 0) -> int:
    """How many sessions from ``start`` to ``end`` carry one of ``codes``."""
    return marks[start:end].translate(_membership(frozenset(codes))).count(1)


@cache
def _membership(codes: frozenset[str]) -> bytes:
    return membership_table(codes)


def total(measures: Iterable[Measures]) -> Measures:
    """The sum of many enrolments' measures (rates of a sum are rates of the whole group)."""
    present = activity = authorised = unauthorised = not_counted = administrative = 0
    for m in measures:
        present += m.present
        activity += m.educational_activity
        authorised += m.authorised
        unauthorised += m.unauthorised
        not_counted += m.not_counted
        administrative += m.administrative
    return Measures(present, activity, authorised, unauthorised, not_counted, administrative)
