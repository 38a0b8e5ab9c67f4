"""Unit tests for engine.calendar, on the example 2025/26 term dates.

The example year (closures 2025-11-03 and 2026-01-05 are INSET days):
  autumn 1  Wed 2025-09-03 .. Fri 2025-10-24   half term 27-31 Oct
  autumn 2  Mon 2025-11-03 .. Fri 2025-12-19   Christmas
  spring 1  Mon 2026-01-05 .. Fri 2026-02-13   half term 16-20 Feb
  spring 2  Mon 2026-02-23 .. Fri 2026-03-27   Easter (Good Friday 3 Apr, Easter Monday 6 Apr)
  summer 1  Mon 2026-04-13 .. Fri 2026-05-22   early May bank holiday Mon 2026-05-04 falls in term
  summer 2  Mon 2026-06-01 .. Wed 2026-07-22   (spring bank holiday 25 May is in half term)
"""

from __future__ import annotations

import dataclasses
import json
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from engine.calendar import (
    BankHolidays,
    CalendarError,
    SchoolCalendar,
    england_bank_holidays,
    school_week_start,
)
from engine.errors import InvalidInput

EXAMPLE = Path("/work/shared/data/term-dates-example-2025-26.json")
HINT = "load the LA's term dates with `educase calendar load FILE`"


@pytest.fixture(scope="module")
def cal() -> SchoolCalendar:
    return SchoolCalendar.from_json_file(EXAMPLE)


def d(text: str) -> date:
    return date.fromisoformat(text)


def terms_dict(*spans: tuple[str, str], closures: list[str] | None = None) -> dict[str, object]:
    return {"terms": [{"start": s, "end": e} for s, e in spans], "closures": closures or []}


# --- which days are school days ----------------------------------------------------------------


def test_total_school_days_in_the_example_year(cal: SchoolCalendar) -> None:
    # Weekdays per term, minus closures and in-term bank holidays:
    #   autumn 1: Wed-Fri 3-5 Sep (3) + 7 full weeks 8 Sep..24 Oct (35)          = 38
    #   autumn 2: 7 full weeks 3 Nov..19 Dec (35) - INSET 3 Nov                  = 34
    #   spring 1: 6 full weeks 5 Jan..13 Feb (30) - INSET 5 Jan                  = 29
    #   spring 2: 5 full weeks 23 Feb..27 Mar                                     = 25
    #   summer 1: 6 full weeks 13 Apr..22 May (30) - bank holiday 4 May          = 29
    #   summer 2: 7 full weeks 1 Jun..17 Jul (35) + Mon-Wed 20-22 Jul (3)        = 38
    # 38 + 34 + 29 + 25 + 29 + 38 = 193 (the usual 195 less the two INSET days listed).
    assert len(list(cal.school_days(d("2025-09-03"), d("2026-07-22")))) == 193
    # The first day itself is not counted by school_days_between.
    assert cal.school_days_between(d("2025-09-03"), d("2026-07-22")) == 192


def test_school_days_counted_per_term(cal: SchoolCalendar) -> None:
    per_term = [len(list(cal.school_days(start, end))) for start, end in cal.terms]
    assert per_term == [38, 34, 29, 25, 29, 38]


@pytest.mark.parametrize(
    ("day", "expected", "why"),
    [
        ("2025-09-03", True, "first day of term"),
        ("2025-09-06", False, "Saturday"),
        ("2025-10-27", False, "half term"),
        ("2025-11-03", False, "INSET closure"),
        ("2025-11-04", True, "first day back after INSET"),
        ("2025-12-25", False, "Christmas Day, in the holiday"),
        ("2026-01-05", False, "INSET closure"),
        ("2026-04-03", False, "Good Friday, in the Easter holiday"),
        ("2026-04-06", False, "Easter Monday, in the Easter holiday"),
        ("2026-05-04", False, "early May bank holiday, in term"),
        ("2026-05-05", True, "day after the bank holiday"),
        ("2026-07-22", True, "last day of the year"),
    ],
)
def test_is_school_day(cal: SchoolCalendar, day: str, expected: bool, why: str) -> None:
    assert cal.is_school_day(d(day)) is expected, why


def test_bank_holidays_inside_a_term_are_never_school_days() -> None:
    # A term running through Christmas and Easter: the bank holidays drop out, nothing else does.
    christmas = SchoolCalendar.from_dict(terms_dict(("2025-12-22", "2026-01-02")))
    # Weekdays 22-26 Dec, 29 Dec-2 Jan = 10; minus 25 Dec, 26 Dec, 1 Jan = 7.
    assert len(list(christmas.school_days(d("2025-12-22"), d("2026-01-02")))) == 7
    easter = SchoolCalendar.from_dict(terms_dict(("2026-03-30", "2026-04-10")))
    # Weekdays 30 Mar-3 Apr, 6-10 Apr = 10; minus Good Friday 3 Apr and Easter Monday 6 Apr = 8.
    assert len(list(easter.school_days(d("2026-03-30"), d("2026-04-10")))) == 8
    assert easter.next_school_day(d("2026-04-02")) == d("2026-04-07")


# --- add_school_days ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "n", "expected", "why"),
    [
        # Fri 24 Oct; half term 27-31 Oct; Mon 3 Nov is INSET -> Tue 4 Nov.
        ("2025-10-24", 1, "2025-11-04", "across October half term and an INSET day"),
        # 21-24 Oct (4), 4-7 Nov (8), 10-14 Nov (13), 17 Nov (14), 18 Nov (15).
        ("2025-10-20", 15, "2025-11-18", "a 15-school-day deadline across half term"),
        # Fri 19 Dec; Christmas; Mon 5 Jan is INSET -> Tue 6 Jan.
        ("2025-12-19", 1, "2026-01-06", "across Christmas and an INSET day"),
        # Thu 25 Dec is inside the holiday: first school day after it is Tue 6 Jan.
        ("2025-12-25", 1, "2026-01-06", "from a bank holiday"),
        # Fri 1 May; Mon 4 May is a bank holiday -> Tue 5 May.
        ("2026-05-01", 1, "2026-05-05", "across the early May bank holiday"),
        # 5-8 May (4), 11 May (5).
        ("2026-05-01", 5, "2026-05-11", "five days across the early May bank holiday"),
        # Fri 27 Mar; Easter holiday 30 Mar-10 Apr (Good Friday, Easter Monday inside) -> 13 Apr.
        ("2026-03-27", 1, "2026-04-13", "across Easter"),
        # 4-5 Sep (2), 8-12 (7), 15-19 (12), 22-26 (17), 29 Sep (18), 30 Sep (19), 1 Oct (20).
        ("2025-09-03", 20, "2025-10-01", "20 school days from the first day"),
        ("2025-10-24", 0, "2025-10-24", "n = 0 leaves a school day unchanged"),
        ("2025-10-25", 0, "2025-10-25", "n = 0 leaves a Saturday unchanged"),
        ("2025-11-04", -1, "2025-10-24", "back across half term and INSET"),
        ("2026-01-06", -1, "2025-12-19", "back across Christmas"),
        ("2026-05-05", -1, "2026-05-01", "back across a bank holiday"),
        ("2025-11-01", -1, "2025-10-24", "back from a Saturday in half term"),
        ("2025-10-01", -20, "2025-09-03", "back to the first day"),
    ],
)
def test_add_school_days(cal: SchoolCalendar, start: str, n: int, expected: str, why: str) -> None:
    assert cal.add_school_days(d(start), n) == d(expected), why


def test_next_school_day(cal: SchoolCalendar) -> None:
    assert cal.next_school_day(d("2025-10-24")) == d("2025-11-04")
    assert cal.next_school_day(d("2025-10-25")) == d("2025-11-04")
    assert cal.next_school_day(d("2026-02-12")) == d("2026-02-13")


# --- school_days_between -----------------------------------------------------------------------


def test_school_days_between_hand_counts(cal: SchoolCalendar) -> None:
    assert cal.school_days_between(d("2025-10-24"), d("2025-11-04")) == 1
    assert cal.school_days_between(d("2025-11-04"), d("2025-10-24")) == -1
    assert cal.school_days_between(d("2025-10-20"), d("2025-11-18")) == 15
    assert cal.school_days_between(d("2025-12-19"), d("2026-01-06")) == 1
    assert cal.school_days_between(d("2026-05-01"), d("2026-05-05")) == 1
    assert cal.school_days_between(d("2025-10-24"), d("2025-10-24")) == 0
    # From a Saturday: nothing after it until Tue 4 Nov; back from it, Fri 24 Oct is reached at once.
    assert cal.school_days_between(d("2025-10-25"), d("2025-11-04")) == 1
    assert cal.school_days_between(d("2025-10-25"), d("2025-10-24")) == -1
    # Neither end a school day, and nothing in between.
    assert cal.school_days_between(d("2025-10-25"), d("2025-11-03")) == 0


def test_school_days_between_is_the_inverse_of_add_school_days(cal: SchoolCalendar) -> None:
    # Every 7th covered date against every school day of the first two terms, both directions.
    starts = [d("2025-09-03") + timedelta(days=k) for k in range(0, 320, 7)]
    ends = list(cal.school_days(d("2025-09-03"), d("2025-12-19")))
    for a in starts:
        for b in ends:
            assert cal.add_school_days(a, cal.school_days_between(a, b)) == b, (a, b)


def test_school_days_between_is_antisymmetric_on_school_days(cal: SchoolCalendar) -> None:
    days = list(cal.school_days(d("2025-09-03"), d("2026-07-22")))[::9]
    for a in days:
        for b in days:
            assert cal.school_days_between(a, b) == -cal.school_days_between(b, a), (a, b)


def test_school_days_iterates_inclusive_range(cal: SchoolCalendar) -> None:
    got = list(cal.school_days(d("2025-10-22"), d("2025-11-05")))
    assert got == [d(x) for x in ("2025-10-22", "2025-10-23", "2025-10-24", "2025-11-04", "2025-11-05")]
    assert list(cal.school_days(d("2025-10-27"), d("2025-10-31"))) == []
    assert list(cal.school_days(d("2025-11-05"), d("2025-10-22"))) == []


# --- school weeks ------------------------------------------------------------------------------


def test_school_week_start_is_monday() -> None:
    assert school_week_start(d("2025-10-24")) == d("2025-10-20")
    assert school_week_start(d("2025-10-26")) == d("2025-10-20")
    assert school_week_start(d("2025-10-20")) == d("2025-10-20")


def test_ten_school_weeks_spanning_february_half_term(cal: SchoolCalendar) -> None:
    # Back from Fri 20 Mar 2026: weeks of 16 Mar (1), 9 Mar (2), 2 Mar (3), 23 Feb (4),
    # [16 Feb half term skipped], 9 Feb (5), 2 Feb (6), 26 Jan (7), 19 Jan (8), 12 Jan (9),
    # 5 Jan (10: INSET on the Monday, school Tue-Fri, so still a school week).
    assert cal.school_weeks_back(d("2026-03-20"), 10) == d("2026-01-05")
    assert cal.school_weeks_back(d("2026-03-20"), 1) == d("2026-03-16")
    assert cal.school_weeks_back(d("2026-03-22"), 1) == d("2026-03-16")


def test_school_weeks_back_from_a_half_term_day(cal: SchoolCalendar) -> None:
    # Wed 18 Feb is half term: its week is not a school week, so the window ends with 9 Feb's week.
    assert cal.school_weeks_back(d("2026-02-18"), 1) == d("2026-02-09")
    # 9 Feb (1), 2 Feb (2), 26 Jan (3), 19 Jan (4), 12 Jan (5), 5 Jan (6),
    # [29 Dec, 22 Dec skipped], 15 Dec (7), 8 Dec (8), 1 Dec (9), 24 Nov (10).
    assert cal.school_weeks_back(d("2026-02-18"), 10) == d("2025-11-24")


def test_school_weeks_back_spans_christmas_and_years(cal: SchoolCalendar) -> None:
    # From Fri 16 Jan 2026: 12 Jan (1), 5 Jan (2), [29 Dec, 22 Dec skipped], 15 Dec (3), 8 Dec (4),
    # 1 Dec (5), 24 Nov (6), 17 Nov (7), 10 Nov (8), 3 Nov (9), [27 Oct half term], 20 Oct (10).
    assert cal.school_weeks_back(d("2026-01-16"), 10) == d("2025-10-20")


def test_school_weeks_back_to_the_first_week(cal: SchoolCalendar) -> None:
    # Weeks of 1, 8, 15, 22, 29 Sep and 6, 13, 20 Oct: the week of 20 Oct is the 8th school week.
    assert cal.school_weeks_back(d("2025-10-24"), 8) == d("2025-09-01")
    with pytest.raises(CalendarError, match="No term dates cover 2025-09-02"):
        cal.school_weeks_back(d("2025-10-24"), 9)


def test_school_weeks_back_needs_a_positive_count(cal: SchoolCalendar) -> None:
    with pytest.raises(CalendarError, match="at least 1 week, not 0"):
        cal.school_weeks_back(d("2026-03-20"), 0)


def test_school_weeks_back_refuses_a_week_it_cannot_decide() -> None:
    # The term ends Wed 10 Sep and its last three days are closures: Thu 11 Sep is unknown, so
    # nobody can say whether the week of 8 Sep is a school week.
    cal = SchoolCalendar.from_dict(
        terms_dict(("2025-09-01", "2025-09-10"), closures=["2025-09-08", "2025-09-09", "2025-09-10"])
    )
    with pytest.raises(CalendarError, match="No term dates cover 2025-09-11"):
        cal.school_weeks_back(d("2025-09-10"), 1)


# --- establishments' closures ------------------------------------------------------------------


def test_with_closures_adds_an_establishments_own_closures(cal: SchoolCalendar) -> None:
    school = cal.with_closures([d("2025-10-24"), d("2026-07-22")])
    assert school.add_school_days(d("2025-10-23"), 1) == d("2025-11-04")
    assert school.closures == cal.closures | {d("2025-10-24"), d("2026-07-22")}
    assert len(list(school.school_days(school.first_day, school.last_day))) == 191
    # The LA's calendar is untouched.
    assert cal.is_school_day(d("2025-10-24"))
    assert len(list(cal.school_days(cal.first_day, cal.last_day))) == 193


# --- construction, round trip, immutability ----------------------------------------------------


def test_to_dict_round_trips(cal: SchoolCalendar) -> None:
    data = cal.to_dict()
    assert data["closures"] == ["2025-11-03", "2026-01-05"]
    assert data["terms"][0] == {"start": "2025-09-03", "end": "2025-10-24"}
    assert SchoolCalendar.from_dict(data) == cal
    example = json.loads(EXAMPLE.read_text())
    assert data == {"terms": example["terms"], "closures": example["closures"]}


def test_from_dict_accepts_date_objects_as_yaml_gives_them() -> None:
    data = {"terms": [{"start": date(2025, 9, 3), "end": date(2025, 10, 24)}], "closures": [date(2025, 9, 5)]}
    cal = SchoolCalendar.from_dict(data)
    assert cal.terms == ((d("2025-09-03"), d("2025-10-24")),)
    assert not cal.is_school_day(d("2025-09-05"))


def test_from_dict_ignores_extra_keys_and_sorts_terms() -> None:
    data = terms_dict(("2026-01-05", "2026-02-13"), ("2025-09-03", "2025-10-24"))
    data["description"] = "anything"
    del data["closures"]
    cal = SchoolCalendar.from_dict(data)
    assert [start for start, _ in cal.terms] == [d("2025-09-03"), d("2026-01-05")]
    assert cal.closures == frozenset()


def test_calendar_is_immutable(cal: SchoolCalendar) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        cal.terms = ()  # type: ignore[misc]
    assert isinstance(cal.terms, tuple)
    assert isinstance(cal.closures, frozenset)
    assert hash(cal) == hash(SchoolCalendar.from_json_file(EXAMPLE))


def test_calendar_error_is_invalid_input() -> None:
    error = CalendarError("x", date="2027-09-01")
    assert isinstance(error, InvalidInput)
    assert error.as_dict() == {"code": "calendar_error", "message": "x", "date": "2027-09-01"}


# --- questions the calendar cannot answer ------------------------------------------------------


def test_is_school_day_outside_the_terms(cal: SchoolCalendar) -> None:
    with pytest.raises(CalendarError) as caught:
        cal.is_school_day(d("2027-09-01"))
    assert caught.value.message == (
        f"No term dates cover 2027-09-01 (the loaded terms run 2025-09-03 to 2026-07-22): {HINT}"
    )
    assert caught.value.details == {"date": "2027-09-01"}


@pytest.mark.parametrize(
    ("call", "uncovered"),
    [
        (lambda c: c.add_school_days(d("2026-07-22"), 1), "2026-07-23"),
        (lambda c: c.add_school_days(d("2026-07-01"), 20), "2026-07-23"),
        (lambda c: c.add_school_days(d("2025-09-03"), -1), "2025-09-02"),
        (lambda c: c.add_school_days(d("2025-09-02"), 1), "2025-09-02"),
        (lambda c: c.add_school_days(d("2026-09-03"), 0), "2026-09-03"),
        (lambda c: c.next_school_day(d("2026-07-22")), "2026-07-23"),
        (lambda c: c.school_days_between(d("2025-09-03"), d("2026-09-03")), "2026-09-03"),
        (lambda c: c.school_days_between(d("2025-08-01"), d("2025-09-03")), "2025-08-01"),
        (lambda c: c.school_days(d("2025-09-01"), d("2025-09-10")), "2025-09-01"),
        (lambda c: c.school_weeks_back(d("2026-08-01"), 1), "2026-08-01"),
    ],
)
def test_uncovered_dates_raise_rather_than_count_as_holidays(
    cal: SchoolCalendar, call: object, uncovered: str
) -> None:
    with pytest.raises(CalendarError, match=f"No term dates cover {uncovered} .*educase calendar load FILE"):
        call(cal)  # type: ignore[operator]


# --- bad term-dates files ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"closures": []}, 'Term dates have no "terms"'),
        ([], "Term dates must be an object with 'terms', not list"),
        ({"terms": {"start": "2025-09-03"}}, "'terms' must be a list, not dict"),
        ({"terms": []}, "Term dates list no terms"),
        ({"terms": ["2025-09-03"]}, "terms[0] must be an object with 'start' and 'end', not '2025-09-03'"),
        ({"terms": [{"start": "2025-09-03"}]}, "terms[0] has no 'end' date"),
        (
            terms_dict(("2025-09-03", "2025-13-01")),
            "terms[0].end: '2025-13-01' is not a real date (month must be in 1..12)",
        ),
        (terms_dict(("2025-09-03", "2025-02-30")), "terms[0].end: '2025-02-30' is not a real date"),
        (
            terms_dict(("2025-09-03", "2025-10-24"), ("3/11/2025", "2025-12-19")),
            "terms[1].start: '3/11/2025'",
        ),
        ({"terms": [{"start": 20250903, "end": "2025-10-24"}]}, "terms[0].start: 20250903 is not a date"),
        (
            {"terms": [{"start": datetime(2025, 9, 3, 9, 0), "end": "2025-10-24"}]},
            "terms[0].start: 2025-09-03T09:00:00 has a time of day",
        ),
        (terms_dict(("2025-10-24", "2025-09-03")), "Term 2025-10-24 to 2025-09-03 ends before it starts"),
        (
            terms_dict(("2025-09-03", "2025-10-24"), ("2025-10-20", "2025-12-19")),
            "Terms 2025-09-03 to 2025-10-24 and 2025-10-20 to 2025-12-19 overlap",
        ),
        (
            terms_dict(("2025-09-03", "2025-10-24"), ("2025-10-24", "2025-12-19")),
            "Terms 2025-09-03 to 2025-10-24 and 2025-10-24 to 2025-12-19 overlap",
        ),
        (terms_dict(("2025-09-03", "2025-10-24"), closures=["2025-09-31"]), "closures[0]: '2025-09-31'"),
        (terms_dict(("2025-09-03", "2025-10-24"), closures=["2025-09-05", "soon"]), "closures[1]: 'soon'"),
        ({"terms": [{"start": "2025-09-03", "end": "2025-10-24"}], "closures": "2025-09-05"}, "'closures'"),
        (
            terms_dict(("2031-09-03", "2031-10-24")),
            "Term 2031-09-03 to 2031-10-24 is in 2031, but bank holidays are only known for 2020-2030",
        ),
    ],
)
def test_from_dict_rejects_bad_term_dates(data: object, message: str) -> None:
    with pytest.raises(CalendarError) as caught:
        SchoolCalendar.from_dict(data)  # type: ignore[arg-type]
    assert message in caught.value.message


def test_from_json_file_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "terms.json"
    bad.write_text(json.dumps(terms_dict(("2025-10-24", "2025-09-03"))))
    with pytest.raises(CalendarError, match=r"terms\.json: Term 2025-10-24 to 2025-09-03 ends before"):
        SchoolCalendar.from_json_file(bad)


def test_from_json_file_reports_invalid_json_with_its_line(tmp_path: Path) -> None:
    bad = tmp_path / "terms.json"
    bad.write_text('{\n  "terms": [\n  oops\n]}')
    with pytest.raises(CalendarError, match=r"terms\.json:3: not valid JSON"):
        SchoolCalendar.from_json_file(bad)


def test_from_json_file_reports_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CalendarError, match=r"Cannot read term dates file .*missing\.json"):
        SchoolCalendar.from_json_file(tmp_path / "missing.json")


# --- bank holidays -----------------------------------------------------------------------------


def test_bank_holiday_data_covers_2020_to_2030() -> None:
    bank = england_bank_holidays()
    assert bank.years == range(2020, 2031)
    assert d("2020-01-01") in bank.dates
    assert d("2020-12-28") in bank.dates  # Boxing Day (substitute) 2020
    assert d("2022-09-19") in bank.dates  # one-off: state funeral
    assert d("2030-12-26") in bank.dates
    assert d("2030-08-26") in bank.dates
    assert not any(day.year in (2019, 2031) for day in bank.dates)
    assert england_bank_holidays() is bank  # computed once


def test_bank_holidays_can_be_supplied() -> None:
    # Other data (a test, or a future year) can be passed in with the years it is complete for.
    bank = BankHolidays(frozenset({d("2031-09-05")}), range(2031, 2032))
    cal = SchoolCalendar(((d("2031-09-01"), d("2031-09-05")),), bank_holidays=bank)
    assert [day.day for day in cal.school_days(d("2031-09-01"), d("2031-09-05"))] == [1, 2, 3, 4]
