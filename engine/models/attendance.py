"""Attendance storage: one compact mark string per enrolment and school year, the history of
corrections, the files imported, and CTF attendance summaries.

``attendance_year.marks`` holds 732 bytes: two per calendar day from 1 September (AM, PM), each a
code byte from :mod:`engine.attendance.codes` or 0 for no mark (layout in
:mod:`engine.attendance.layout`). 250,000 pupils take about 180 MB, so a whole LA's year can be read
into memory and scanned by alert rules at memory speed.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, Integer, LargeBinary, SmallInteger, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base
from .types import UtcDateTime


class AttendanceYear(Base):
    """The marks of one enrolment for one school year (``school_year`` 2025 = 2025/26).

    ``establishment_id`` repeats the enrolment's establishment (which never changes) so that one
    establishment's marks are read with one index range, without a join.
    """

    __tablename__ = "attendance_year"
    __table_args__ = (Index("ix_attendance_year_establishment", "school_year", "establishment_id"),)

    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolment.id"), primary_key=True)
    school_year: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    establishment_id: Mapped[int] = mapped_column(ForeignKey("establishment.id"))
    marks: Mapped[bytes] = mapped_column(LargeBinary)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class AttendanceImport(Base):
    """One run of ``educase attendance import``: what the file was and what came of it."""

    __tablename__ = "attendance_import"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    file_name: Mapped[str] = mapped_column(String(500))
    format: Mapped[str] = mapped_column(String(20))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    imported_at: Mapped[datetime] = mapped_column(UtcDateTime)
    imported_by: Mapped[str | None] = mapped_column(String(100))
    summary: Mapped[dict[str, Any]]


class MarkCorrection(Base):
    """A mark that an import changed (say N to I): the old and new code, when, and from which file."""

    __tablename__ = "attendance_correction"
    __table_args__ = (Index("ix_attendance_correction_enrolment", "enrolment_id", "session_date"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolment.id"))
    session_date: Mapped[date] = mapped_column(Date)
    session: Mapped[str] = mapped_column(String(2))
    old_code: Mapped[str] = mapped_column(String(2))
    new_code: Mapped[str] = mapped_column(String(2))
    corrected_at: Mapped[datetime] = mapped_column(UtcDateTime)
    import_id: Mapped[int | None] = mapped_column(ForeignKey("attendance_import.id"), index=True)
    source: Mapped[str] = mapped_column(String(500))


class AttendanceSummary(Base):
    """Session counts for a year at one establishment, as a Common Transfer File reports them
    (no session marks): possible, attended, authorised and unauthorised absence."""

    __tablename__ = "attendance_summary"
    __table_args__ = (UniqueConstraint("enrolment_id", "school_year"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolment.id"))
    school_year: Mapped[int] = mapped_column(SmallInteger)
    sessions_possible: Mapped[int] = mapped_column(Integer)
    sessions_attended: Mapped[int] = mapped_column(Integer)
    sessions_authorised: Mapped[int] = mapped_column(Integer)
    sessions_unauthorised: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(500))
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
