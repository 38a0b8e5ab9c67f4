"""Pupil and enrolment records as the imports read them, and writing them idempotently.

A pupil is identified by UPN, an enrolment by (pupil, establishment, start date). Writing a record
that matches what is stored changes nothing; a field the file leaves blank keeps its stored value.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models.people import Enrolment, Pupil
from ..identifiers import Upn
from .report import INVALID_VALUE, RowRejected


@dataclass(frozen=True)
class PupilRecord:
    """A pupil's details as a file gives them (None: not given)."""

    upn: Upn
    forename: str
    surname: str
    date_of_birth: date
    uln: str | None = None
    middle_names: str | None = None
    preferred_forename: str | None = None
    sex: str | None = None
    address: str | None = None
    postcode: str | None = None
    uprn: str | None = None


@dataclass(frozen=True)
class EnrolmentRecord:
    """A place on an establishment's roll as a file gives it."""

    establishment_id: int
    start_date: date
    registration: str = "single"
    year_group: str | None = None
    end_date: date | None = None
    deletion_ground: str | None = None

    def __post_init__(self) -> None:
        if self.end_date is not None and self.end_date < self.start_date:
            raise RowRejected(
                INVALID_VALUE, f"end date {self.end_date} is before the start date {self.start_date}"
            )
        if self.deletion_ground and self.end_date is None:
            raise RowRejected(
                INVALID_VALUE, "a deletion ground needs an end date (deletion is never open-ended)"
            )


class RollWriter:
    """Creates or updates pupils and enrolments within one transaction, counting what changed."""

    def __init__(self, session: Session, now: datetime, changes: Counter[str]) -> None:
        self.session, self.now, self.changes = session, now, changes
        self._pupils: dict[str, Pupil] = {}
        self._enrolments: dict[tuple[int, int, date], Enrolment] = {}
        self._loaded: set[str] = set()

    def preload(self, upns: Iterable[str]) -> None:
        """Read the pupils (and their enrolments) a file mentions, in a few queries."""
        wanted = [u for u in dict.fromkeys(upns) if u not in self._loaded]
        for i in range(0, len(wanted), 2000):
            chunk = wanted[i : i + 2000]
            self._loaded.update(chunk)
            pupils = list(self.session.scalars(select(Pupil).where(Pupil.upn.in_(chunk))))
            self._pupils.update((p.upn, p) for p in pupils if p.upn)
            ids = [p.id for p in pupils]
            for e in self.session.scalars(select(Enrolment).where(Enrolment.pupil_id.in_(ids))):
                self._enrolments[(e.pupil_id, e.establishment_id, e.start_date)] = e

    def pupil(self, record: PupilRecord) -> Pupil:
        """The stored pupil for ``record``, created or brought up to date."""
        self.preload([record.upn.value])
        values = {k: v for k, v in asdict(record).items() if k != "upn" and v is not None}
        values["upn_temporary"] = record.upn.temporary
        found = self._pupils.get(record.upn.value)
        if found is None:
            found = Pupil(upn=record.upn.value, updated_at=self.now, **values)
            self.session.add(found)
            self.session.flush()
            self._pupils[record.upn.value] = found
            self.changes["pupils_created"] += 1
        elif _update(found, values):
            found.updated_at = self.now
            self.changes["pupils_updated"] += 1
        return found

    def enrolment(self, pupil: Pupil, record: EnrolmentRecord) -> Enrolment:
        """The stored enrolment for ``record``, created or brought up to date."""
        key = (pupil.id, record.establishment_id, record.start_date)
        values = {
            "registration": record.registration,
            "year_group": record.year_group,
            "end_date": record.end_date,
            "deletion_ground": record.deletion_ground,
        }
        found = self._enrolments.get(key)
        if found is None:
            found = Enrolment(
                pupil_id=pupil.id,
                establishment_id=record.establishment_id,
                start_date=record.start_date,
                updated_at=self.now,
                **values,
            )
            self.session.add(found)
            self.session.flush()
            self._enrolments[key] = found
            self.changes["enrolments_created"] += 1
        elif _update(found, {k: v for k, v in values.items() if v is not None}):
            found.updated_at = self.now
            self.changes["enrolments_updated"] += 1
        return found

    def known_pupil(self, upn: str) -> Pupil | None:
        """The stored pupil with this UPN, if :meth:`preload` or this import found or made one."""
        return self._pupils.get(upn)

    def enrolment_during(
        self, pupil_id: int, establishment_id: int, first: date, last: date
    ) -> Enrolment | None:
        """A known enrolment of the pupil at the establishment overlapping ``first``..``last``."""
        for (pid, est, _start), e in self._enrolments.items():
            overlaps = e.start_date <= last and (e.end_date is None or e.end_date >= first)
            if pid == pupil_id and est == establishment_id and overlaps:
                return e
        return None


def _update(row: object, values: dict[str, object]) -> bool:
    """Set the attributes that differ; whether any did."""
    changed = False
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    return changed
