"""Reading an episode's subject (a pupil or an establishment) with the values its bound fields take."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import case, select
from sqlalchemy.orm import Session

from engine.errors import InvalidInput, NotFound
from engine.models.people import Enrolment, Establishment, Pupil

from .binding import ESTABLISHMENT, PUPIL, Subject


def load_subject(
    session: Session, *, pupil_id: int | None = None, establishment_id: int | None = None, today: date
) -> Subject:
    """The pupil or the establishment (exactly one must be given); NotFound when it does not exist."""
    if (pupil_id is None) == (establishment_id is None):
        raise InvalidInput("An episode is about one pupil or one establishment: give exactly one of them.")
    if pupil_id is not None:
        return pupil_subject(session, pupil_id, today)
    return establishment_subject(session, establishment_id or 0)


def pupil_subject(session: Session, pupil_id: int, today: date) -> Subject:
    """A pupil, with their current school: the enrolment on roll ``today`` (main or single registration
    first), otherwise the latest one they had."""
    pupil = session.get(Pupil, pupil_id)
    if pupil is None:
        raise NotFound("There is no such pupil.")
    school = _current_school(session, pupil_id, today)
    values = {
        "pupil.name": pupil.full_name,
        "pupil.forename": pupil.forename,
        "pupil.surname": pupil.surname,
        "pupil.upn": pupil.upn,
        "pupil.date_of_birth": pupil.date_of_birth.isoformat(),
        "pupil.year_group": school[2] if school else None,
        "pupil.school_name": school[0] if school else None,
        "pupil.school_laestab": school[1] if school else None,
    }
    return Subject(PUPIL, pupil.id, pupil.full_name, pupil.upn, values)


def establishment_subject(session: Session, establishment_id: int) -> Subject:
    establishment = session.get(Establishment, establishment_id)
    if establishment is None:
        raise NotFound("There is no such establishment.")
    values = {
        "establishment.name": establishment.name,
        "establishment.laestab": establishment.laestab,
        "establishment.urn": establishment.urn,
    }
    return Subject(ESTABLISHMENT, establishment.id, establishment.name, establishment.laestab, values)


def _current_school(session: Session, pupil_id: int, today: date) -> tuple[str, str, str | None] | None:
    on_roll = (Enrolment.start_date <= today) & (
        (Enrolment.end_date.is_(None)) | (Enrolment.end_date >= today)
    )
    row = session.execute(
        select(Establishment.name, Establishment.laestab, Enrolment.year_group)
        .join(Enrolment, Enrolment.establishment_id == Establishment.id)
        .where(Enrolment.pupil_id == pupil_id)
        .order_by(
            case((on_roll, 0), else_=1),
            case((Enrolment.registration == "subsidiary", 1), else_=0),
            Enrolment.start_date.desc(),
            Enrolment.id.desc(),
        )
        .limit(1)
    ).first()
    return (row[0], row[1], row[2]) if row else None


def start_data(subject: Subject, extra: dict[str, Any], *, episode_id: int) -> dict[str, Any]:
    """The initial data of a process started with an episode: the subject as the shipped processes
    read it (``pupil``, ``school``), the episode's id, then ``extra`` (winning, one level deep)."""
    v = subject.values
    if subject.kind == PUPIL:
        pupil = {
            "upn": v["pupil.upn"],
            "name": v["pupil.name"],
            "first_name": v["pupil.forename"],
            "last_name": v["pupil.surname"],
            "date_of_birth": v["pupil.date_of_birth"],
        }
        data = {
            "pupil": pupil,
            "school": {"name": v["pupil.school_name"], "laestab": v["pupil.school_laestab"]},
        }
    else:
        school = {
            "name": v["establishment.name"],
            "laestab": v["establishment.laestab"],
            "urn": v["establishment.urn"],
        }
        data = {"school": school}
    data = {key: {k: value for k, value in part.items() if value is not None} for key, part in data.items()}
    merged: dict[str, Any] = {**data, "episode_id": episode_id}
    for key, value in extra.items():
        merged[key] = {**data[key], **value} if isinstance(value, dict) and key in data else value
    return merged
