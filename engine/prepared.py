"""Statements on the engine's hot path, compiled once per dialect and run on the DBAPI cursor.

Completing a task or starting a case writes about six rows in one transaction. Through SQLAlchemy's
``Connection.execute`` each statement costs ~25 µs of Python (cache lookup, execution context, result
set-up) against ~3 µs for the database itself; at three transactions per case that was a sixth of
the time of a persisted instance. A :class:`Prepared` statement is a SQLAlchemy Core statement
compiled once for the connection's dialect; running it converts the parameters with the very same
bind (and result) processors SQLAlchemy would use — column types, the UTC datetime decorator, JSON —
and hands them to the driver's cursor of the caller's connection. It runs inside the caller's
transaction, so it commits or rolls back with everything else.

Only statements whose every parameter is a plain bound value belong here (no expanding ``IN``
lists, no SQL expressions computed per call): the compiled SQL is reused as it is.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement


class _Plan:
    """One statement compiled for one dialect: SQL text, parameter order and converters."""

    def __init__(self, statement: ClauseElement, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        self.sql = compiled.string
        binds = {name: bind for bind, name in compiled.bind_names.items()}
        positions = compiled.positiontup
        self.positional = positions is not None
        self.names = list(positions) if positions is not None else list(binds)
        self.template: list[Any] = []  # the values written into the statement, converted once
        self.plain: list[tuple[int, str]] = []  # (position, key) of values passed as they are
        self.converted: list[tuple[int, str, Callable[[Any], Any]]] = []  # ... and of those converted
        for position, name in enumerate(self.names):
            bind = binds[name]
            if bind.callable is not None or bind.expanding:
                raise ValueError(f"{name}: only plain bound values can be prepared")
            process = _bind_processor(bind.type, dialect)
            if not bind.required:  # a value written into the statement, e.g. ``state == 'ready'``
                self.template.append(process(bind.value) if process is not None else bind.value)
                continue
            self.template.append(None)
            if process is None:
                self.plain.append((position, bind.key))
            else:
                self.converted.append((position, bind.key, process))
        self.columns: list[str] = []
        self.converted_columns: list[tuple[int, str, Callable[[Any], Any]]] = []
        for position, column in enumerate(getattr(statement, "exported_columns", None) or ()):
            self.columns.append(column.key)
            process = _result_processor(column.type, dialect)
            if process is not None:
                self.converted_columns.append((position, column.key, process))

    def parameters(self, params: Mapping[str, Any]) -> tuple[Any, ...] | dict[str, Any]:
        values = self.template.copy()
        for position, key in self.plain:
            values[position] = params[key]
        for position, key, process in self.converted:
            values[position] = process(params[key])
        if self.positional:
            return tuple(values)
        return dict(zip(self.names, values, strict=True))

    def rows(self, raw_rows: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
        converted = []
        for raw in raw_rows:
            row = dict(zip(self.columns, raw, strict=True))
            for position, name, process in self.converted_columns:
                row[name] = process(raw[position])
            converted.append(row)
        return converted


def _bind_processor(type_: Any, dialect: Dialect) -> Callable[[Any], Any] | None:
    """SQLAlchemy's bind processor for ``type_``, or the type's own faster equivalent."""
    impl = type_.dialect_impl(dialect)
    fast = getattr(impl, "fast_bind_processor", None)
    return (fast and fast(dialect)) or impl.bind_processor(dialect)


def _result_processor(type_: Any, dialect: Dialect) -> Callable[[Any], Any] | None:
    impl = type_.dialect_impl(dialect)
    fast = getattr(impl, "fast_result_processor", None)
    return (fast and fast(dialect)) or impl.result_processor(dialect, None)


class Prepared:
    """A Core statement run on the DBAPI cursor of the caller's connection (see the module doc)."""

    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
        self._plans: dict[str, _Plan] = {}
        self._last: tuple[Dialect, _Plan] | None = None  # a process uses one database: skip the lookup

    def plan(self, dialect: Dialect) -> _Plan:
        last = self._last
        if last is not None and last[0] is dialect:
            return last[1]
        plan = self._plans.get(dialect.name)
        if plan is None:
            plan = self._plans[dialect.name] = _Plan(self.statement, dialect)
        self._last = (dialect, plan)
        return plan

    def execute(self, connection: Connection, params: Mapping[str, Any]) -> int:
        """Run once; returns the number of rows the statement changed."""
        plan = self.plan(connection.dialect)
        cursor = connection.connection.driver_connection.cursor()
        try:
            cursor.execute(plan.sql, plan.parameters(params))
            return int(cursor.rowcount)
        finally:
            cursor.close()

    def executemany(self, connection: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        if not rows:
            return
        plan = self.plan(connection.dialect)
        cursor = connection.connection.driver_connection.cursor()
        try:
            if len(rows) == 1:
                cursor.execute(plan.sql, plan.parameters(rows[0]))
            else:
                cursor.executemany(plan.sql, [plan.parameters(r) for r in rows])
        finally:
            cursor.close()

    def fetch(self, connection: Connection, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Run a SELECT (or a statement with RETURNING); its rows as dicts of converted values."""
        plan = self.plan(connection.dialect)
        cursor = connection.connection.driver_connection.cursor()
        try:
            cursor.execute(plan.sql, plan.parameters(params))
            return plan.rows(cursor.fetchall())
        finally:
            cursor.close()

    def first(self, connection: Connection, params: Mapping[str, Any]) -> dict[str, Any] | None:
        rows = self.fetch(connection, params)
        return rows[0] if rows else None
