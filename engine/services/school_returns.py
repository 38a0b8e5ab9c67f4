"""Returns from a school to the LA, sent through its portal: deletion returns and attendance files.

**Deletion return** (2024 Regs reg. 9; domain.md section 2): sent no later than the day the pupil
comes off the roll (never backdated), with the ground. The grounds that leave the child's education
unknown (:data:`CME_GROUNDS`) start a children missing education enquiry (cme_enquiry) about the
pupil; the others are recorded for the LA. Nothing deletes the pupil: the school's MIS feed does that.

**Attendance file**: the school's own marks (the CSV or JSON feed formats of
:mod:`engine.attendance.importers`), imported with every row about another establishment refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from .. import clock
from ..access import Principal
from ..attendance.importers import MARK_FORMATS, FormatRefused, ImportReport, detect_format
from ..episodes.lookup import today_in
from ..errors import InvalidInput
from ..forms import raise_if_invalid
from ..models.access import UserAccount
from ..models.attendance import AttendanceImport
from ..models.people import Pupil
from ..models.returns import DeletionReturn
from ..portal.actions import forced
from . import attendance, audit
from .portal import ActionForm, action_form, school_start_data, start_for_school
from .school_roll import own_school

if TYPE_CHECKING:
    from ..context import Context

#: Deletion grounds after which the child's education is not known → the cme_enquiry's own ground.
CME_GROUNDS = {
    "moved_away": "moved_away",
    "not_returned_after_leave": "not_returned_after_leave",
    "continuous_absence": "continuous_absence_20_days",
}
LISTED = 10
UPLOAD_FORMATS = {"csv": "marks CSV (upn,laestab,date,session,code)", "json": "JSON attendance feed"}


@dataclass(frozen=True)
class DeletionSent:
    return_id: int
    pupil_name: str
    instance_id: int | None  # the CME enquiry it started


@dataclass(frozen=True)
class DeletionReturnView:
    id: int
    pupil_name: str
    ground: str
    deleted_on: date
    sent_by: str
    sent_at: datetime
    instance_id: int | None


@dataclass(frozen=True)
class UploadView:
    file: str
    imported_at: datetime
    imported_by: str | None
    summary: dict[str, Any]


def send_deletion_return(
    ctx: Context, principal: Principal, pupil_id: int, answers: dict[str, Any]
) -> DeletionSent:
    """Record the school's deletion return about a pupil on its roll; start a CME enquiry when the
    ground leaves the child's education unknown."""
    shown = action_form(ctx, principal, "deletion", pupil_id)
    data = forced(answers, shown.data, shown.fixed)
    raise_if_invalid(shown.form.schema, data, shown.form.ref)
    today = today_in(ctx)
    deleted_on = _deletion_day(data.get("deleted_on"), today)
    cme = None
    if data.get("ground") in CME_GROUNDS:
        cme = school_start_data(principal, "cme_enquiry", _cme_start(data, shown, deleted_on, today))
    with ctx.db.transaction() as session:  # the return and the enquiry it starts, together
        instance_id = None
        if cme is not None:
            started = start_for_school(
                ctx, session, principal, "cme_enquiry", cme, shown.pupil.upn, "deletion"
            )
            instance_id = started.instance_id
        row = DeletionReturn(
            establishment_id=shown.school.id,
            pupil_id=shown.pupil.id,
            ground=str(data["ground"]),
            deleted_on=deleted_on,
            data=data,
            sent_by=principal.username,
            sent_at=clock.now(),
            instance_id=instance_id,
        )
        session.add(row)
        session.flush()
        details = {"pupil_id": shown.pupil.id, "ground": row.ground, "instance_id": instance_id}
        audit.record(session, principal, "send", "deletion_return", row.id, details)
        return DeletionSent(row.id, shown.pupil.name, instance_id)


def deletion_returns(ctx: Context, principal: Principal, limit: int = LISTED) -> list[DeletionReturnView]:
    """The deletion returns the school sent, newest first."""
    with ctx.db.transaction() as session:
        school = own_school(session, principal)
        rows = session.execute(
            select(DeletionReturn, Pupil)
            .join(Pupil, Pupil.id == DeletionReturn.pupil_id)
            .where(DeletionReturn.establishment_id == school.id)
            .order_by(DeletionReturn.sent_at.desc(), DeletionReturn.id.desc())
            .limit(limit)
        )
        return [
            DeletionReturnView(r.id, p.full_name, r.ground, r.deleted_on, r.sent_by, r.sent_at, r.instance_id)
            for r, p in rows
        ]


def upload_attendance(ctx: Context, principal: Principal, path: Path) -> ImportReport:
    """Import the school's attendance file at ``path`` (named as the school named it): its rows about
    the school's own pupils are applied, any row about another establishment is refused."""
    with ctx.db.transaction() as session:
        school = own_school(session, principal)
    try:
        fmt: str | None = detect_format(path)
    except FormatRefused:
        fmt = None
    if fmt not in MARK_FORMATS:
        raise InvalidInput(
            f"{path.name} is not an attendance file: send a {' or a '.join(UPLOAD_FORMATS.values())}.",
            field="file",
        )
    assert fmt is not None
    report = attendance.import_file(ctx, path, fmt, actor=principal.username, only_laestab=school.laestab)
    details = {"file": path.name, "format": fmt, "outcome": report.outcome(), "import_id": report.import_id}
    audit.record(ctx, principal, "upload", "attendance_file", school.laestab, details)
    return report


def recent_uploads(ctx: Context, principal: Principal, limit: int = LISTED) -> list[UploadView]:
    """The attendance files the school's staff sent, newest first."""
    with ctx.db.transaction() as session:
        school = own_school(session, principal)
        staff = select(UserAccount.username).where(UserAccount.establishment == school.laestab)
        rows = session.scalars(
            select(AttendanceImport)
            .where(AttendanceImport.imported_by.in_(staff))
            .order_by(AttendanceImport.imported_at.desc(), AttendanceImport.id.desc())
            .limit(limit)
        )
        return [UploadView(Path(r.file_name).name, r.imported_at, r.imported_by, r.summary) for r in rows]


# --- helpers ------------------------------------------------------------------------------------------


def _deletion_day(value: Any, today: date) -> date:
    try:
        day = date.fromisoformat(str(value))
    except ValueError:
        raise InvalidInput("Enter the date the pupil comes off your roll.", field="deleted_on")
    if day < today:
        raise InvalidInput(
            f"A deletion cannot be backdated: the return must be sent on or before the day the pupil comes "
            f"off the roll. Enter today ({today:%d %B %Y}) or a later date.",
            field="deleted_on",
        )
    return day


def _cme_start(data: dict[str, Any], shown: ActionForm, deleted_on: date, today: date) -> dict[str, Any]:
    """The CME enquiry's start data from a deletion return (as cme_enquiry-open reads them)."""
    pupil, school = shown.pupil, shown.school
    start: dict[str, Any] = {
        "pupil": {
            "first_name": pupil.forename,
            "last_name": pupil.surname,
            "date_of_birth": pupil.date_of_birth.isoformat(),
            **({"upn": pupil.upn} if pupil.upn else {}),
            **({"year_group": pupil.year_group} if pupil.year_group else {}),
        },
        "school": {
            "name": school.name,
            "laestab": school.laestab,
            **({"urn": school.urn} if school.urn else {}),
        },
        "trigger": "deletion_return",
        "still_on_roll": deleted_on > today,
        "deletion_ground": CME_GROUNDS[data["ground"]],
        "deleted_on": deleted_on.isoformat(),
    }
    for name in ("last_attendance_date", "first_absence_date", "parents"):
        if data.get(name):
            start[name] = data[name]
    if isinstance(data.get("new_address"), dict):
        start["known_address"] = data["new_address"]
    return start
