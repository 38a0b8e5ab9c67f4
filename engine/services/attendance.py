"""Attendance use cases: importing files, measures, reports and demo data. Each owns its transaction."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from .. import clock
from ..attendance import reports
from ..attendance.importers import FORMATS, MARK_FORMATS, ImportReport, ImportRun, detect_format
from ..attendance.layout import end_offset, school_year_of, year_start
from ..attendance.measures import measure
from ..attendance.placements import record_actual_starts
from ..attendance.store import iter_years, load_years
from ..calendar import SchoolCalendar
from ..context import Context
from ..errors import InvalidInput, NotFound
from ..models.attendance import AttendanceImport
from ..models.people import Enrolment, Establishment, Pupil, PupilFlag

#: Imports read, patch and rewrite mark strings: one at a time, or two could lose each other's marks.
IMPORT_LOCK = 0x45445543_41534531  # "EDUCASE1"


class _NothingApplied(Exception):
    """Rolls an all-or-nothing import back when it had bad rows."""


def import_file(
    ctx: Context,
    path: Path,
    fmt: str | None = None,
    *,
    strict: bool = False,
    force: bool = False,
    actor: str | None = None,
    progress: Callable[[int], None] | None = None,
    only_laestab: str | None = None,
) -> ImportReport:
    """Import one file in one transaction; see :mod:`engine.attendance.importers.report` for the policy.

    A file already imported (same content, same format) is not applied again unless ``force``: an old
    file re-sent must not undo the corrections made since. ``only_laestab``: a school's own file, whose
    rows about any other establishment are refused (each listed with the reason).
    """
    path = Path(path)
    fmt = fmt or detect_format(path)
    if fmt not in FORMATS:
        raise InvalidInput(f"unknown import format {fmt!r}: use one of {', '.join(FORMATS)}")
    report = ImportReport(file=path.name, format=fmt, strict=strict)
    digest = _sha256(path)
    try:
        with ctx.db.transaction() as session:
            if not force and _mark_if_imported(session, report, digest, fmt):
                return report
            _run(ctx, session, report, path, fmt, digest, actor, progress, only_laestab)
    except _NothingApplied:
        report.applied, report.import_id = False, None
    return report


def _run(
    ctx: Context,
    session: Session,
    report: ImportReport,
    path: Path,
    fmt: str,
    digest: str,
    actor: str | None,
    progress: Callable[[int], None] | None,
    only_laestab: str | None = None,
) -> None:
    now = clock.now()
    if session.get_bind().dialect.name == "postgresql":  # SQLite's BEGIN IMMEDIATE already serialises
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": IMPORT_LOCK})
    record = AttendanceImport(
        file_name=str(path), format=fmt, sha256=digest, imported_at=now, imported_by=actor, summary={}
    )
    session.add(record)
    session.flush()
    if fmt in MARK_FORMATS:
        la_calendar(ctx, session)  # refuse the file whole, before reading it, when no calendar is loaded
    run = ImportRun(
        session, report, now, path.name, record.id, lambda: la_calendar(ctx, session), progress, only_laestab
    )
    FORMATS[fmt](run, path)
    if fmt in MARK_FORMATS and (started := record_actual_starts(session)):
        report.changes["ap_placements_started"] += started
    if report.strict and report.rejected:
        raise _NothingApplied
    report.applied, report.import_id = True, record.id
    record.summary = {k: v for k, v in report.as_dict().items() if k != "rejections"}


def _mark_if_imported(session: Session, report: ImportReport, digest: str, fmt: str) -> bool:
    previous = session.scalars(
        select(AttendanceImport)
        .where(AttendanceImport.sha256 == digest, AttendanceImport.format == fmt)
        .order_by(AttendanceImport.id.desc())
    ).first()
    if previous is None:
        return False
    report.already_imported = {"id": previous.id, "imported_at": previous.imported_at.isoformat()}
    return True


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError as error:
        raise InvalidInput(f"cannot read {path}: {error.strerror}", file=str(path))
    return digest.hexdigest()


def last_school_day(ctx: Context, day: date) -> date:
    """``day``, or the last school day before it in the LA calendar (at most 60 days back): the day
    whose marks an evaluation on a weekend or in a holiday would look at."""
    with ctx.db.transaction() as session:
        calendar = la_calendar(ctx, session)
    found = day
    while not calendar.is_school_day(found) and day - found < timedelta(days=60):
        found -= timedelta(days=1)
    return found


def la_calendar(ctx: Context, session: Session) -> SchoolCalendar:
    """The LA's school calendar (raises CalendarError with the fix when none is loaded)."""
    ctx.calendars.refresh(session)
    return ctx.calendars.get()


# --- measures and reports ------------------------------------------------------------------------


@dataclass(frozen=True)
class Roll:
    """An establishment's enrolments during a school year up to a date, with pupils and marks."""

    establishment: Establishment
    as_of: date
    entries: list[reports.RollEntry]
    marks: dict[int, bytes]


def establishment_measures(ctx: Context, laestab: str, as_of: date) -> dict[str, Any]:
    """Measures of every enrolment at an establishment from 1 September to ``as_of``, and in total."""
    with ctx.db.transaction() as session:
        roll = load_roll(session, laestab, as_of)
    return reports.establishment_measures(roll.establishment, roll.as_of, roll.entries, roll.marks)


def establishment_report(
    ctx: Context, laestab: str, as_of: date, threshold_percent: float = 10.0, roles: set[str] | None = None
) -> reports.Table:
    """The EWO's report: pupils at or above ``threshold_percent`` absence, worst first.

    Shared flags are shown where their ``visible_to`` is empty (all staff) or names one of ``roles``.
    """
    with ctx.db.transaction() as session:
        roll = load_roll(session, laestab, as_of)
        flags = _visible_flags(session, [e.pupil_id for e in roll.entries], as_of, roles or set())
    return reports.poor_attendance(
        roll.establishment, as_of, roll.entries, roll.marks, flags, threshold_percent
    )


def la_summary(ctx: Context, as_of: date) -> reports.Table:
    """Every establishment's absence figures from 1 September to ``as_of``, and the LA's total."""
    end = end_offset(as_of)
    with ctx.db.transaction() as session:
        establishments = list(session.scalars(select(Establishment).order_by(Establishment.laestab)))
        by_establishment: dict[int, list[Any]] = {e.id: [] for e in establishments}
        for _enrolment_id, establishment_id, marks in iter_years(session, school_year_of(as_of)):
            by_establishment[establishment_id].append(measure(marks, end))
    return reports.la_summary(establishments, by_establishment, as_of)


def load_roll(session: Session, laestab: str, as_of: date) -> Roll:
    """An establishment's enrolments of ``as_of``'s school year up to ``as_of``, with their marks
    (NotFound for an unknown LAESTAB); inside the caller's transaction."""
    establishment = session.scalar(select(Establishment).where(Establishment.laestab == laestab))
    if establishment is None:
        raise NotFound(f"no establishment with LAESTAB {laestab}", laestab=laestab)
    school_year = school_year_of(as_of)
    query = (
        select(
            Enrolment.id,
            Pupil.id,
            Pupil.upn,
            Pupil.upn_temporary,
            Pupil.surname,
            func.coalesce(Pupil.preferred_forename, Pupil.forename),
            Enrolment.year_group,
            Enrolment.registration,
            Enrolment.start_date,
            Enrolment.end_date,
        )
        .join(Pupil, Pupil.id == Enrolment.pupil_id)
        .where(
            Enrolment.establishment_id == establishment.id,
            Enrolment.start_date <= as_of,
            (Enrolment.end_date.is_(None)) | (Enrolment.end_date >= year_start(school_year)),
        )
        .order_by(Pupil.surname, Pupil.forename, Enrolment.id)
    )
    entries = [reports.RollEntry(*row) for row in session.execute(query)]
    marks = load_years(session, school_year, establishment_ids=[establishment.id])
    return Roll(establishment, as_of, entries, marks)


def _visible_flags(
    session: Session, pupil_ids: list[int], as_of: date, roles: set[str]
) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    for i in range(0, len(pupil_ids), 5000):
        query = select(PupilFlag).where(
            PupilFlag.pupil_id.in_(pupil_ids[i : i + 5000]),
            PupilFlag.start_date <= as_of,
            (PupilFlag.end_date.is_(None)) | (PupilFlag.end_date >= as_of),
        )
        for flag in session.scalars(query):
            if not flag.visible_to or roles & set(flag.visible_to):
                found.setdefault(flag.pupil_id, []).append(flag.flag)
    return {k: sorted(set(v)) for k, v in found.items()}
