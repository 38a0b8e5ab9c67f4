"""Database access: engine factory, declarative base and the transaction helper services use.

SQLite is the embedded database (WAL, foreign keys on, writers serialised with ``BEGIN IMMEDIATE`` so
two processes can never both act on the same due timer); PostgreSQL is the production database.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from sqlalchemy import JSON, MetaData, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import StaticPool

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")  # WAL: durable at checkpoints, never corrupt
        cursor.execute("PRAGMA cache_size=-65536")  # 64 MiB page cache per connection
        cursor.execute("PRAGMA temp_store=MEMORY")
        cursor.execute("PRAGMA wal_autocheckpoint=10000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """Create an engine for ``url``; in-memory SQLite keeps one shared connection."""
    if url.startswith("sqlite"):
        in_memory = url in {"sqlite://", "sqlite:///:memory:"}
        kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False, "timeout": 30}}
        if in_memory:
            kwargs["poolclass"] = StaticPool
        engine = create_engine(url, echo=echo, **kwargs)
        _configure_sqlite(engine)
        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=20)


class Database:
    """An engine and its session factory. Services open transactions with :meth:`transaction`."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.engine = make_engine(url, echo=echo)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: commits when the block ends normally, rolls back on any exception.

        Callables appended to ``session.info["after_commit"]`` run once the commit has succeeded.
        """
        session = self._sessions()
        try:
            with session.begin():
                yield session
            for callback in session.info.get("after_commit", ()):
                callback()
        finally:
            session.close()

    def refresh_statistics(self) -> bool:
        """Give SQLite's query planner fresh statistics (``ANALYZE``); True when it ran.

        Without them SQLite guesses, and at LA scale some guesses read every open task (a dashboard
        600 ms instead of 300). PostgreSQL keeps its own statistics (autovacuum): nothing to do.
        """
        if self.engine.dialect.name != "sqlite":
            return False
        with self.engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE")
        return True

    def create_all(self) -> None:
        """Create every table directly (used by the in-memory scenario runner)."""
        from . import models  # noqa: F401  (registers the tables)

        Base.metadata.create_all(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()
