"""Checks of single fields, shared by every format. Each raises :class:`RowRejected` with a reason
from :mod:`.report` and a detail a person can act on. The mark checks cache their answers: a day's
feed repeats the same few dates, codes and sessions hundreds of thousands of times."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TypeVar

from ...calendar import SchoolCalendar
from .. import codes
from ..identifiers import InvalidIdentifier, Upn, validate_uln, validate_upn
from ..layout import offset_of, school_year_of
from .report import (
    BAD_SESSION,
    DATE_OUTSIDE_YEAR,
    INVALID_DATE,
    INVALID_UPN,
    INVALID_VALUE,
    MISSING_FIELD,
    UNKNOWN_CODE,
    WITHDRAWN_CODE,
    RowRejected,
)

T = TypeVar("T")


def required(value: str | None, name: str) -> str:
    """A non-blank field value, trimmed."""
    if value is None or not str(value).strip():
        raise RowRejected(MISSING_FIELD, f"{name} is missing")
    return str(value).strip()


def optional(value: str | None) -> str | None:
    """A trimmed field value, or None when blank."""
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def iso_date(value: str | None, name: str) -> date:
    """A ``YYYY-MM-DD`` date (a time part, as some MIS exports add, is ignored)."""
    text = required(value, name)
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        raise RowRejected(INVALID_DATE, f"{name} {text!r} is not a date (YYYY-MM-DD)")


def optional_date(value: str | None, name: str) -> date | None:
    return iso_date(value, name) if optional(value) else None


def upn(value: str | None) -> Upn:
    text = required(value, "UPN")
    try:
        return validate_upn(text)
    except InvalidIdentifier as error:
        raise RowRejected(INVALID_UPN, str(error))


def uln(value: str | None) -> str | None:
    text = optional(value)
    if text is None:
        return None
    try:
        return validate_uln(text)
    except InvalidIdentifier as error:
        raise RowRejected(INVALID_VALUE, str(error))


def one_of(value: str | None, allowed: dict[str, str], name: str, default: str | None = None) -> str | None:
    text = optional(value)
    if text is None:
        return default
    if text not in allowed:
        raise RowRejected(INVALID_VALUE, f"{name} {text!r} is not one of: {', '.join(allowed)}")
    return text


class MarkChecks:
    """Cached checks of a mark's date, session and code against the LA calendar."""

    def __init__(self, calendar: SchoolCalendar) -> None:
        self.calendar = calendar
        self._days: dict[str, tuple[date, int, int] | RowRejected] = {}
        self._codes: dict[str, int | RowRejected] = {}
        self._upns: dict[str, Upn | RowRejected] = {}

    def day(self, text: str) -> tuple[date, int, int]:
        """``(date, school_year, offset of its AM session)`` for a mark date inside the school year."""
        found = self._days.get(text)
        if found is None:
            found = self._days[text] = _catch(self._day, text)
        if isinstance(found, RowRejected):
            raise RowRejected(found.reason, found.detail)  # a fresh one: re-raising grows its traceback
        return found

    def _day(self, text: str) -> tuple[date, int, int]:
        day = iso_date(text, "date")
        first, last = self.calendar.first_day, self.calendar.last_day
        if not first <= day <= last:
            raise RowRejected(
                DATE_OUTSIDE_YEAR,
                f"{day.isoformat()} is outside the school year (the LA's terms run "
                f"{first.isoformat()} to {last.isoformat()})",
            )
        return day, school_year_of(day), offset_of(day, 0)

    def code(self, text: str) -> int:
        """The stored byte of a mark's code."""
        found = self._codes.get(text)
        if found is None:
            found = self._codes[text] = _catch(_code_byte, text)
        if isinstance(found, RowRejected):
            raise RowRejected(found.reason, found.detail)  # a fresh one: re-raising grows its traceback
        return found

    def upn(self, text: str) -> Upn:
        found = self._upns.get(text)
        if found is None:
            found = self._upns[text] = _catch(upn, text)
        if isinstance(found, RowRejected):
            raise RowRejected(found.reason, found.detail)  # a fresh one: re-raising grows its traceback
        return found


def session(text: str) -> int:
    """0 for AM, 1 for PM."""
    value = text.strip().upper() if isinstance(text, str) else text
    if value == "AM":
        return 0
    if value == "PM":
        return 1
    raise RowRejected(BAD_SESSION, f"session {text!r} is not AM or PM")


def _code_byte(text: str) -> int:
    if not str(text).strip():
        raise RowRejected(MISSING_FIELD, "code is missing")
    try:
        return codes.encode(text)
    except codes.UnknownCode as error:
        raise RowRejected(WITHDRAWN_CODE if error.withdrawn else UNKNOWN_CODE, str(error))


def _catch(check: Callable[[str], T], text: str) -> T | RowRejected:
    try:
        return check(text)
    except RowRejected as rejected:
        return rejected
