"""Where a session lives in a mark string: the storage layout shared by the store, measures and rules.

One mark string per enrolment and school year: two bytes per calendar day from 1 September (AM then
PM), 366 days, so every string is :data:`YEAR_BYTES` = 732 bytes whatever the year. Byte 0 means
"no mark" (weekends, holidays, days before the pupil joined); other values are code bytes
(:mod:`engine.attendance.codes`). Indexing by calendar day, not by school day, keeps a stored string
valid when term dates or closures change after marks were recorded.
"""

from __future__ import annotations

from datetime import date, timedelta

from ..calendar import SchoolCalendar

YEAR_DAYS = 366
YEAR_BYTES = 2 * YEAR_DAYS
SESSIONS: tuple[str, str] = ("AM", "PM")
EMPTY_YEAR = bytes(YEAR_BYTES)


def school_year_of(day: date) -> int:
    """The school year a date belongs to, named by the year it starts: 2025 for 2025/26."""
    return day.year if day.month >= 9 else day.year - 1


def year_start(school_year: int) -> date:
    """1 September of the school year."""
    return date(school_year, 9, 1)


def year_end(school_year: int) -> date:
    """31 August that ends the school year."""
    return date(school_year + 1, 8, 31)


def offset_of(day: date, session: int) -> int:
    """The byte offset of ``day``'s session (0 = AM, 1 = PM) in its school year's mark string."""
    return 2 * (day - year_start(school_year_of(day))).days + session


def end_offset(as_of: date) -> int:
    """The length of the prefix of ``as_of``'s year that holds sessions up to and including ``as_of``."""
    return offset_of(as_of, 1) + 1


def session_at(school_year: int, offset: int) -> tuple[date, str]:
    """The date and session (``AM``/``PM``) stored at ``offset``."""
    return year_start(school_year) + timedelta(days=offset // 2), SESSIONS[offset % 2]


def parse_session(text: str) -> int:
    """0 for ``AM``, 1 for ``PM`` (any case); raises ValueError otherwise."""
    value = text.strip().upper()
    if value not in SESSIONS:
        raise ValueError(f"session {text!r} is not AM or PM")
    return SESSIONS.index(value)


def school_day_offsets(calendar: SchoolCalendar, school_year: int, through: date | None = None) -> list[int]:
    """The offsets of every school-day session of the year, in order, up to ``through`` if given.

    Rules that count "school days" or "consecutive sessions" index mark strings with these, so that
    weekends and holidays (no mark) never break a run.
    """
    start = max(year_start(school_year), calendar.first_day)
    end = min(year_end(school_year), calendar.last_day, through or date.max)
    if end < start:
        return []
    offsets: list[int] = []
    for day in calendar.school_days(start, end):
        base = offset_of(day, 0)
        offsets += (base, base + 1)
    return offsets
