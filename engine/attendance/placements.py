"""AP placements start when the attendance feed says so: the first attended session at the provider."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models.people import APPlacement, Enrolment
from .codes import CATEGORY_TABLE, Category
from .layout import offset_of, school_year_of, session_at
from .store import load_years

#: Sessions that show the pupil was there: present, or an approved educational activity (K, B...).
_ATTENDED = bytes(
    int(CATEGORY_TABLE[b] in (Category.PRESENT, Category.EDUCATIONAL_ACTIVITY)) for b in range(256)
)


def record_actual_starts(session: Session) -> int:
    """Set ``actual_start`` on placements that have none, from the first attended session at the
    provider on or after the proposed start (in the proposed start's school year). Returns how many."""
    open_placements = session.scalars(select(APPlacement).where(APPlacement.actual_start.is_(None))).all()
    started = 0
    for placement in open_placements:
        school_year = school_year_of(placement.proposed_start)
        enrolment_ids = session.scalars(
            select(Enrolment.id).where(
                Enrolment.pupil_id == placement.pupil_id, Enrolment.establishment_id == placement.provider_id
            )
        ).all()
        first = offset_of(placement.proposed_start, 0)
        found = [
            offset
            for marks in load_years(session, school_year, enrolment_ids=enrolment_ids).values()
            if (offset := marks.translate(_ATTENDED).find(1, first)) >= 0
        ]
        if found:
            placement.actual_start = session_at(school_year, min(found))[0]
            started += 1
    return started
