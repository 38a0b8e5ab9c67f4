"""The Alembic migrations build exactly the schema the models declare, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

import engine.models  # noqa: F401  (registers every table on Base.metadata)
from engine.db import Base, Database
from engine.migrate import current_revision, head_revision, require_current_schema, upgrade


def schema_differences(database: Database) -> list:
    with database.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True}
        )
        return compare_metadata(context, Base.metadata)


def test_migrated_database_matches_the_models(database):
    assert schema_differences(database) == []


def test_migrated_database_is_at_head_and_passes_the_schema_check(database):
    assert current_revision(database) == head_revision(database)
    require_current_schema(database)  # raises ConfigurationError when behind


def test_upgrading_an_empty_sqlite_file_creates_every_table(tmp_path: Path):
    fresh = Database(f"sqlite:///{tmp_path / 'fresh' / 'educase.sqlite'}")
    try:
        reached = upgrade(fresh)
        assert reached == head_revision(fresh)
        tables = set(inspect(fresh.engine).get_table_names())
        assert tables == set(Base.metadata.tables) | {"alembic_version"}
        assert schema_differences(fresh) == []
        assert upgrade(fresh) == reached  # upgrading again changes nothing
    finally:
        fresh.dispose()
