"""Reading what rules need from the database: the population, batches of marks, the records.

Marks are streamed from the store (:func:`engine.attendance.store.iter_years`) in batches of
:data:`~engine.alerts.evaluate.BATCH_ROWS` enrolments, so an evaluation never holds the LA's whole
year at once. The previous year's strings are read, batch by batch, only when the evaluation reaches
back into it (early in the school year).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..attendance.layout import year_start
from ..attendance.store import iter_years, load_years
from ..models.people import APPlacement, Enrolment, Establishment, Exclusion, PartTimeTimetable, PupilFlag
from .evaluate import BATCH_ROWS, EstablishmentInfo, MarkBatch, Population, batch_from
from .kinds.records import EnrolmentInfo, ExclusionRecord, PlacementRecord, Records, TimetableRecord


def load_population(session: Session, horizon: date, with_flags: bool = True) -> Population:
    """Every enrolment, every establishment, and (``with_flags``) the flags active on ``horizon``."""
    establishments = {
        row.id: EstablishmentInfo(row.laestab, row.name, row.phase, row.type)
        for row in session.execute(
            select(Establishment.id, Establishment.laestab, Establishment.name, Establishment.phase,
                   Establishment.type)
        )
    }  # fmt: skip
    flags = active_flags(session, horizon) if with_flags else {}
    return Population.of(_enrolment_rows(session), establishments=establishments, flags=flags)


def _enrolment_rows(session: Session) -> list[tuple[int, int, int, date | None]]:
    """``(id, pupil, establishment, end date)`` of every enrolment, read without per-row processing
    (a quarter of a million rows); end dates, which few enrolments have, are parsed afterwards."""
    cursor = session.connection().connection.driver_connection.cursor()
    try:
        cursor.execute("SELECT id, pupil_id, establishment_id, end_date FROM enrolment")
        rows = cursor.fetchall()
    finally:
        cursor.close()
    return [(i, p, e, _as_date(end) if end is not None else None) for i, p, e, end in rows]


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def active_flags(session: Session, day: date) -> dict[int, list[dict[str, Any]]]:
    """Shared flags active on ``day`` by pupil: ``[{"flag": "CLA", "visible_to": [...]}]``."""
    flags: dict[int, list[dict[str, Any]]] = {}
    query = select(PupilFlag.pupil_id, PupilFlag.flag, PupilFlag.visible_to).where(
        PupilFlag.start_date <= day, (PupilFlag.end_date.is_(None)) | (PupilFlag.end_date >= day)
    )
    for pupil_id, flag, visible_to in session.execute(query):
        flags.setdefault(pupil_id, []).append({"flag": flag, "visible_to": list(visible_to or [])})
    return flags


@dataclass
class ReadTimer:
    """Seconds spent waiting for the store while streaming batches (the rest is the rules' work)."""

    seconds: float = 0.0


def mark_batches(session: Session, school_year: int, with_previous: bool, timer: ReadTimer | None = None,
                 rows: int = BATCH_ROWS) -> Iterator[MarkBatch]:  # fmt: skip
    """This year's mark strings in batches (and the previous year's for the same enrolments)."""
    timer = timer or ReadTimer()
    ids: list[int] = []
    strings: list[bytes] = []
    started = time.perf_counter()
    for enrolment_id, _establishment_id, marks in iter_years(session, school_year):
        ids.append(enrolment_id)
        strings.append(marks)
        if len(ids) == rows:
            yield _batch(session, school_year, ids, strings, with_previous, timer, started)
            ids, strings = [], []
            started = time.perf_counter()
    if ids:
        yield _batch(session, school_year, ids, strings, with_previous, timer, started)


def _batch(session: Session, school_year: int, ids: list[int], strings: list[bytes], with_previous: bool,
           timer: ReadTimer, started: float) -> MarkBatch:  # fmt: skip
    previous = load_years(session, school_year - 1, enrolment_ids=ids) if with_previous else None
    batch = batch_from(ids, strings, previous)
    timer.seconds += time.perf_counter() - started
    return batch


def load_records(session: Session, school_year: int, horizon: date, population: Population) -> Records:
    """Timetables, placements and exclusions that may matter from the previous school year to
    ``horizon``, the enrolments of the pupils concerned and their marks this year."""
    since = year_start(school_year - 1)
    timetables = [
        TimetableRecord(t.id, t.enrolment_id, t.hours_per_week, t.start_date, t.review_date, t.end_date,
                        t.agreed_with_parent)
        for t in session.scalars(select(PartTimeTimetable).where(
            PartTimeTimetable.start_date <= horizon,
            PartTimeTimetable.end_date.is_(None) | (PartTimeTimetable.end_date >= since)))
    ]  # fmt: skip
    placements = [
        PlacementRecord(p.id, p.pupil_id, p.provider_id, p.home_enrolment_id, p.proposed_start, p.actual_start,
                        p.end_date, p.hours_per_week, p.arranged_by)
        for p in session.scalars(select(APPlacement).where(
            APPlacement.proposed_start <= horizon, APPlacement.end_date.is_(None) | (APPlacement.end_date >= since)))
    ]  # fmt: skip
    exclusions = [
        ExclusionRecord(x.id, x.enrolment_id, x.kind, x.start_date, x.length_days)
        for x in session.scalars(select(Exclusion).where(Exclusion.start_date.between(since, horizon)))
    ]
    enrolment_ids = {t.enrolment_id for t in timetables} | {x.enrolment_id for x in exclusions}
    enrolment_ids |= {p.home_enrolment_id for p in placements if p.home_enrolment_id}
    pupils = {p.pupil_id for p in placements} | _pupils_of(session, enrolment_ids)
    enrolments = _enrolments_of(session, pupils)
    marks = load_years(session, school_year, enrolment_ids=list(enrolments))
    names = {i: (e.laestab, e.name) for i, e in population.establishments.items()}
    return Records(enrolments, timetables, placements, exclusions, marks, names)


def _pupils_of(session: Session, enrolment_ids: set[int]) -> set[int]:
    ids, found = sorted(enrolment_ids), set()
    for i in range(0, len(ids), 5000):
        found |= set(session.scalars(select(Enrolment.pupil_id).where(Enrolment.id.in_(ids[i : i + 5000]))))
    return found


def _enrolments_of(session: Session, pupil_ids: set[int]) -> dict[int, EnrolmentInfo]:
    ids, found = sorted(pupil_ids), {}
    for i in range(0, len(ids), 5000):
        query = select(Enrolment.id, Enrolment.pupil_id, Enrolment.establishment_id, Enrolment.start_date,
                       Enrolment.end_date).where(Enrolment.pupil_id.in_(ids[i : i + 5000]))  # fmt: skip
        found.update({row[0]: EnrolmentInfo(*row) for row in session.execute(query)})
    return found
