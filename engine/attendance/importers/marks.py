"""Applying accepted marks to the store: new marks, corrections (with history) and unchanged marks.

Marks are gathered first and written once at the end: each enrolment-year's mark string is read,
patched in memory and written back only if it changed, so importing the same file twice changes
nothing. Within one file a later row for the same session wins over an earlier one; the history
compares the final value with what was stored before the file.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection
from datetime import datetime

from sqlalchemy.orm import Session

from ...models.attendance import MarkCorrection
from ..bulk import insert_rows
from ..codes import decode
from ..layout import YEAR_BYTES, session_at
from ..store import YearRow, load_years, save_years

#: (enrolment id, school year, offset, old byte, new byte)
Correction = tuple[int, int, int, int, int]
_FEW_ENROLMENTS = 5000  # below this, read mark strings by enrolment id; above, by establishment


class MarkBatch:
    """Accepted marks waiting to be written, keyed by school year and enrolment."""

    def __init__(self) -> None:
        self._pending: dict[int, dict[int, dict[int, int]]] = defaultdict(dict)
        self._establishment: dict[int, int] = {}

    def add(
        self, enrolment_id: int, establishment_id: int, school_year: int, offset: int, code_byte: int
    ) -> None:
        """Queue one session's code (``offset`` from :func:`engine.attendance.layout.offset_of`)."""
        year = self._pending[school_year]
        slots = year.get(enrolment_id)
        if slots is None:
            slots = year[enrolment_id] = {}
            self._establishment[enrolment_id] = establishment_id
        slots[offset] = code_byte

    def __len__(self) -> int:
        return sum(len(slots) for year in self._pending.values() for slots in year.values())

    def apply(self, session: Session, now: datetime, source: str, import_id: int | None) -> Counter[str]:
        """Write the marks; returns counts of ``marks_added``, ``marks_corrected``, ``marks_unchanged``."""
        changes: Counter[str] = Counter()
        for school_year, by_enrolment in sorted(self._pending.items()):
            existing = self._read(session, school_year, by_enrolment.keys())
            rows, corrections = self._patch(school_year, by_enrolment, existing, changes)
            save_years(session, school_year, rows, now)
            _record(session, corrections, now, source, import_id)
        return changes

    def _read(self, session: Session, school_year: int, enrolment_ids: Collection[int]) -> dict[int, bytes]:
        ids = list(enrolment_ids)
        if len(ids) < _FEW_ENROLMENTS:
            return load_years(session, school_year, enrolment_ids=ids)
        establishments = {self._establishment[e] for e in ids}
        return load_years(session, school_year, establishment_ids=establishments)

    def _patch(
        self,
        school_year: int,
        by_enrolment: dict[int, dict[int, int]],
        existing: dict[int, bytes],
        changes: Counter[str],
    ) -> tuple[list[YearRow], list[Correction]]:
        rows: list[YearRow] = []
        corrections: list[Correction] = []
        added = corrected = unchanged = 0
        for enrolment_id, slots in by_enrolment.items():
            old = existing.get(enrolment_id)
            marks = bytearray(old) if old is not None else bytearray(YEAR_BYTES)
            changed = False
            for offset, new in slots.items():
                previous = marks[offset]
                if previous == new:
                    unchanged += 1
                    continue
                marks[offset] = new
                changed = True
                if previous:
                    corrected += 1
                    corrections.append((enrolment_id, school_year, offset, previous, new))
                else:
                    added += 1
            if changed:
                rows.append(YearRow(enrolment_id, self._establishment[enrolment_id], bytes(marks)))
        changes["marks_added"] += added
        changes["marks_corrected"] += corrected
        changes["marks_unchanged"] += unchanged
        changes["mark_strings_written"] += len(rows)
        return rows, corrections


def _record(
    session: Session,
    corrections: list[Correction],
    now: datetime,
    source: str,
    import_id: int | None,
) -> None:
    """Insert the history of changed marks (old code, new code, when, from which file)."""
    columns = (
        "enrolment_id",
        "session_date",
        "session",
        "old_code",
        "new_code",
        "corrected_at",
        "import_id",
        "source",
    )
    rows = (
        (enrolment_id, *session_at(school_year, offset), decode(old), decode(new), now, import_id, source)
        for enrolment_id, school_year, offset, old, new in corrections
    )
    insert_rows(session, MarkCorrection.__table__, columns, rows)
