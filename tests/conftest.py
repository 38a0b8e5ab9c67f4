"""Shared fixtures. Integration tests run on a real database: SQLite by default, PostgreSQL when
``EDUCASE_DATABASE_URL`` points at one (CI runs both). Each test starts from empty tables."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from engine import clock
from engine.config import load_settings
from engine.context import Context, create_context
from engine.db import Base, Database
from engine.migrate import upgrade
from engine.services import processes
from engine.services.calendars import load_calendar

FIXTURES = Path(__file__).parent / "fixtures"
TERM_DATES = Path(__file__).parents[1] / "engine" / "data" / "term-dates-example-2025-26.json"


def pytest_report_header() -> str:
    import os

    return f"database: {os.environ.get('EDUCASE_DATABASE_URL') or 'SQLite (temporary file)'}"


@pytest.fixture(scope="session")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    import os

    url = os.environ.get("EDUCASE_DATABASE_URL") or f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"
    db = Database(url)
    if db.is_postgres:
        with db.engine.begin() as connection:
            connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    upgrade(db)
    yield db
    db.dispose()


def _empty_tables(db: Database) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with db.engine.begin() as connection:
        if db.is_postgres:
            connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for name in tables:
                connection.execute(text(f"DELETE FROM {name}"))


@pytest.fixture
def ctx(database: Database, tmp_path: Path) -> Iterator[Context]:
    """An engine context on empty tables, with the test form fixtures beside the shipped forms."""
    settings = load_settings(
        instance_path=tmp_path, database_url=database.url, form_library_path=FIXTURES / "forms",
        script_time_limit_seconds=1.0,
    )
    yield create_context(settings, database=database)
    _empty_tables(database)


@pytest.fixture
def calendar_ctx(ctx: Context) -> Context:
    """A context with the example LA term dates (2025/26) loaded."""
    with ctx.db.transaction() as session:
        load_calendar(session, TERM_DATES)
    return ctx


def deploy(ctx: Context, *names: str) -> processes.LibraryReport:
    """Deploy BPMN fixtures by file name (from tests/fixtures/bpmn) or path."""
    paths = [Path(n) if Path(n).is_absolute() else FIXTURES / "bpmn" / n for n in names]
    return processes.deploy_sources(ctx, processes.read_sources(paths), actor="tester")


def at(iso: str) -> datetime:
    """An aware UTC datetime from an ISO string (``Z`` allowed)."""
    return clock.as_utc(datetime.fromisoformat(iso.replace("Z", "+00:00")))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def load_json(path: Path) -> object:
    return json.loads(path.read_text())
