"""A school year of synthetic marks whose absence looks like England's.

Each enrolment gets an absence propensity: most from a Beta distribution (mean about 5.6 %), about
2.1 % from a "severe" group (50-85 %). Absence comes in whole days whose code follows a profile
(mostly illness for the many; mostly unauthorised for the severe). Present days carry ``/`` and ``\\``
with some lateness, appointments and approved activities. Calibrated so that overall absence is about
7 %, persistent absence about 19 % and severe absence about 2 % (domain.md section 1). Only school days
up to ``as_of`` get marks; INSET closures get ``#``; the last three school days keep some ``N``
(reason not yet provided), as a live register would.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import numpy as np

from ..calendar import SchoolCalendar
from .codes import BY_CODE
from .layout import YEAR_BYTES, end_offset, offset_of, year_end, year_start

if TYPE_CHECKING:
    from .demo_data import DemoLA

BETA_A, BETA_MEAN = 1.6, 0.056
SEVERE_SHARE, SEVERE_RANGE = 0.021, (0.50, 0.85)
CHUNK = 20_000

REGULAR = {"I": 0.55, "M": 0.04, "C": 0.03, "R": 0.01, "E": 0.01, "T": 0.01, "G": 0.12, "O": 0.23}
SEVERE = {"I": 0.30, "M": 0.03, "C": 0.05, "E": 0.04, "G": 0.10, "O": 0.48}
#: Single-session events on present days: code, session (0 AM / 1 PM / 2 both), probability per day.
PRESENT_EVENTS = [
    ("L", 0, 0.03),
    ("M", 0, 0.004),
    ("U", 0, 0.003),
    ("V", 2, 0.004),
    ("P", 2, 0.001),
    ("B", 2, 0.0005),
]


def _byte(code: str) -> int:
    return BY_CODE[code].byte


def school_days(calendar: SchoolCalendar, school_year: int, as_of: date) -> list[date]:
    """The LA's school days of the year up to ``as_of``."""
    first = max(calendar.first_day, year_start(school_year))
    last = min(calendar.last_day, year_end(school_year), as_of)
    return list(calendar.school_days(first, last)) if first <= last else []


def propensities(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Each enrolment's chance of missing a day, and whether it belongs to the severe group."""
    rates = rng.beta(BETA_A, BETA_A * (1 - BETA_MEAN) / BETA_MEAN, n)
    severe = rng.random(n) < SEVERE_SHARE
    rates[severe] = rng.uniform(*SEVERE_RANGE, int(severe.sum()))
    return rates, severe


def generate(calendar: SchoolCalendar, la: DemoLA, rng: np.random.Generator) -> np.ndarray:
    """One mark string per enrolment of ``la`` (rows in the order of ``la.enrolments``)."""
    days = school_days(calendar, la.school_year, la.as_of)
    am = np.array([offset_of(d, 0) for d in days], dtype=np.int64)
    n = len(la.enrolments)
    marks = np.zeros((n, YEAR_BYTES), dtype=np.uint8)
    rates, severe = propensities(n, rng)
    for start in range(0, n, CHUNK):
        stop = min(n, start + CHUNK)
        am_codes, pm_codes = day_codes(rates[start:stop], severe[start:stop], len(days), rng)
        marks[start:stop, am] = am_codes
        marks[start:stop, am + 1] = pm_codes
    _closures(calendar, la, marks)
    _enrolment_limits(la, marks)
    return marks


def day_codes(
    rates: np.ndarray, severe: np.ndarray, n_days: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """AM and PM code bytes (``len(rates)`` x ``n_days``) for enrolments with these propensities."""
    shape = (len(rates), n_days)
    absent = rng.random(shape) < rates[:, None]
    pick = rng.random(shape)
    absence = np.where(severe[:, None], _draw(SEVERE, pick), _draw(REGULAR, pick))
    recent = max(0, n_days - 3)
    absence[:, recent:] = np.where(pick[:, recent:] < 0.7, _byte("N"), absence[:, recent:])
    am = np.full(shape, _byte("/"), dtype=np.uint8)
    pm = np.full(shape, _byte("\\"), dtype=np.uint8)
    event = rng.random(shape)
    low = 0.0
    for code, session, probability in PRESENT_EVENTS:
        hit = (event >= low) & (event < low + probability)
        if session in (0, 2):
            am[hit] = _byte(code)
        if session in (1, 2):
            pm[hit] = _byte(code)
        low += probability
    am[absent] = absence[absent]
    pm[absent] = absence[absent]
    return am, pm


def _draw(profile: dict[str, float], pick: np.ndarray) -> np.ndarray:
    codes = np.array([_byte(c) for c in profile], dtype=np.uint8)
    cumulative = np.cumsum(list(profile.values()))
    cumulative /= cumulative[-1]
    return codes[np.minimum(np.searchsorted(cumulative, pick), len(codes) - 1)]


def _closures(calendar: SchoolCalendar, la: DemoLA, marks: np.ndarray) -> None:
    """Planned closures inside term (INSET days) are coded ``#`` for everyone."""
    for day in sorted(calendar.closures):
        in_term = any(start <= day <= end for start, end in calendar.terms)
        if in_term and day.weekday() < 5 and year_start(la.school_year) <= day <= la.as_of:
            offset = offset_of(day, 0)
            marks[:, offset : offset + 2] = _byte("#")


def _enrolment_limits(la: DemoLA, marks: np.ndarray) -> None:
    """No marks before a pupil joined or after they left."""
    first_of_year = year_start(la.school_year)
    for row, enrolment in enumerate(la.enrolments):
        start, end = enrolment[5], enrolment[6]
        if start > first_of_year:
            marks[row, : offset_of(start, 0)] = 0
        if end is not None and end < la.as_of:
            marks[row, end_offset(end) :] = 0
