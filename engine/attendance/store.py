"""The mark store: reading and writing ``attendance_year`` mark strings in bulk.

Reads come back as ``bytes`` keyed by enrolment id, as a stream for scans, or as one numpy matrix
(``n x 732`` uint8) for whole-LA work such as alert rules. Writes are upserts; on PostgreSQL large
batches go through ``COPY`` into a temporary table, much faster than row-by-row statements.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sqlalchemy import column, select, table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ..models.attendance import AttendanceYear
from .layout import YEAR_BYTES

_T = AttendanceYear.__table__
#: The same table with untyped columns: reads get the driver's values without per-row processing.
_RAW = table(
    "attendance_year",
    *(column(name) for name in ("enrolment_id", "establishment_id", "school_year", "marks")),
)
_COPY_THRESHOLD = 500  # rows; below this plain statements are as quick
_CHUNK = 5000


@dataclass(frozen=True)
class YearRow:
    """One mark string to store."""

    enrolment_id: int
    establishment_id: int
    marks: bytes


@dataclass(frozen=True)
class MarkMatrix:
    """Many enrolments' marks for one school year: row ``i`` of ``marks`` belongs to
    ``enrolment_ids[i]`` at ``establishment_ids[i]``."""

    school_year: int
    enrolment_ids: np.ndarray
    establishment_ids: np.ndarray
    marks: np.ndarray

    def __len__(self) -> int:
        return len(self.enrolment_ids)


def load_years(
    session: Session,
    school_year: int,
    *,
    establishment_ids: Collection[int] | None = None,
    enrolment_ids: Collection[int] | None = None,
) -> dict[int, bytes]:
    """Mark strings of one year by enrolment id, for some establishments and/or enrolments."""
    query = select(_RAW.c.enrolment_id, _RAW.c.marks).where(_RAW.c.school_year == school_year)
    if establishment_ids is not None:
        query = query.where(_RAW.c.establishment_id.in_(list(establishment_ids)))
    if enrolment_ids is None:
        return {e: _bytes(m) for e, m in session.execute(query).all()}
    found: dict[int, bytes] = {}
    ids = list(enrolment_ids)
    for i in range(0, len(ids), _CHUNK):
        chunk = query.where(_RAW.c.enrolment_id.in_(ids[i : i + _CHUNK]))
        found.update((e, _bytes(m)) for e, m in session.execute(chunk).all())
    return found


def iter_years(
    session: Session, school_year: int, establishment_id: int | None = None, batch_size: int = 20_000
) -> Iterator[tuple[int, int, bytes]]:
    """Stream ``(enrolment_id, establishment_id, marks)`` for a year, without holding them all."""
    query = select(_RAW.c.enrolment_id, _RAW.c.establishment_id, _RAW.c.marks).where(
        _RAW.c.school_year == school_year
    )
    if establishment_id is not None:
        query = query.where(_RAW.c.establishment_id == establishment_id)
    result = session.execute(query.execution_options(yield_per=batch_size))
    for enrolment_id, est_id, marks in result:
        yield enrolment_id, est_id, _bytes(marks)


def load_matrix(session: Session, school_year: int, establishment_id: int | None = None) -> MarkMatrix:
    """A whole year's marks as a numpy matrix (one row per enrolment, :data:`YEAR_BYTES` columns)."""
    enrolments: list[int] = []
    establishments: list[int] = []
    strings: list[bytes] = []
    for enrolment_id, est_id, marks in iter_years(session, school_year, establishment_id):
        enrolments.append(enrolment_id)
        establishments.append(est_id)
        strings.append(marks)
    matrix = np.frombuffer(b"".join(strings), dtype=np.uint8).reshape(len(strings), YEAR_BYTES)
    return MarkMatrix(
        school_year, np.array(enrolments, dtype=np.int64), np.array(establishments, dtype=np.int64), matrix
    )


def _bytes(value: bytes | memoryview) -> bytes:
    return value if isinstance(value, bytes) else bytes(value)


def save_years(session: Session, school_year: int, rows: Iterable[YearRow], now: datetime) -> int:
    """Insert or replace mark strings; returns how many were written."""
    batch = list(rows)
    for row in batch:
        if len(row.marks) != YEAR_BYTES:
            raise ValueError(f"mark string of enrolment {row.enrolment_id} is {len(row.marks)} bytes")
    if not batch:
        return 0
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql" and len(batch) >= _COPY_THRESHOLD:
        _copy_upsert(session, school_year, batch, now)
    elif dialect == "sqlite":
        _sqlite_upsert(session, school_year, batch, now)
    else:
        _statement_upsert(session, school_year, batch, now)
    return len(batch)


def _statement_upsert(session: Session, school_year: int, batch: list[YearRow], now: datetime) -> None:
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert(_T) if dialect == "postgresql" else sqlite.insert(_T)
    statement = insert.on_conflict_do_update(
        index_elements=[_T.c.enrolment_id, _T.c.school_year],
        set_={"marks": insert.excluded.marks, "updated_at": insert.excluded.updated_at},
    )
    values = [
        {
            "enrolment_id": r.enrolment_id,
            "school_year": school_year,
            "establishment_id": r.establishment_id,
            "marks": r.marks,
            "updated_at": now,
        }
        for r in batch
    ]
    for i in range(0, len(values), _CHUNK):
        session.execute(statement, values[i : i + _CHUNK])


def _sqlite_upsert(session: Session, school_year: int, batch: list[YearRow], now: datetime) -> None:
    """SQLite: the driver's executemany, without per-row work in SQLAlchemy."""
    stamp = _T.c.updated_at.type.bind_processor(session.get_bind().dialect)
    updated_at = stamp(now) if stamp else now
    session.connection().exec_driver_sql(
        "INSERT INTO attendance_year (enrolment_id, school_year, establishment_id, marks, updated_at) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (enrolment_id, school_year) "
        "DO UPDATE SET marks = excluded.marks, updated_at = excluded.updated_at",
        [(r.enrolment_id, school_year, r.establishment_id, r.marks, updated_at) for r in batch],
    )


def _copy_line(row: YearRow) -> str:
    """One line of COPY text format; bytea in hex (``\\x...``), which is cheaper than ``write_row``."""
    return f"{row.enrolment_id}\t{row.establishment_id}\t\\\\x{row.marks.hex()}\n"


def _copy_upsert(session: Session, school_year: int, batch: list[YearRow], now: datetime) -> None:
    """PostgreSQL: COPY into a temporary table, then one INSERT ... ON CONFLICT from it."""
    raw = session.connection().connection.driver_connection
    with raw.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE IF NOT EXISTS attendance_year_load "
            "(enrolment_id integer, establishment_id integer, marks bytea) ON COMMIT DELETE ROWS"
        )
        cursor.execute("TRUNCATE attendance_year_load")
        with cursor.copy("COPY attendance_year_load FROM STDIN") as copy:
            for i in range(0, len(batch), _CHUNK):
                copy.write("".join(_copy_line(row) for row in batch[i : i + _CHUNK]))
        cursor.execute(
            "INSERT INTO attendance_year (enrolment_id, school_year, establishment_id, marks, updated_at) "
            "SELECT enrolment_id, %s, establishment_id, marks, %s FROM attendance_year_load "
            "ON CONFLICT (enrolment_id, school_year) "
            "DO UPDATE SET marks = EXCLUDED.marks, updated_at = EXCLUDED.updated_at",
            (school_year, now),
        )
