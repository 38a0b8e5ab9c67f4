"""Pupil use cases: one pupil's attendance record, and recording part-time timetables, AP placements,
suspensions/exclusions and shared flags. Each function owns its transaction."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import clock
from ..attendance import vocabulary
from ..attendance.codes import decode
from ..attendance.identifiers import InvalidIdentifier, validate_upn
from ..attendance.layout import end_offset, offset_of, school_year_of, year_start
from ..attendance.measures import measure
from ..attendance.store import load_years
from ..context import Context
from ..errors import InvalidInput, NotFound
from ..models.attendance import MarkCorrection
from ..models.people import (
    APPlacement,
    Enrolment,
    Establishment,
    Exclusion,
    PartTimeTimetable,
    Pupil,
    PupilFlag,
)

#: The expected minimum school week (DfE, from September 2024): a part-time timetable is less than this.
FULL_TIME_HOURS = 32.5


def pupil_attendance(ctx: Context, upn: str, as_of: date, recent_days: int = 10) -> dict[str, Any]:
    """A pupil's enrolments with measures to ``as_of``, the last ``recent_days`` school days' marks,
    and the history of corrections."""
    with ctx.db.transaction() as session:
        pupil = _pupil(session, upn)
        ctx.calendars.refresh(session)
        calendar = ctx.calendars.get()
        rows = session.execute(
            select(Enrolment, Establishment.laestab, Establishment.name)
            .join(Establishment, Establishment.id == Enrolment.establishment_id)
            .where(Enrolment.pupil_id == pupil.id)
            .order_by(Enrolment.start_date)
        ).all()
        marks = load_years(session, school_year_of(as_of), enrolment_ids=[r[0].id for r in rows])
        corrections = session.scalars(
            select(MarkCorrection)
            .where(MarkCorrection.enrolment_id.in_([r[0].id for r in rows]))
            .order_by(MarkCorrection.session_date, MarkCorrection.id)
        ).all()
        flags = session.scalars(select(PupilFlag).where(PupilFlag.pupil_id == pupil.id)).all()
    first = max(calendar.first_day, year_start(school_year_of(as_of)))
    days = list(calendar.school_days(first, min(as_of, calendar.last_day)))[-recent_days:]
    return {
        "upn": pupil.upn,
        "upn_temporary": pupil.upn_temporary,
        "name": pupil.full_name,
        "date_of_birth": pupil.date_of_birth.isoformat(),
        "flags": [
            {"flag": f.flag, "set_by_service": f.set_by_service, "visible_to": f.visible_to} for f in flags
        ],
        "enrolments": [
            _enrolment(e, laestab, name, marks.get(e.id, b""), as_of, days) for e, laestab, name in rows
        ],
        "corrections": [
            {
                "enrolment_id": c.enrolment_id,
                "date": c.session_date.isoformat(),
                "session": c.session,
                "old_code": c.old_code,
                "new_code": c.new_code,
                "corrected_at": c.corrected_at.isoformat(),
                "source": c.source,
            }
            for c in corrections
        ],
    }


def _enrolment(
    e: Enrolment, laestab: str, name: str, marks: bytes, as_of: date, days: list[date]
) -> dict[str, Any]:
    recent = {d.isoformat(): [decode(marks[offset_of(d, s)]) if marks else "" for s in (0, 1)] for d in days}
    return {
        "enrolment_id": e.id,
        "laestab": laestab,
        "establishment": name,
        "registration": e.registration,
        "start_date": e.start_date.isoformat(),
        "end_date": e.end_date.isoformat() if e.end_date else None,
        "deletion_ground": e.deletion_ground,
        "measures": measure(marks, end_offset(as_of)).as_dict() if marks else None,
        "recent_marks": recent,
    }


def _pupil(session: Session, upn: str) -> Pupil:
    try:
        value = validate_upn(upn).value
    except InvalidIdentifier as error:
        raise InvalidInput(str(error), upn=upn)
    pupil = session.scalar(select(Pupil).where(Pupil.upn == value))
    if pupil is None:
        raise NotFound(f"no pupil with UPN {value}", upn=value)
    return pupil


def _check(value: str, allowed: dict[str, str], what: str) -> str:
    try:
        return vocabulary.check(value, allowed, what)
    except ValueError as error:
        raise InvalidInput(str(error))


def add_part_time_timetable(
    ctx: Context,
    enrolment_id: int,
    hours_per_week: float,
    start: date,
    review: date,
    reason: str | None = None,
) -> int:
    """Record an agreed part-time timetable (time-limited: it needs a review date after its start)."""
    if review <= start:
        raise InvalidInput("a part-time timetable needs a review date after its start date")
    if not 0 < hours_per_week < FULL_TIME_HOURS:
        raise InvalidInput(
            f"{hours_per_week} hours a week is not a part-time timetable (under the {FULL_TIME_HOURS}-hour school week)"
        )
    with ctx.db.transaction() as session:
        _require(session, Enrolment, enrolment_id)
        row = PartTimeTimetable(
            enrolment_id=enrolment_id, hours_per_week=hours_per_week, start_date=start, review_date=review,
            reason=reason, agreed_with_parent=True, created_at=clock.now(),
        )  # fmt: skip
        session.add(row)
        session.flush()
        return row.id


def add_ap_placement(
    ctx: Context, pupil_id: int, provider_id: int, proposed_start: date, arranged_by: str = "la", **extra: Any
) -> int:
    """Record a placement in alternative provision, from its proposed start date."""
    _check(arranged_by, vocabulary.AP_ARRANGED_BY, "arranged_by")
    with ctx.db.transaction() as session:
        _require(session, Pupil, pupil_id)
        _require(session, Establishment, provider_id)
        row = APPlacement(
            pupil_id=pupil_id, provider_id=provider_id, proposed_start=proposed_start, arranged_by=arranged_by,
            created_at=clock.now(), **extra,
        )  # fmt: skip
        session.add(row)
        session.flush()
        return row.id


def record_exclusion(
    ctx: Context, enrolment_id: int, kind: str, start: date, length_days: float | None = None,
    lunchtime_sessions: int = 0, reason: str | None = None,
) -> int:  # fmt: skip
    """Record a suspension, lunchtime suspension or permanent exclusion."""
    _check(kind, vocabulary.EXCLUSION_KINDS, "kind")
    if kind == "suspension" and not length_days:
        raise InvalidInput("a suspension needs its length in school days")
    if kind == "lunchtime" and lunchtime_sessions < 1:
        raise InvalidInput("a lunchtime suspension needs its number of lunchtime sessions")
    with ctx.db.transaction() as session:
        _require(session, Enrolment, enrolment_id)
        row = Exclusion(
            enrolment_id=enrolment_id, kind=kind, start_date=start, length_days=length_days,
            lunchtime_sessions=lunchtime_sessions, reason=reason, created_at=clock.now(),
        )  # fmt: skip
        session.add(row)
        session.flush()
        return row.id


def set_flag(
    ctx: Context, pupil_id: int, flag: str, service: str, visible_to: list[str], start: date,
    set_by: str | None = None,
) -> int:  # fmt: skip
    """Record a flag shared by another service, with the roles or teams that may see it."""
    _check(flag, vocabulary.FLAGS, "flag")
    with ctx.db.transaction() as session:
        _require(session, Pupil, pupil_id)
        row = PupilFlag(
            pupil_id=pupil_id, flag=flag, set_by_service=service, set_by=set_by, visible_to=list(visible_to),
            start_date=start, created_at=clock.now(),
        )  # fmt: skip
        session.add(row)
        session.flush()
        return row.id


def _require(session: Session, model: type[Any], row_id: int) -> None:
    if session.get(model, row_id) is None:
        raise NotFound(f"no {model.__tablename__} with id {row_id}")
