"""Prepared statements write and read exactly what SQLAlchemy would, on SQLite and on PostgreSQL.

The engine's hot path runs its statements on the driver's cursor (``engine.prepared``); these tests
write the same rows through SQLAlchemy and through a prepared statement and compare what the database
holds, including the awkward values: JSON ``None``, nested JSON, UTC timestamps, booleans.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Text, bindparam, cast, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from engine import clock
from engine.models.types import UtcDateTime
from engine.models.workflow import ProcessInstance, WorkflowEvent
from engine.prepared import Prepared
from engine.services import instance_store as store
from engine.services import instances
from tests.conftest import deploy

EV, PI = WorkflowEvent.__table__, ProcessInstance.__table__
WHEN = datetime(2026, 3, 2, 9, 30, 15, 123456, tzinfo=UTC)


def event(kind: str, data: object, at: datetime = WHEN) -> dict:
    return {
        "instance_id": None,
        "at": at,
        "actor": "ewo1",
        "kind": kind,
        "task_guid": None,
        "task_spec_id": "review",
        "task_name": "Review",
        "data": data,
        "form_version_id": None,
    }


def stored(ctx, kind: str) -> dict:
    with ctx.db.transaction() as session:
        row = session.connection().execute(select(EV).where(EV.c.kind == kind)).mappings().one()
        raw = (
            session.connection()
            .execute(select(cast(EV.c.data, Text).label("data")).where(EV.c.kind == kind))
            .scalar()
        )
    return {**{k: v for k, v in row.items() if k != "id"}, "raw": raw}


def test_an_event_written_by_a_prepared_insert_equals_one_written_by_sqlalchemy(ctx):
    values = {"sessions": [1, 2], "note": "Café ✓", "nested": {"ok": True, "n": None}}
    for kind, data in (("json", values), ("none", None)):
        with ctx.db.transaction() as session:
            session.connection().execute(insert(EV), event(f"{kind}-sqlalchemy", data))
            store._INSERT_EVENT.execute(session.connection(), event(f"{kind}-prepared", data))
        by_sqlalchemy, by_prepared = stored(ctx, f"{kind}-sqlalchemy"), stored(ctx, f"{kind}-prepared")
        by_sqlalchemy.pop("kind"), by_prepared.pop("kind")
        assert by_prepared == by_sqlalchemy
    assert stored(ctx, "json-prepared")["data"] == values
    assert stored(ctx, "json-prepared")["at"] == WHEN


def test_a_timestamp_with_another_offset_is_stored_as_the_same_instant(ctx):
    elsewhere = WHEN.astimezone(timezone(timedelta(hours=5, minutes=30)))
    with ctx.db.transaction() as session:
        store._INSERT_EVENT.execute(session.connection(), event("offset", None, at=elsewhere))
    assert stored(ctx, "offset")["at"] == WHEN
    assert stored(ctx, "offset")["at"].tzinfo == UTC


def test_a_prepared_update_reports_how_many_rows_it_changed_and_a_select_converts_its_values(calendar_ctx):
    ctx = calendar_ctx
    deploy(ctx, "review_case.bpmn")
    with clock.frozen_at(WHEN):  # a school day: the process computes a deadline in school days
        first = instances.start_instance(ctx, "review_case", data={"sessions_missed": 6}, business_key="K1")
        second = instances.start_instance(ctx, "review_case", data={"sessions_missed": 6}, business_key="K2")
    assert second.id > first.id  # the instance INSERT returned each new row's id
    touch = Prepared(update(PI).where(PI.c.id == bindparam("b_id")).values(suspended=bindparam("suspended")))
    read = Prepared(
        select(PI.c.id, PI.c.suspended, PI.c.started_at, PI.c.error).where(PI.c.id == bindparam("id"))
    )
    with ctx.db.transaction() as session:
        connection = session.connection()
        assert touch.execute(connection, {"b_id": first.id, "suspended": True}) == 1
        assert touch.execute(connection, {"b_id": second.id + 1000, "suspended": True}) == 0
        row = read.first(connection, {"id": first.id})
        assert read.first(connection, {"id": second.id + 1000}) is None
    assert row is not None
    assert row["id"] == first.id
    assert row["suspended"] is True
    assert row["error"] is None
    assert row["started_at"] == datetime.fromisoformat(first.as_dict()["started_at"])
    assert row["started_at"].tzinfo == UTC


def test_the_fast_sqlite_timestamp_conversions_equal_sqlalchemys():
    dialect = sqlite.dialect()
    column_type = UtcDateTime().dialect_impl(dialect)
    to_text, from_text = column_type.bind_processor(dialect), column_type.result_processor(dialect, None)
    fast_to_text = column_type.fast_bind_processor(dialect)
    fast_from_text = column_type.fast_result_processor(dialect)
    values = [
        WHEN,
        WHEN.replace(microsecond=0),
        WHEN.astimezone(timezone(timedelta(hours=-8))),
        datetime(2026, 10, 25, 1, 30, tzinfo=UTC),  # the clocks go back in the UK
        None,
    ]
    for value in values:
        assert fast_to_text(value) == to_text(value)
        assert fast_from_text(to_text(value)) == from_text(to_text(value))
    assert fast_from_text("2026-03-02 09:30:15") == from_text("2026-03-02 09:30:15")  # no fraction
    with pytest.raises(ValueError, match="naive"):
        fast_to_text(datetime(2026, 3, 2, 9, 30))
    assert column_type.fast_bind_processor(postgresql.dialect()) is None  # psycopg takes datetimes


def test_a_statement_whose_sql_changes_per_call_cannot_be_prepared(ctx):
    many = Prepared(select(EV.c.id).where(EV.c.kind.in_(bindparam("kinds", expanding=True))))
    with pytest.raises(ValueError, match="kinds: only plain bound values can be prepared"):
        many.plan(ctx.db.engine.dialect)
