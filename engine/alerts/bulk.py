"""Bulk writes of alert rows whose values are already in the driver's form: ``COPY`` on PostgreSQL,
the driver's ``executemany`` on SQLite. An evaluation of a whole LA writes tens of thousands of alerts
a night; going through SQLAlchemy's per-value processing would cost more than finding them."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from ..models.alerts import Alert

UPDATED = ("last_seen", "condition_last", "ongoing", "facts", "summary", "rule_version", "updated_at")


class Binder:
    """Turns Python values into what the session's driver takes."""

    def __init__(self, session: Session) -> None:
        dialect = session.get_bind().dialect
        self.sqlite = dialect.name == "sqlite"
        self._stamp = Alert.__table__.c.created_at.type.bind_processor(dialect)

    def day(self, value: date | None) -> Any:
        return value.isoformat() if self.sqlite and value is not None else value

    def stamp(self, value: datetime) -> Any:
        return self._stamp(value) if self._stamp else value

    @staticmethod
    def json(value: Any) -> str:
        return json.dumps(value, separators=(",", ":"), check_circular=False)


def insert(session: Session, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    """Insert bound rows into ``table``."""
    if not rows:
        return
    connection = session.connection()
    if session.get_bind().dialect.name != "postgresql":
        marks = ", ".join("?" for _ in columns)
        connection.exec_driver_sql(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)
        return
    with connection.connection.driver_connection.cursor() as cursor:
        with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        if "id" in columns:  # ids were given: move the sequence past them
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )


def update_alerts(session: Session, rows: list[tuple[Any, ...]]) -> None:
    """Update the evaluation columns (``id`` then :data:`UPDATED`) of many alerts."""
    if not rows:
        return
    connection = session.connection()
    if session.get_bind().dialect.name != "postgresql":
        assignments = ", ".join(f"{c} = ?" for c in UPDATED)
        connection.exec_driver_sql(
            f"UPDATE alert SET {assignments} WHERE id = ?", [(*r[1:], r[0]) for r in rows]
        )
        return
    with connection.connection.driver_connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE IF NOT EXISTS alert_update (id integer, last_seen date, condition_last date, "
            "ongoing boolean, facts json, summary text, rule_version integer, updated_at timestamptz) "
            "ON COMMIT DELETE ROWS"
        )
        cursor.execute("TRUNCATE alert_update")
        with cursor.copy("COPY alert_update FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute(
            "UPDATE alert SET "
            + ", ".join(f"{c} = u.{c}" for c in UPDATED)
            + " FROM alert_update u WHERE alert.id = u.id"
        )
