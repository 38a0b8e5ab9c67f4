"""Finding pupils by name, UPN or school. LA staff search the whole LA; a school user finds only
pupils who are (or were) on their own school's roll, whatever they type."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, exists, func, select

from ..access import Principal
from ..episodes.lookup import today_in
from ..models.people import Enrolment, Establishment, Pupil

if TYPE_CHECKING:
    from ..context import Context

PAGE_SIZE = 25
MAX_TERMS = 4
UPN_LIKE = re.compile(r"[A-Za-z]\d{11}[A-Za-z0-9]")


@dataclass(frozen=True)
class PupilHit:
    upn: str | None
    name: str
    date_of_birth: date
    schools: list[str]  # the schools whose roll the pupil is on today


@dataclass
class PupilSearch:
    text: str
    laestab: str
    page: int
    searched: bool
    hits: list[PupilHit] = field(default_factory=list)
    has_next: bool = False
    schools: list[tuple[str, str]] = field(default_factory=list)  # (LAESTAB, name) a person may choose


def search_pupils(
    ctx: Context, principal: Principal, text: str = "", laestab: str = "", page: int = 1
) -> PupilSearch:
    """Pupils matching every word of ``text`` (the start of a forename, preferred name or surname; or
    a whole UPN), at ``laestab`` if given; ordered by surname, a page at a time."""
    text, laestab, page = text.strip()[:100], laestab.strip(), max(1, page)
    if principal.is_school:
        laestab = principal.establishment or "-"
    found = PupilSearch(text, laestab, page, searched=bool(text or laestab))
    with ctx.db.transaction() as session:
        found.schools = _schools(session, principal)
        if not found.searched:
            return found
        query = _matching(text, laestab).order_by(Pupil.surname, Pupil.forename, Pupil.id)
        rows = session.execute(query.limit(PAGE_SIZE + 1).offset((page - 1) * PAGE_SIZE)).all()
        schools = _current_schools(session, [r.id for r in rows[:PAGE_SIZE]], today_in(ctx), principal)
    found.hits = [
        PupilHit(r.upn, f"{r.preferred_forename or r.forename} {r.surname}", r.date_of_birth, schools[r.id])
        for r in rows[:PAGE_SIZE]
    ]
    found.has_next = len(rows) > PAGE_SIZE
    return found


def _matching(text: str, laestab: str) -> Select[Any]:
    query = select(
        Pupil.id, Pupil.upn, Pupil.forename, Pupil.preferred_forename, Pupil.surname, Pupil.date_of_birth
    )
    if UPN_LIKE.fullmatch(text.replace(" ", "")):
        query = query.where(Pupil.upn == text.replace(" ", "").upper())
    else:
        for term in text.lower().split()[:MAX_TERMS]:
            query = query.where(
                func.lower(Pupil.surname).startswith(term, autoescape=True)
                | func.lower(Pupil.forename).startswith(term, autoescape=True)
                | func.lower(Pupil.preferred_forename).startswith(term, autoescape=True)
            )
    if laestab:
        at_school = (
            select(Enrolment.id)
            .join(Establishment, Establishment.id == Enrolment.establishment_id)
            .where(Enrolment.pupil_id == Pupil.id, Establishment.laestab == laestab)
        )
        query = query.where(exists(at_school))
    return query


def _current_schools(
    session: Any, pupil_ids: list[int], today: date, principal: Principal
) -> dict[int, list[str]]:
    """The schools each pupil is on roll at today (a school user sees only their own school named)."""
    found: dict[int, list[str]] = defaultdict(list)
    if not pupil_ids:
        return found
    rows = session.execute(
        select(Enrolment.pupil_id, Establishment.laestab, Establishment.name)
        .join(Establishment, Establishment.id == Enrolment.establishment_id)
        .where(
            Enrolment.pupil_id.in_(pupil_ids),
            Enrolment.start_date <= today,
            Enrolment.end_date.is_(None) | (Enrolment.end_date >= today),
        )
        .order_by(Establishment.name)
    )
    for pupil_id, laestab, name in rows:
        if not principal.is_school or laestab == principal.establishment:
            found[pupil_id].append(name)
    return found


def _schools(session: Any, principal: Principal) -> list[tuple[str, str]]:
    query = select(Establishment.laestab, Establishment.name).order_by(Establishment.name)
    if principal.is_school:
        query = query.where(Establishment.laestab == (principal.establishment or "-"))
    return [(laestab, name) for laestab, name in session.execute(query)]
