"""Alembic, driven from code: ``educase db upgrade`` and the schema check every command makes."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

import migrations

from .db import Database
from .errors import ConfigurationError


def alembic_config(db: Database) -> Config:
    config = Config()
    config.set_main_option("script_location", str(Path(migrations.__file__).parent))
    config.set_main_option("sqlalchemy.url", db.url.replace("%", "%%"))
    config.attributes["engine"] = db.engine
    return config


def upgrade(db: Database, revision: str = "head") -> str:
    """Bring the schema to ``revision``; returns the revision reached."""
    if db.url.startswith("sqlite:///") and db.url not in ("sqlite:///:memory:",):
        Path(db.url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(db), revision)
    return current_revision(db) or ""


def current_revision(db: Database) -> str | None:
    with db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision(db: Database) -> str | None:
    return ScriptDirectory.from_config(alembic_config(db)).get_current_head()


def require_current_schema(db: Database) -> None:
    """Refuse to work on a database that is missing tables or behind the code."""
    if db.url.startswith("sqlite:///") and not db.url.endswith(":memory:"):
        path = Path(db.url.removeprefix("sqlite:///"))
        if not path.exists():
            raise ConfigurationError(f"There is no database at {path} yet: run `educase db upgrade` first.")
    current, head = current_revision(db), head_revision(db)
    if current != head:
        raise ConfigurationError(
            f"The database schema is at {current or 'nothing'}, the code needs {head}: run `educase db upgrade`."
        )
