"""Shared by the alert integration tests: a small LA written straight into the database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select

from engine import clock
from engine.attendance.store import YearRow, save_years
from engine.models.alerts import Alert
from engine.models.people import Enrolment, Establishment, Pupil, PupilFlag
from tests.unit.alert_support import Register, school_days

CASTLE_PARK, RIVERSIDE = "8814001", "8812001"
#: Mon 16 - Fri 20 March 2026, the week most tests evaluate in.
MON, TUE, WED, THU, FRI = (date(2026, 3, d) for d in (16, 17, 18, 19, 20))


@dataclass(frozen=True)
class Enrolled:
    pupil_id: int
    enrolment_id: int
    establishment_id: int
    upn: str


def school(
    ctx, laestab: str = CASTLE_PARK, phase: str = "secondary", name: str = "Castle Park School"
) -> int:
    with ctx.db.transaction() as session:
        found = session.scalar(select(Establishment.id).where(Establishment.laestab == laestab))
        if found:
            return found
        row = Establishment(laestab=laestab, urn=f"1{laestab[-5:]}", name=name, phase=phase,
                            type="academy", updated_at=clock.now())  # fmt: skip
        session.add(row)
        session.flush()
        return row.id


def pupil(ctx, upn: str, laestab: str = CASTLE_PARK, flags: list[tuple[str, list[str]]] = ()) -> Enrolled:
    """A pupil on roll at ``laestab`` since 2021, with optional shared flags ``(flag, visible_to)``."""
    establishment_id = school(ctx, laestab)
    with ctx.db.transaction() as session:
        now = clock.now()
        row = Pupil(upn=upn, forename="Test", surname=f"Pupil {upn[-3:]}", date_of_birth=date(2012, 5, 2),
                    updated_at=now)  # fmt: skip
        session.add(row)
        session.flush()
        enrolment = Enrolment(pupil_id=row.id, establishment_id=establishment_id, registration="single",
                              start_date=date(2021, 9, 3), updated_at=now)  # fmt: skip
        session.add(enrolment)
        for flag, visible_to in flags:
            session.add(PupilFlag(pupil_id=row.id, flag=flag, set_by_service="Children's Social Care",
                                  visible_to=visible_to, start_date=date(2024, 1, 1), created_at=now))  # fmt: skip
        session.flush()
        return Enrolled(row.id, enrolment.id, establishment_id, upn)


def write_marks(ctx, who: Enrolled, register: Register) -> None:
    with ctx.db.transaction() as session:
        save_years(
            session, 2025, [YearRow(who.enrolment_id, who.establishment_id, bytes(register))], clock.now()
        )


def alerts(ctx, rule_id: str | None = None) -> list[Alert]:
    with ctx.db.transaction() as session:
        query = select(Alert).order_by(Alert.id)
        if rule_id:
            query = query.where(Alert.rule_id == rule_id)
        return list(session.scalars(query))


def count_alerts(ctx) -> int:
    with ctx.db.transaction() as session:
        return session.scalar(select(func.count()).select_from(Alert))


def days_to(day: date) -> list[date]:
    return school_days(day)
