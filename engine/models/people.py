"""Establishments, pupils and what ties them: enrolments, part-time timetables, AP placements,
suspensions and exclusions, and the flags other services share (EHCP, CLA, CP...).

Identifiers follow domain.md section 7. Allowed values of the string "kind" columns are listed in
:mod:`engine.attendance.vocabulary`, which the services check; the database stores plain strings so that
a new value needs no migration.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base
from .types import UtcDateTime


class Establishment(Base):
    """A school, PRU or alternative provider, identified by its LAESTAB (DfE number)."""

    __tablename__ = "establishment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    laestab: Mapped[str] = mapped_column(String(7), unique=True)
    urn: Mapped[str | None] = mapped_column(String(6), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    phase: Mapped[str] = mapped_column(String(30))
    type: Mapped[str] = mapped_column(String(40))
    is_alternative_provision: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Pupil(Base):
    """A child. ``upn_temporary`` flags a temporary UPN (ending in a letter) to be replaced."""

    __tablename__ = "pupil"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    upn: Mapped[str | None] = mapped_column(String(13), unique=True)
    upn_temporary: Mapped[bool] = mapped_column(Boolean, default=False)
    uln: Mapped[str | None] = mapped_column(String(10))
    forename: Mapped[str] = mapped_column(String(100))
    middle_names: Mapped[str | None] = mapped_column(String(200))
    surname: Mapped[str] = mapped_column(String(100))
    preferred_forename: Mapped[str | None] = mapped_column(String(100))
    date_of_birth: Mapped[date] = mapped_column(Date)
    sex: Mapped[str | None] = mapped_column(String(1))
    address: Mapped[str | None] = mapped_column(Text)  # lines separated by newlines
    postcode: Mapped[str | None] = mapped_column(String(10))
    uprn: Mapped[str | None] = mapped_column(String(12))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)

    @property
    def full_name(self) -> str:
        return f"{self.preferred_forename or self.forename} {self.surname}"


class Enrolment(Base):
    """A pupil on an establishment's roll. Dual registration is two enrolments: ``main`` and
    ``subsidiary``; otherwise ``single``. Measures are per enrolment."""

    __tablename__ = "enrolment"
    __table_args__ = (
        UniqueConstraint("pupil_id", "establishment_id", "start_date"),
        Index("ix_enrolment_establishment_dates", "establishment_id", "start_date", "end_date"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupil.id"), index=True)
    establishment_id: Mapped[int] = mapped_column(ForeignKey("establishment.id"))
    registration: Mapped[str] = mapped_column(String(20))  # single / main / subsidiary
    year_group: Mapped[str | None] = mapped_column(String(3))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    deletion_ground: Mapped[str | None] = mapped_column(String(60))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)

    pupil: Mapped[Pupil] = relationship(lazy="raise_on_sql")
    establishment: Mapped[Establishment] = relationship(lazy="raise_on_sql")

    def on_roll(self, day: date) -> bool:
        """Whether the pupil is on this roll on ``day``."""
        return self.start_date <= day and (self.end_date is None or day <= self.end_date)


class PartTimeTimetable(Base):
    """An agreed part-time timetable: time-limited, reviewed; absent sessions are coded C2."""

    __tablename__ = "part_time_timetable"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolment.id"), index=True)
    hours_per_week: Mapped[float] = mapped_column(Float)
    start_date: Mapped[date] = mapped_column(Date)
    review_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(Text)
    agreed_with_parent: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class APPlacement(Base):
    """A placement in alternative provision. ``actual_start`` comes from the attendance feed (the
    first attended session at the provider); until then the proposed start is all there is."""

    __tablename__ = "ap_placement"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupil.id"), index=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("establishment.id"), index=True)
    home_enrolment_id: Mapped[int | None] = mapped_column(ForeignKey("enrolment.id"))
    arranged_by: Mapped[str] = mapped_column(String(10))  # la (s.19, code K) / school (code B)
    reason: Mapped[str | None] = mapped_column(String(100))
    hours_per_week: Mapped[float | None] = mapped_column(Float)
    proposed_start: Mapped[date] = mapped_column(Date)
    actual_start: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Exclusion(Base):
    """A suspension (fixed period), lunchtime suspension or permanent exclusion.

    ``length_days`` is in school days (empty for a permanent exclusion); each lunchtime session counts
    as half a day (domain.md section 4).
    """

    __tablename__ = "exclusion"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolment.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))  # suspension / lunchtime / permanent
    start_date: Mapped[date] = mapped_column(Date)
    length_days: Mapped[float | None] = mapped_column(Float)
    lunchtime_sessions: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class PupilFlag(Base):
    """A flag shared by another service (EHCP, SEN Support, CLA, CIN, CP, young carer).

    ``visible_to`` lists the roles or teams allowed to see it; an empty list means every member of
    staff. Access control reads it; this table only records it.
    """

    __tablename__ = "pupil_flag"
    __table_args__ = (Index("ix_pupil_flag_pupil_flag", "pupil_id", "flag"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupil.id"))
    flag: Mapped[str] = mapped_column(String(20))
    set_by_service: Mapped[str] = mapped_column(String(100))
    set_by: Mapped[str | None] = mapped_column(String(100))
    visible_to: Mapped[list[Any]]
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
