"""Shared by the attendance integration tests: the example pupils and ways to look at what was stored."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import func, select

from engine.attendance import codes
from engine.attendance.layout import offset_of
from engine.attendance.store import load_years
from engine.models.attendance import AttendanceYear, MarkCorrection
from engine.models.people import Enrolment, Establishment, Pupil
from tests.conftest import FIXTURES

DATA = FIXTURES / "attendance"
AMELIA, OLIVER, ISLA, LEO, MAYA = (
    "T881200117001",
    "G881200117002",
    "G881200118003",
    "R881400114006",
    "J88120012509A",
)
RIVERSIDE, CASTLE_PARK, PRU = "8812001", "8814001", "8811100"
HEADER = "upn,laestab,date,session,code\n"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def marks_of(ctx, upn: str, laestab: str, school_year: int = 2025) -> bytes:
    with ctx.db.transaction() as session:
        enrolment_id = session.scalar(
            select(Enrolment.id)
            .join(Pupil, Pupil.id == Enrolment.pupil_id)
            .join(Establishment, Establishment.id == Enrolment.establishment_id)
            .where(Pupil.upn == upn, Establishment.laestab == laestab)
        )
        return load_years(session, school_year, enrolment_ids=[enrolment_id]).get(enrolment_id, b"")


def code_at(ctx, upn: str, laestab: str, day: str, session: int) -> str:
    string = marks_of(ctx, upn, laestab)
    return codes.decode(string[offset_of(date.fromisoformat(day), session)]) if string else ""


def snapshot(ctx) -> tuple:
    """Everything an import can change, to compare before and after."""
    with ctx.db.transaction() as session:
        return (
            sorted(session.execute(select(AttendanceYear.enrolment_id, AttendanceYear.marks)).all()),
            session.scalar(select(func.count()).select_from(MarkCorrection)),
            sorted(session.execute(select(Pupil.upn, Pupil.surname, Pupil.address, Pupil.updated_at)).all()),
            sorted(session.execute(select(Enrolment.id, Enrolment.end_date, Enrolment.updated_at)).all()),
        )
