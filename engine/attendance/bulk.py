"""Bulk inserts for generated data: ``COPY`` on PostgreSQL, driver-level ``executemany`` on SQLite.

Rows are tuples in the order of ``columns``, ids included (so that related rows can refer to them
without a round trip); on PostgreSQL the id sequence is moved past them afterwards, so ordinary
inserts keep working. Values go through each column type's bind processor (``UtcDateTime`` etc.); JSON is dumped here.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from itertools import islice
from typing import Any

from sqlalchemy import JSON, Integer, Table, func, select
from sqlalchemy.orm import Session

_CHUNK = 20_000


def next_id(session: Session, table: Table) -> int:
    """The first id free in ``table``."""
    return int(session.scalar(select(func.coalesce(func.max(table.c.id), 0))) or 0) + 1


def insert_rows(session: Session, table: Table, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Insert ``rows`` as fast as the database allows; returns how many were inserted."""
    dialect = session.get_bind().dialect
    processors = [
        json.dumps if isinstance(table.c[c].type, JSON) else table.c[c].type.bind_processor(dialect)
        for c in columns
    ]
    bound = (_bound(processors, row) for row in rows)
    if dialect.name == "postgresql":
        return _copy(session, table, columns, bound)
    connection = session.connection()
    placeholders = ", ".join("?" for _ in columns)
    sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({placeholders})"
    count = 0
    while chunk := list(islice(bound, _CHUNK)):
        connection.exec_driver_sql(sql, chunk)
        count += len(chunk)
    return count


def _copy(session: Session, table: Table, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    raw = session.connection().connection.driver_connection
    count = 0
    with raw.cursor() as cursor:
        with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
                count += 1
        if "id" in columns and isinstance(table.c.id.type, Integer):  # a serial id (not a text key)
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), (SELECT max(id) FROM {table.name}))"
            )
    return count


def _bound(processors: list[Callable[[Any], Any] | None], row: Sequence[Any]) -> tuple[Any, ...]:
    return tuple(p(v) if p is not None and v is not None else v for p, v in zip(processors, row, strict=True))
