"""The synthetic LA: deterministic for a seed, national-looking absence, and the planted cases."""

from __future__ import annotations

from datetime import date

import pytest

from engine.attendance import codes, demo_data
from engine.attendance.demo_marks import school_days
from engine.attendance.identifiers import validate_upn
from engine.attendance.layout import offset_of
from engine.attendance.measures import measure, total
from engine.calendar import SchoolCalendar
from tests.conftest import TERM_DATES

AS_OF = date(2026, 7, 22)
IDS = {"establishment": 1, "pupil": 1, "enrolment": 1}


@pytest.fixture(scope="module")
def calendar() -> SchoolCalendar:
    return SchoolCalendar.from_json_file(TERM_DATES)


@pytest.fixture(scope="module")
def la(calendar: SchoolCalendar) -> demo_data.DemoLA:
    return demo_data.build(calendar, 12_000, 7, AS_OF, IDS)


def test_same_seed_same_la(calendar):
    one = demo_data.build(calendar, 600, 3, AS_OF, IDS)
    two = demo_data.build(calendar, 600, 3, AS_OF, IDS)
    assert one.pupils == two.pupils and one.enrolments == two.enrolments and one.cases == two.cases
    assert (one.marks == two.marks).all()
    other = demo_data.build(calendar, 600, 4, AS_OF, IDS)
    assert other.pupils != one.pupils


def test_every_upn_is_valid_and_unique_some_temporary(la):
    upns = [p[1] for p in la.pupils]
    assert len(set(upns)) == len(upns)
    checked = [validate_upn(u) for u in upns]
    assert all(c.temporary == p[2] for c, p in zip(checked, la.pupils, strict=True))


def test_establishments_include_primaries_secondaries_and_ap(la):
    phases = {row[4] for row in la.establishments}
    types = {row[5] for row in la.establishments}
    assert {"primary", "secondary"} <= phases
    assert {"pru", "ap_other"} <= types


def test_absence_resembles_the_national_figures(la):
    measures = [m for m in (measure(row.tobytes()) for row in la.marks) if m.possible]
    summed = total(measures)
    persistent = 100 * sum(m.persistent for m in measures) / len(measures)
    severe = 100 * sum(m.severe for m in measures) / len(measures)
    assert 6.0 <= summed.absence_rate <= 8.0
    assert 16.0 <= persistent <= 22.0
    assert 1.2 <= severe <= 3.0


def test_only_school_days_get_marks_and_inset_days_get_hash(la, calendar):
    days = set(school_days(calendar, 2025, AS_OF))
    marked_columns = {int(c) for c in la.marks.any(axis=0).nonzero()[0]}
    inset = {offset_of(date(2025, 11, 3), s) for s in (0, 1)} | {
        offset_of(date(2026, 1, 5), s) for s in (0, 1)
    }
    school = {offset_of(d, s) for d in days for s in (0, 1)}
    assert marked_columns <= school | inset
    assert offset_of(date(2025, 9, 6), 0) not in marked_columns  # Saturday
    assert offset_of(date(2026, 5, 4), 0) not in marked_columns  # bank holiday
    assert (la.marks[:, offset_of(date(2025, 11, 3), 0)] == codes.encode("#")).any()


def _row(la: demo_data.DemoLA, case: str) -> int:
    upn = next(c["upn"] for c in la.cases if c["case"] == case)
    pupil_id = next(p[0] for p in la.pupils if p[1] == upn)
    return next(i for i, e in enumerate(la.enrolments) if e[1] == pupil_id and e[3] in ("single", "main"))


def _sessions(la: demo_data.DemoLA, calendar: SchoolCalendar, row: int) -> list[str]:
    days = school_days(calendar, 2025, AS_OF)
    return [codes.decode(int(la.marks[row, offset_of(d, s)])) for d in days for s in (0, 1)]


def test_planted_cases_are_what_their_names_say(la, calendar):
    assert len({c["case"] for c in la.cases}) >= 15
    last = _sessions(la, calendar, _row(la, "10_consecutive_O_N"))
    assert set(last[-12:]) <= {"O", "N"} and len(last[-12:]) == 12
    last = _sessions(la, calendar, _row(la, "20_school_days_G_N_O"))
    assert set(last[-40:]) <= {"G", "N", "O"}
    window = _sessions(la, calendar, _row(la, "10_GNOU_in_10_school_weeks"))[-100:]
    assert sum(code in {"G", "N", "O", "U"} for code in window) == 10
    sessions = _sessions(la, calendar, _row(la, "N_unresolved_over_5_school_days"))
    assert sessions[-16] == "N" and "N" not in sessions[-14:]
    assert _sessions(la, calendar, _row(la, "illness_15_days_consecutive"))[-40:-10] == ["I"] * 30
    assert _sessions(la, calendar, _row(la, "suspension_day_6"))[-12:] == ["E"] * 12


def test_dual_registered_pupils_have_d_where_the_other_school_has_them(la):
    by_pupil: dict[int, list[int]] = {}
    for i, e in enumerate(la.enrolments):
        by_pupil.setdefault(e[1], []).append(i)
    dual = [
        rows for rows in by_pupil.values() if {la.enrolments[r][3] for r in rows} == {"main", "subsidiary"}
    ]
    assert dual
    d = codes.encode("D")
    for main, subsidiary in (sorted(rows, key=lambda r: la.enrolments[r][3]) for rows in dual):
        both = (la.marks[main] == d) & (la.marks[subsidiary] == d)
        assert not both.any()  # never D at both schools for the same session


def test_part_time_timetables_are_under_25_hours_and_ap_placement_not_started(la):
    assert la.timetables and all(t[1] < 25 for t in la.timetables)
    assert any(p[7] is None and p[6] < AS_OF for p in la.placements)
    assert {e[1] for e in la.exclusions} == {"suspension", "permanent", "lunchtime"}
