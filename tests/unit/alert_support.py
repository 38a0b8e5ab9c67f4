"""Hand-made registers for the alert rule tests: every school day present unless a test says otherwise."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from engine.alerts.evaluate import (
    EstablishmentInfo,
    Population,
    batches_of,
    evaluate_rules,
    frame_for,
    tail_weeks,
)
from engine.alerts.kinds import Episode
from engine.alerts.kinds.records import Records
from engine.alerts.rules import Rule, default_rules, parse_rule
from engine.attendance.codes import BY_CODE
from engine.attendance.layout import YEAR_BYTES, offset_of, school_year_of, year_end, year_start
from engine.calendar import SchoolCalendar
from tests.conftest import TERM_DATES

CALENDAR = SchoolCalendar.from_json_file(TERM_DATES)
DEFAULTS = {rule.id: rule for rule in default_rules()}
SECONDARY, PRU, PRIMARY = 1, 2, 3
ESTABLISHMENTS = {
    SECONDARY: EstablishmentInfo("8814001", "Castle Park School", "secondary", "academy"),
    PRU: EstablishmentInfo("8811100", "Riverside PRU", "not_applicable", "pru"),
    PRIMARY: EstablishmentInfo("8812001", "Riverside Primary", "primary", "community"),
}


def school_days(until: date, calendar: SchoolCalendar = CALENDAR) -> list[date]:
    """The school days of ``until``'s school year up to ``until``."""
    first = max(year_start(school_year_of(until)), calendar.first_day)
    return list(calendar.school_days(first, min(until, calendar.last_day, year_end(school_year_of(until)))))


class Register:
    """One enrolment's mark string: present (``/`` ``\\``) on every school day up to ``until``."""

    def __init__(self, until: date, calendar: SchoolCalendar = CALENDAR, fill: bool = True) -> None:
        self.marks = bytearray(YEAR_BYTES)
        for day in school_days(until, calendar) if fill else []:
            self.set(day, "/", "\\")

    def set(self, day: date, am: str | None, pm: str | None = "") -> Register:
        """Code a day: ``pm=""`` repeats the AM code; None leaves a session unmarked."""
        for session, code in ((0, am), (1, am if pm == "" else pm)):
            self.marks[offset_of(day, session)] = BY_CODE[code].byte if code else 0
        return self

    def session(self, day: date, session: int, code: str | None) -> Register:
        """Code one session (0 AM, 1 PM)."""
        self.marks[offset_of(day, session)] = BY_CODE[code].byte if code else 0
        return self

    def days(self, days: list[date], am: str | None, pm: str | None = "") -> Register:
        for day in days:
            self.set(day, am, pm)
        return self

    def __bytes__(self) -> bytes:
        return bytes(self.marks)


def rule(rule_id: str, **changes: Any) -> Rule:
    """A default rule, optionally changed (``params={...}``, ``scope={...}``...)."""
    data = DEFAULTS[rule_id].as_dict()
    for key, value in changes.items():
        data[key] = {**data[key], **value} if isinstance(data.get(key), dict) else value
    return parse_rule(data, version=1)


def run(
    the_rule: Rule | str,
    registers: dict[int, Register | bytes],
    as_of: date,
    *,
    first: date | None = None,
    enrolments: list[tuple[int, int, int, date | None]] | None = None,
    flags: dict[int, list[dict[str, Any]]] | None = None,
    records: Records | None = None,
    calendar: SchoolCalendar = CALENDAR,
    calendar_of: Callable[[int | None], SchoolCalendar] | None = None,
    previous: dict[int, Register | bytes] | None = None,
) -> list[Episode]:
    """The episodes ``the_rule`` raises evaluated as of ``as_of`` (or over ``first``..``as_of``).

    ``enrolments``: ``(enrolment_id, pupil_id, establishment_id, end_date)``; by default each register
    is its own pupil (same id) at the secondary school, still on roll."""
    chosen = DEFAULTS[the_rule] if isinstance(the_rule, str) else the_rule
    population = Population.of(
        enrolments or [(e, e, SECONDARY, None) for e in registers], establishments=ESTABLISHMENTS,
        flags=flags or {},
    )  # fmt: skip
    start = first or as_of
    tail = tail_weeks([chosen], calendar, start, as_of)
    frame = frame_for(calendar, start, as_of, tail, 0, calendar_of or (lambda _e: calendar))
    if frame is None:
        return []
    marks = {e: bytes(r) for e, r in registers.items()}
    before = {e: bytes(r) for e, r in (previous or {}).items()} if tail else None
    return evaluate_rules([chosen], frame, population, batches_of(marks, before), records)[chosen.id]
