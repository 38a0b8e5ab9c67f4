"""DfE measures on hand-made mark strings (domain.md section 1)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from engine.attendance import codes
from engine.attendance.layout import YEAR_BYTES, offset_of
from engine.attendance.measures import (
    Measures,
    at_least_percent,
    count_codes,
    measure,
    measure_as_of,
    measure_between,
    total,
)

START = date(2025, 9, 8)  # a Monday


def marks(*sessions: str, start: date = START) -> bytes:
    """A mark string with the given codes on consecutive weekdays' sessions (AM, PM, AM, ...) from ``start``."""
    out = bytearray(YEAR_BYTES)
    day, half = start, 0
    for code in sessions:
        out[offset_of(day, half)] = codes.encode(code)
        half = 1 - half
        if half == 0:
            day += timedelta(days=3 if day.weekday() == 4 else 1)
    return bytes(out)


def repeat(code: str, n: int) -> list[str]:
    return [code] * n


def test_possible_sessions_are_present_activity_and_absence():
    m = measure(marks("/", "\\", "L", "K", "I", "N", "D", "#"))
    assert (m.present, m.educational_activity, m.authorised, m.unauthorised) == (3, 1, 1, 1)
    assert (m.not_counted, m.administrative) == (1, 1)
    assert m.possible == 6
    assert m.attended == 4
    assert m.absence_rate == pytest.approx(2 / 6 * 100)


def test_approved_educational_activity_counts_as_attendance():
    m = measure(marks("K", "V", "P", "W", "B", "/"))
    assert m.possible == 6 and m.attended == 6 and m.absent == 0 and m.absence_rate == 0


@pytest.mark.parametrize("code", ["D", "X", "Q", "Y1", "Y2", "Y3", "Y4", "Y5", "Y6", "Y7", "Z", "#"])
def test_codes_that_are_not_possible_sessions_change_nothing(code):
    base = measure(marks("/", "I", "/", "/"))
    with_code = measure(marks("/", "I", code, code, "/", "/"))
    assert with_code.possible == base.possible == 4
    assert with_code.absence_rate == base.absence_rate == 25


def test_exactly_ten_percent_is_persistent_absence():
    m = measure(marks(*repeat("/", 180), *repeat("O", 20)))
    assert m.possible == 200 and m.absence_rate == 10
    assert m.persistent and not m.severe


def test_just_under_ten_percent_is_not_persistent():
    m = measure(marks(*repeat("/", 181), *repeat("O", 19)))
    assert m.absence_rate == 9.5 and not m.persistent
    # 9.99 % needs more sessions than one year holds; the rule is the same integer comparison.
    assert not Measures(present=9001, unauthorised=999).persistent
    assert Measures(present=9000, unauthorised=1000).persistent
    assert not at_least_percent(999, 10_000, 10)
    assert at_least_percent(1000, 10_000, 10)


def test_exactly_fifty_percent_is_severe_absence_and_just_under_is_not():
    assert measure(marks(*repeat("/", 50), *repeat("I", 50))).severe
    assert not measure(marks(*repeat("/", 51), *repeat("I", 49))).severe
    assert not Measures(present=5001, authorised=4999).severe


def test_no_possible_session_means_no_rate_and_no_flag():
    m = measure(marks("D", "D", "#", "Z"))
    assert m.possible == 0 and m.absence_rate is None
    assert not m.persistent and not m.severe
    assert measure(bytes(YEAR_BYTES)) == Measures()


def test_dual_registration_is_counted_per_enrolment():
    # Monday and Tuesday at the PRU, the rest of the week at the home school; each codes D for the other.
    home = marks("D", "D", "D", "D", "/", "\\", "/", "\\", "/", "\\")
    pru = marks("/", "\\", "O", "O", "D", "D", "D", "D", "D", "D")
    at_home, at_pru = measure(home), measure(pru)
    assert (at_home.possible, at_home.absence_rate, at_home.persistent) == (6, 0, False)
    assert (at_pru.possible, at_pru.absence_rate, at_pru.severe) == (4, 50, True)
    both = total([at_home, at_pru])
    assert both.possible == 10 and both.absent == 2  # the pupil counts twice, once per enrolment


def test_measures_as_of_a_date_ignore_later_sessions():
    string = marks("/", "\\", "I", "I", "/", "\\")  # Mon present, Tue ill, Wed present
    assert measure_as_of(string, START).possible == 2
    tuesday = measure_as_of(string, START + timedelta(days=1))
    assert (tuesday.possible, tuesday.authorised) == (4, 2)
    assert measure_between(string, START + timedelta(days=1), START + timedelta(days=2)).possible == 4
    with pytest.raises(ValueError, match="different school years"):
        measure_between(string, date(2025, 8, 1), date(2025, 9, 2))


def test_counting_codes_handles_two_character_codes():
    string = marks("C1", "C2", "C", "J1", "Y1", "C2")
    assert count_codes(string, ["C2"]) == 2
    assert count_codes(string, ["C"]) == 1
    assert count_codes(string, ["J1", "Y1"]) == 2


def test_sums_of_measures_give_group_rates():
    group = total([Measures(present=90, authorised=10), Measures(present=50, unauthorised=50)])
    assert group.possible == 200 and group.absence_rate == 30
    assert group.authorised_rate == 5 and group.unauthorised_rate == 25
