"""A school user's own establishment and the pupils on its roll: all they may see of pupils.

Every function takes the school user's :class:`Principal`; anyone else, or a pupil who is not on
their school's roll, gets "not found".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session

from ..access import Principal, require
from ..episodes.lookup import today_in
from ..models.people import Enrolment, Establishment, Pupil
from ..portal.actions import RollPupil, School
from . import audit

if TYPE_CHECKING:
    from ..context import Context

PAGE_SIZE = 50


@dataclass(frozen=True)
class RollPage:
    school: School
    pupils: list[RollPupil]
    search: str
    page: int
    has_next: bool


def school_of(ctx: Context, principal: Principal) -> School:
    """The school user's establishment (not found for anyone else, or a school the LA does not list)."""
    with ctx.db.transaction() as session:
        return own_school(session, principal)


def roll(ctx: Context, principal: Principal, *, search: str = "", page: int = 1) -> RollPage:
    """The pupils on the school's roll today, by surname; ``search``: part of a name, or a UPN."""
    today, page = today_in(ctx), max(1, page)
    with ctx.db.transaction() as session:
        school = own_school(session, principal)
        query = _on_roll(school.id, today).order_by(Pupil.surname, Pupil.forename, Pupil.id)
        if search.strip():
            query = query.where(_matching(search))
        rows = session.execute(query.limit(PAGE_SIZE + 1).offset((page - 1) * PAGE_SIZE)).all()
        audit.record(session, principal, "view", "roll", school.laestab, {"search": search, "page": page})
        pupils = [roll_pupil(*row) for row in rows[:PAGE_SIZE]]
        return RollPage(school, pupils, search, page, len(rows) > PAGE_SIZE)


def pupil_on_roll(
    session: Session, principal: Principal, pupil_id: int, today: date
) -> tuple[RollPupil, School]:
    """A pupil on the school user's roll today, and the school (not found otherwise)."""
    school = own_school(session, principal)
    row = session.execute(_on_roll(school.id, today).where(Pupil.id == pupil_id).limit(1)).first()
    require(row is not None, "pupil")
    assert row is not None
    return roll_pupil(*row), school


def own_school(session: Session, principal: Principal) -> School:
    require(principal.is_school and bool(principal.establishment), "school")
    row = session.scalar(select(Establishment).where(Establishment.laestab == principal.establishment))
    require(row is not None, "school")
    assert row is not None
    return School(row.id, row.laestab, row.urn, row.name)


def roll_pupil(pupil: Pupil, enrolment: Enrolment) -> RollPupil:
    return RollPupil(
        id=pupil.id,
        upn=pupil.upn,
        forename=pupil.forename,
        surname=pupil.surname,
        preferred_forename=pupil.preferred_forename,
        date_of_birth=pupil.date_of_birth,
        year_group=enrolment.year_group,
        registration=enrolment.registration,
        start_date=enrolment.start_date,
        end_date=enrolment.end_date,
    )


def _on_roll(establishment_id: int, today: date) -> Select[Any]:
    return (
        select(Pupil, Enrolment)
        .join(Enrolment, Enrolment.pupil_id == Pupil.id)
        .where(
            Enrolment.establishment_id == establishment_id,
            Enrolment.start_date <= today,
            (Enrolment.end_date.is_(None)) | (Enrolment.end_date >= today),
        )
    )


def _matching(search: str) -> Any:
    words = search.strip().lower().split()[:4]
    conditions = [
        or_(
            func.lower(Pupil.forename).contains(word, autoescape=True),
            func.lower(Pupil.surname).contains(word, autoescape=True),
            func.lower(func.coalesce(Pupil.preferred_forename, "")).contains(word, autoescape=True),
            func.lower(func.coalesce(Pupil.upn, "")) == word,
        )
        for word in words
    ]
    return and_(*conditions)
