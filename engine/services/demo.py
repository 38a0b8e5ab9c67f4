"""`educase demo-data`: fill an empty database with a synthetic LA (see engine/attendance/demo_data.py)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import clock
from ..attendance import demo_cases, demo_data
from ..attendance.bulk import insert_rows, next_id
from ..attendance.layout import school_year_of, year_end
from ..attendance.measures import measure, total
from ..calendar import CalendarError, SchoolCalendar
from ..context import Context
from ..errors import Conflict, InvalidInput
from ..models.attendance import AttendanceYear
from ..models.people import (
    APPlacement,
    Enrolment,
    Establishment,
    Exclusion,
    PartTimeTimetable,
    Pupil,
    PupilFlag,
)
from .calendars import load_calendar

EXAMPLE_TERM_DATES = Path(__file__).parents[1] / "data" / "term-dates-example-2025-26.json"


def generate_demo_data(
    ctx: Context,
    pupils: int,
    seed: int,
    as_of: date | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Generate and store a synthetic LA of ``pupils`` pupils; returns what was made and the achieved
    absence figures. Refuses a database that already has pupils or establishments."""
    say = progress or (lambda _text: None)
    if pupils < 1:
        raise InvalidInput(f"--pupils must be at least 1, not {pupils}")
    started = time.perf_counter()
    with ctx.db.transaction() as session:
        _require_empty(session)
        calendar, loaded = _calendar(ctx, session)
        first_ids = {name: next_id(session, model.__table__) for name, model in _ID_TABLES.items()}
    as_of = as_of or _last_term_day(calendar)
    if not calendar.first_day <= as_of <= calendar.last_day:
        raise CalendarError(
            f"--as-of {as_of.isoformat()} is outside the loaded terms ({calendar.first_day} to {calendar.last_day})"
        )
    if loaded:
        say(f"no LA calendar was loaded: loaded the example term dates ({EXAMPLE_TERM_DATES.name})")
    la = demo_data.build(calendar, pupils, seed, as_of, first_ids)
    say(f"generated {len(la.enrolments):,} enrolments in {time.perf_counter() - started:.1f} s; writing")
    with ctx.db.transaction() as session:
        _write(session, la, clock.now())
    achieved = _achieved(la)
    return {
        "seed": seed,
        "as_of": as_of.isoformat(),
        "establishments": len(la.establishments),
        "pupils": len(la.pupils),
        "enrolments": len(la.enrolments),
        "marks_bytes": int(la.marks.nbytes),
        "achieved": achieved,
        "cases": la.cases,
        "seconds": round(time.perf_counter() - started, 1),
    }


_ID_TABLES = {"establishment": Establishment, "pupil": Pupil, "enrolment": Enrolment}


def _require_empty(session: Session) -> None:
    for model in (Pupil, Establishment):
        if session.scalar(select(func.count()).select_from(model)):
            raise Conflict(
                f"the database already has {model.__tablename__}s: demo-data fills an empty database "
                "(use a new EDUCASE_DATABASE_URL)"
            )


def _calendar(ctx: Context, session: Session) -> tuple[SchoolCalendar, bool]:
    ctx.calendars.refresh(session)
    try:
        return ctx.calendars.get(), False
    except CalendarError:
        load_calendar(session, EXAMPLE_TERM_DATES)
        ctx.calendars.invalidate()
        ctx.calendars.refresh(session)
        return ctx.calendars.get(), True


def _last_term_day(calendar: SchoolCalendar) -> date:
    """The last day of term in the calendar's first school year."""
    year = school_year_of(calendar.first_day)
    return max(end for _start, end in calendar.terms if end <= year_end(year))


def _write(session: Session, la: demo_data.DemoLA, now: datetime) -> None:
    def stamped(rows: Iterable[Sequence[Any]]) -> Iterable[tuple[Any, ...]]:
        return ((*row, now) for row in rows)

    insert_rows(
        session,
        Establishment.__table__,
        (*demo_data.ESTABLISHMENT_COLUMNS, "updated_at"),
        stamped(la.establishments),
    )
    insert_rows(session, Pupil.__table__, (*demo_data.PUPIL_COLUMNS, "updated_at"), stamped(la.pupils))
    insert_rows(
        session, Enrolment.__table__, (*demo_data.ENROLMENT_COLUMNS, "updated_at"), stamped(la.enrolments)
    )
    insert_rows(session, PupilFlag.__table__, (*demo_data.FLAG_COLUMNS, "created_at"), stamped(la.flags))
    insert_rows(
        session,
        PartTimeTimetable.__table__,
        (*demo_cases.TIMETABLE_COLUMNS, "created_at"),
        stamped(la.timetables),
    )
    insert_rows(
        session, APPlacement.__table__, (*demo_cases.PLACEMENT_COLUMNS, "created_at"), stamped(la.placements)
    )
    insert_rows(
        session, Exclusion.__table__, (*demo_cases.EXCLUSION_COLUMNS, "created_at"), stamped(la.exclusions)
    )
    columns = ("enrolment_id", "school_year", "establishment_id", "marks", "updated_at")
    rows = (
        (e[0], la.school_year, e[2], la.marks[i].tobytes(), now)
        for i, e in enumerate(la.enrolments)
        if la.marks[i].any()
    )
    insert_rows(session, AttendanceYear.__table__, columns, rows)


def _achieved(la: demo_data.DemoLA) -> dict[str, Any]:
    """Overall, persistent and severe absence of the generated marks, by the DfE definitions."""
    measures = [m for m in (measure(la.marks[i].tobytes()) for i in range(len(la.enrolments))) if m.possible]
    summed = total(measures)
    n = len(measures) or 1
    return {
        "enrolments_counted": len(measures),
        "absence_rate": round(summed.absence_rate or 0.0, 2),
        "authorised_rate": round(summed.authorised_rate or 0.0, 2),
        "unauthorised_rate": round(summed.unauthorised_rate or 0.0, 2),
        "persistent_absence_rate": round(100 * sum(m.persistent for m in measures) / n, 2),
        "severe_absence_rate": round(100 * sum(m.severe for m in measures) / n, 2),
    }
