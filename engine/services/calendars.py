"""School calendars in the database: loading term dates, and the in-memory cache scripts use."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import clock
from ..calendar import CalendarError, SchoolCalendar
from ..calendar import add_working_days as _add_working_days
from ..models.calendar import LA_CALENDAR, CalendarRecord


class CalendarCache:
    """The LA calendar and establishment calendars, reloaded when any calendar row changes."""

    def __init__(self, check_every_seconds: float = 2.0) -> None:
        self._lock = threading.Lock()
        self._stamp: tuple[int, datetime | None] | None = None
        self._calendars: dict[str, SchoolCalendar] = {}
        self._check_every = check_every_seconds
        self._checked_at = -1e9

    def invalidate(self) -> None:
        """Forget what was loaded; the next :meth:`refresh` reads the database."""
        self._checked_at, self._stamp = -1e9, None

    def refresh(self, session: Session) -> None:
        """Reload calendars if any were loaded since we last looked.

        Looks at most every ``check_every_seconds`` (one aggregate query): term dates change a few
        times a year, and a process that loads them itself calls :meth:`invalidate`.
        """
        if time.monotonic() - self._checked_at < self._check_every:
            return
        self._checked_at = time.monotonic()
        stamp = session.execute(
            select(func.count(CalendarRecord.id), func.max(CalendarRecord.loaded_at))
        ).one()
        stamp_t = (int(stamp[0]), stamp[1])
        if stamp_t == self._stamp:
            return
        rows = {r.scope: r for r in session.scalars(select(CalendarRecord))}
        calendars: dict[str, SchoolCalendar] = {}
        la_row = rows.pop(LA_CALENDAR, None)
        if la_row is not None:
            la = SchoolCalendar.from_dict({"terms": la_row.terms, "closures": la_row.closures})
            calendars[LA_CALENDAR] = la
            for scope, row in rows.items():
                calendars[scope] = la.with_closures(date.fromisoformat(d) for d in row.closures)
        with self._lock:
            self._calendars, self._stamp = calendars, stamp_t

    def get(self, establishment: str | None = None) -> SchoolCalendar:
        """The calendar for an establishment (LA terms plus its closures) or the LA's."""
        la = self._calendars.get(LA_CALENDAR)
        if la is None:
            raise CalendarError(
                "No school calendar is loaded: load the LA's term dates with `educase calendar load FILE`."
            )
        return self._calendars.get(establishment, la) if establishment else la

    def script_helpers(self) -> dict[str, Callable[..., Any]]:
        """School-day functions for BPMN scripts and timer expressions."""

        def add_school_days(day: Any, n: int, establishment: str | None = None) -> date:
            return self.get(establishment).add_school_days(_as_date(day), int(n))

        def school_days_between(start: Any, end: Any, establishment: str | None = None) -> int:
            return self.get(establishment).school_days_between(_as_date(start), _as_date(end))

        def is_school_day(day: Any, establishment: str | None = None) -> bool:
            return self.get(establishment).is_school_day(_as_date(day))

        def next_school_day(day: Any, establishment: str | None = None) -> date:
            return self.get(establishment).next_school_day(_as_date(day))

        def add_working_days(day: Any, n: int) -> date:
            return _add_working_days(_as_date(day), int(n))

        return {
            "add_working_days": add_working_days,
            "add_school_days": add_school_days,
            "school_days_between": school_days_between,
            "is_school_day": is_school_day,
            "next_school_day": next_school_day,
        }


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        return date.fromisoformat(value[:10])
    raise CalendarError(f"expected a date or 'YYYY-MM-DD', got {value!r}")


def load_calendar(session: Session, path: Path, establishment: str | None = None) -> dict[str, Any]:
    """Validate a term-dates file and store it, replacing what was there.

    Without ``establishment`` the file holds the LA's terms and closures. With it (a LAESTAB) only the
    file's closures are used: an establishment follows the LA's terms and adds its own closures.
    """
    scope = establishment or LA_CALENDAR
    if establishment:
        data = {"terms": [], "closures": _closures_only(path)}
    else:
        data = SchoolCalendar.from_json_file(path).to_dict()
    record = session.scalar(select(CalendarRecord).where(CalendarRecord.scope == scope))
    if record is None:
        record = CalendarRecord(scope=scope)
        session.add(record)
    record.terms, record.closures = data["terms"], data["closures"]
    record.loaded_at, record.source = clock.now(), str(path)
    return data


def _closures_only(path: Path) -> list[str]:
    import json

    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise CalendarError(f"Cannot read closures from {path}: {error}")
    closures = raw.get("closures") if isinstance(raw, dict) else None
    if not isinstance(closures, list):
        raise CalendarError(f'{path}: an establishment file needs "closures": ["YYYY-MM-DD", ...]')
    try:
        return sorted({date.fromisoformat(str(d)).isoformat() for d in closures})
    except ValueError as error:
        raise CalendarError(f"{path}: {error}")
