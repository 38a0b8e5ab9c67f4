"""Who is where: establishments by LAESTAB and enrolments by (UPN, establishment), read once per
import so that checking a row costs dictionary look-ups, not queries."""

from __future__ import annotations

from bisect import insort
from collections import defaultdict
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models.people import Enrolment, Establishment, Pupil
from ..codes import BY_CODE
from ..identifiers import InvalidIdentifier, validate_laestab
from .report import NOT_ON_ROLL, OTHER_ESTABLISHMENT, UNKNOWN_ESTABLISHMENT, RowRejected

_PROSPECTIVE = BY_CODE["Z"].byte

#: Establishments read one query each before the rest are read together.
LOAD_ALL_AFTER = 10

#: (start, end or None, enrolment id), sorted by start.
Span = tuple[date, date | None, int]


class Directory:
    """Establishments and enrolments known to the database (plus those an import adds)."""

    def __init__(self, session: Session, *, only_laestab: str | None = None) -> None:
        self.session = session
        self.only_laestab = only_laestab  # a school's own file may name no other establishment
        rows = session.execute(select(Establishment.laestab, Establishment.id))
        self.establishments: dict[str, int] = {laestab: id_ for laestab, id_ in rows}
        self._spans: dict[int, dict[str, list[Span]]] = {}
        self._laestab_checked: dict[str, int | RowRejected] = {}
        self._laestabs: dict[int, str] = {}

    def establishment_id(self, laestab: str) -> int:
        """The id of the establishment with this LAESTAB, or a rejection."""
        found = self._laestab_checked.get(laestab)
        if found is None:
            found = self._laestab_checked[laestab] = self._find(laestab)
        if isinstance(found, RowRejected):
            raise RowRejected(found.reason, found.detail)
        return found

    def _find(self, text: str) -> int | RowRejected:
        try:
            laestab = validate_laestab(text)
        except InvalidIdentifier as error:
            return RowRejected(UNKNOWN_ESTABLISHMENT, str(error))
        if self.only_laestab is not None and laestab != self.only_laestab:
            return RowRejected(
                OTHER_ESTABLISHMENT,
                f"this row is about establishment {laestab}; a school may send rows about its own "
                f"pupils only ({self.only_laestab}). Send the other school's rows to that school.",
            )
        found = self.establishments.get(laestab)
        if found is None:
            return RowRejected(
                UNKNOWN_ESTABLISHMENT,
                f"no establishment with LAESTAB {laestab}: load it first (import --format establishments)",
            )
        return found

    def enrolment_for(self, upn: str, establishment_id: int, day: date, code_byte: int) -> int:
        """The enrolment of ``upn`` at the establishment on ``day``.

        A ``Z`` mark (prospective pupil) is recorded before the pupil joins, so it goes to the next
        enrolment starting after ``day``.
        """
        spans = self._spans_at(establishment_id).get(upn)
        if spans:
            for start, end, enrolment_id in spans:
                if start <= day and (end is None or day <= end):
                    return enrolment_id
            if code_byte == _PROSPECTIVE:
                later = [s for s in spans if s[0] > day]
                if later:
                    return later[0][2]
        raise RowRejected(
            NOT_ON_ROLL,
            f"pupil {upn} is not on the roll of establishment {self.laestab_of(establishment_id)} on "
            f"{day.isoformat()}: import the roll first",
        )

    def laestab_of(self, establishment_id: int) -> str:
        if len(self._laestabs) != len(self.establishments):
            self._laestabs = {v: k for k, v in self.establishments.items()}
        return self._laestabs.get(establishment_id, "?")

    def add_enrolment(self, upn: str, establishment_id: int, span: Span) -> None:
        """Make an enrolment created during this import visible to later rows."""
        spans = self._spans_at(establishment_id).setdefault(upn, [])
        spans[:] = [s for s in spans if s[2] != span[2]]
        insort(spans, span)

    def _spans_at(self, establishment_id: int) -> dict[str, list[Span]]:
        found = self._spans.get(establishment_id)
        if found is None:
            # A file for one school reads that school's roll; a feed for the whole LA would cost a
            # query per establishment, so past a few establishments the rest are read in one go.
            if len(self._spans) < LOAD_ALL_AFTER:
                self._spans.update(self._load([establishment_id]))
            else:
                self._spans.update(
                    self._load([e for e in self.establishments.values() if e not in self._spans])
                )
            found = self._spans.setdefault(establishment_id, {})
        return found

    def _load(self, establishment_ids: list[int]) -> dict[int, dict[str, list[Span]]]:
        query = (
            select(
                Enrolment.establishment_id, Pupil.upn, Enrolment.start_date, Enrolment.end_date, Enrolment.id
            )
            .join(Pupil, Pupil.id == Enrolment.pupil_id)
            .where(Pupil.upn.is_not(None))
        )
        if len(establishment_ids) == 1:
            query = query.where(Enrolment.establishment_id == establishment_ids[0])
        spans: dict[int, dict[str, list[Span]]] = {e: defaultdict(list) for e in establishment_ids}
        for establishment_id, upn, start, end, enrolment_id in self.session.execute(query).all():
            if establishment_id in spans:
                spans[establishment_id][upn].append((start, end, enrolment_id))
        for by_upn in spans.values():
            for value in by_upn.values():
                value.sort()
        return {e: dict(by_upn) for e, by_upn in spans.items()}
