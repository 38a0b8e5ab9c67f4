"""The cases the alert rules must find, planted in the demo LA relative to its ``as_of`` date.

Each case takes a secondary pupil on roll all year, clears the relevant window to plain attendance
and writes the pattern, so that the case is exactly what its name says:

- ``10_consecutive_O_N``: the last 12 sessions are O or N (a typical local CME criterion);
- ``10_GNOU_in_10_school_weeks``: exactly 10 G/N/O/U sessions in the last 10 school weeks;
- ``20_school_days_G_N_O``: every session of the last 20 school days is G, N or O;
- ``N_unresolved_over_5_school_days``: an N 7 school days before ``as_of``;
- ``illness_15_days_consecutive`` / ``illness_15_days_cumulative``;
- ``part_time_timetable_12.5h_review_overdue`` and ``part_time_timetable_20h``;
- ``ap_placement_not_started`` (proposed start passed, no attendance) and ``ap_placement_started``;
- ``suspension_day_6``, ``back_to_back_suspensions_day_6``, ``permanent_exclusion_day_6``;
- ``dual_registered``: main roll at a secondary, subsidiary at the PRU (D where the other school has
  the pupil).
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np

from ..calendar import SchoolCalendar
from .codes import BY_CODE
from .demo_marks import day_codes, school_days
from .layout import offset_of, year_start

if TYPE_CHECKING:
    from .demo_data import DemoLA

TIMETABLE_COLUMNS = (
    "enrolment_id",
    "hours_per_week",
    "start_date",
    "review_date",
    "reason",
    "agreed_with_parent",
)
PLACEMENT_COLUMNS = ("pupil_id", "provider_id", "home_enrolment_id", "arranged_by", "reason", "hours_per_week",
                     "proposed_start", "actual_start")  # fmt: skip
EXCLUSION_COLUMNS = ("enrolment_id", "kind", "start_date", "length_days", "lunchtime_sessions", "reason")


class _Planter:
    def __init__(self, calendar: SchoolCalendar, la: DemoLA, schools: dict[str, list[int]], rnd: random.Random,
                 first_ids: dict[str, int]) -> None:  # fmt: skip
        self.la, self.schools, self.rnd = la, schools, rnd
        self.days = school_days(calendar, la.school_year, la.as_of)
        self.next_enrolment = first_ids["enrolment"] + len(la.enrolments)
        secondary = set(schools["secondary"])
        first = year_start(la.school_year)
        self.candidates = [
            row for row, e in enumerate(la.enrolments) if e[2] in secondary and e[5] < first and e[6] is None
        ]
        rnd.shuffle(self.candidates)
        self.laestab = {e[0]: e[1] for e in la.establishments}
        self.upn = {p[0]: p[1] for p in la.pupils}
        self.extra_rows: list[np.ndarray] = []

    # --- helpers -----------------------------------------------------------------------------------

    def take(self, case: str) -> int:
        """A fresh candidate enrolment row for ``case``, recorded in the case list."""
        row = self.candidates.pop()
        self.note(case, row)
        return row

    def note(self, case: str, row: int) -> None:
        e = self.la.enrolments[row]
        self.la.cases.append({"case": case, "upn": self.upn[e[1]], "laestab": self.laestab[e[2]]})

    def set(self, row: int, days: Iterable[date], am: str, pm: str | None = None) -> None:
        for day in days:
            offset = offset_of(day, 0)
            self.la.marks[row, offset] = BY_CODE[am].byte
            self.la.marks[row, offset + 1] = BY_CODE[pm or am].byte

    def present(self, row: int, days: Iterable[date]) -> None:
        self.set(row, days, "/", "\\")

    def last(self, n: int, skip: int = 0) -> list[date]:
        """The ``n`` school days ending ``skip`` school days before the last one."""
        end = len(self.days) - skip
        return self.days[max(0, end - n) : end]

    def add_enrolment(self, pupil_id: int, establishment_id: int, registration: str, start: date) -> int:
        """A new enrolment (its marks row starts empty); returns its row."""
        enrolment_id = self.next_enrolment
        self.next_enrolment += 1
        self.la.enrolments.append(
            (enrolment_id, pupil_id, establishment_id, registration, None, start, None, None)
        )
        return len(self.la.enrolments) - 1  # plant() made room for it in la.marks

    def make_main(self, row: int) -> None:
        e = self.la.enrolments[row]
        self.la.enrolments[row] = (e[0], e[1], e[2], "main", *e[4:])


def plant(calendar: SchoolCalendar, la: DemoLA, schools: dict[str, list[int]], rnd: random.Random,
          first_ids: dict[str, int]) -> None:  # fmt: skip
    """Plant every case (needs at least 70 school days of marks and a few dozen secondary pupils)."""
    p = _Planter(calendar, la, schools, rnd, first_ids)
    if len(p.days) < 70 or len(p.candidates) < 40:
        return
    dual = min(max(2, len(la.pupils) // 250), len(p.candidates) - 30)
    rows = len(la.enrolments)
    la.marks = np.vstack([la.marks, np.zeros((dual + 2, la.marks.shape[1]), dtype=np.uint8)])  # one copy
    _absence_patterns(p)
    _timetables(p)
    _placements(p)
    _exclusions(p)
    _dual_registration(p, dual)
    la.marks = la.marks[: len(la.enrolments)]
    assert len(la.enrolments) == rows + dual + 2


def _absence_patterns(p: _Planter) -> None:
    row = p.take("10_consecutive_O_N")
    p.present(row, p.last(10))
    p.set(row, p.last(4, skip=2), "O")
    p.set(row, p.last(2), "N")

    row = p.take("10_GNOU_in_10_school_weeks")
    window = p.last(50)
    p.present(row, window)
    p.set(row, window[5:7], "G")  # 4 sessions
    p.set(row, [window[15], window[25], window[35]], "U", "\\")  # 3 sessions
    p.set(row, [window[20], window[30], window[40]], "/", "O")  # 3 sessions

    row = p.take("20_school_days_G_N_O")
    p.set(row, p.last(20)[:6], "G")
    p.set(row, p.last(20)[6:17], "O")
    p.set(row, p.last(3), "N")

    row = p.take("N_unresolved_over_5_school_days")
    p.present(row, p.last(12))
    p.set(row, [p.last(1, skip=7)[0]], "N", "\\")

    row = p.take("illness_15_days_consecutive")
    p.set(row, p.last(15, skip=5), "I")

    row = p.take("illness_15_days_cumulative")
    for skip in (60, 35, 10):
        p.set(row, p.last(5, skip=skip), "I")


def _timetables(p: _Planter) -> None:
    row = p.take("part_time_timetable_12.5h_review_overdue")
    start, review = p.last(30)[0], p.last(1, skip=10)[0]
    p.set(row, p.last(30), "/", "C2")
    p.la.timetables.append(
        (p.la.enrolments[row][0], 12.5, start, review, "reintegration after exclusion", True)
    )

    row = p.take("part_time_timetable_20h")
    days = p.last(10)
    p.set(row, [d for d in days if d.weekday() == 4], "C2")
    review = p.la.as_of + timedelta(days=21)
    p.la.timetables.append((p.la.enrolments[row][0], 20.0, days[0], review, "medical needs", True))


def _placements(p: _Planter) -> None:
    provider = p.schools["ap"][0]
    for case, started in (("ap_placement_not_started", False), ("ap_placement_started", True)):
        row = p.take(case)
        home = p.la.enrolments[row]
        start = p.last(1, skip=10 if not started else 20)[0]
        p.make_main(row)
        ap_row = p.add_enrolment(home[1], provider, "subsidiary", start)
        days = [d for d in p.days if d >= start]
        p.set(row, days, "D")
        if started:
            p.set(ap_row, days, "/", "\\")
        actual = start if started else None
        p.la.placements.append(
            (home[1], provider, home[0], "la", "permanent exclusion risk", 25.0, start, actual)
        )


def _exclusions(p: _Planter) -> None:
    row = p.take("suspension_day_6")
    p.set(row, p.last(6), "E")
    p.la.exclusions.append(
        (p.la.enrolments[row][0], "suspension", p.last(6)[0], 10.0, 0, "persistent disruption")
    )

    row = p.take("back_to_back_suspensions_day_6")
    p.set(row, p.last(6), "E")
    p.la.exclusions.append((p.la.enrolments[row][0], "suspension", p.last(6)[0], 3.0, 0, "verbal abuse"))
    p.la.exclusions.append((p.la.enrolments[row][0], "suspension", p.last(3)[0], 3.0, 0, "physical assault"))

    row = p.take("permanent_exclusion_day_6")
    p.set(row, p.last(6), "E")
    p.la.exclusions.append((p.la.enrolments[row][0], "permanent", p.last(6)[0], None, 0, "drug related"))

    row = p.take("lunchtime_suspensions")
    p.la.exclusions.append(
        (p.la.enrolments[row][0], "lunchtime", p.last(8)[0], 1.0, 2, "persistent disruption")
    )


def _dual_registration(p: _Planter, count: int) -> None:
    """Secondary pupils attending the PRU on Mondays and Tuesdays since a date this year."""
    pru = p.schools["pru"][0]
    for i in range(count):
        row = p.take("dual_registered") if i < 3 else p.candidates.pop()
        home = p.la.enrolments[row]
        start = p.days[len(p.days) // 2]
        p.make_main(row)
        pru_row = p.add_enrolment(home[1], pru, "subsidiary", start)
        days = [d for d in p.days if d >= start]
        rates = np.array([p.rnd.uniform(0.05, 0.3)])
        am, pm = day_codes(rates, np.array([False]), len(days), np.random.default_rng(p.rnd.randrange(2**32)))
        for j, day in enumerate(days):
            at_pru = day.weekday() in (0, 1)
            offset = offset_of(day, 0)
            target, other = (pru_row, row) if at_pru else (row, pru_row)
            p.la.marks[target, offset : offset + 2] = (am[0, j], pm[0, j])
            p.la.marks[other, offset : offset + 2] = BY_CODE["D"].byte


def as_dicts(columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    """Rows as dicts (for ORM-free inserts of the few planted records)."""
    return [dict(zip(columns, row, strict=True)) for row in rows]
