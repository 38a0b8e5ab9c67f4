"""Database access: engine factory, declarative base and the transaction helper services use.

SQLite is the embedded database (WAL, foreign keys on, writers serialised with ``BEGIN IMMEDIATE`` so
two processes can never both act on the same due timer); PostgreSQL is the production database.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from typing import Any, cast

from sqlalchemy import JSON, Connection, MetaData, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import NullPool, StaticPool

from . import jsontext
from .checkpointer import Checkpointer

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
        # on the driver's connection: this runs for every transaction
        connection.connection.driver_connection.execute("BEGIN IMMEDIATE")


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """Create an engine for ``url``; in-memory SQLite keeps one shared connection."""
    json_codec = {"json_serializer": jsontext.dumps, "json_deserializer": jsontext.loads}  # JSON columns
    if url.startswith("sqlite"):
        in_memory = url in {"sqlite://", "sqlite:///:memory:"}
        kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False, "timeout": 30}, **json_codec}
        # A file's connections are kept by Database itself (see there); the pool only opens them, so
        # it must not also cap them: a thread waiting on a full pool never saw a kept one come back.
        kwargs["poolclass"] = StaticPool if in_memory else NullPool
        engine = create_engine(url, echo=echo, **kwargs)
        _configure_sqlite(engine)
        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=20, **json_codec)


class LazySession:
    """A transaction's session on a kept SQLite connection: the ORM Session is made on first use.

    The engine's hot path (starting a case, completing a task) needs only ``connection()`` and
    ``info``; making, beginning, committing and closing an ORM Session it never uses cost ~0.1 ms of
    the ~0.8 ms a task completion takes. Anything else asked of it is asked of a real Session, joined
    to the same connection and transaction (so it can only roll that transaction back, never commit).
    """

    def __init__(self, connection: Connection, sessions: sessionmaker[Session]) -> None:
        self._connection = connection
        self._sessions = sessions
        self._orm: Session | None = None
        self.info: dict[str, Any] = {}

    def connection(self, *_args: Any, **_kwargs: Any) -> Connection:
        return self._connection

    def orm(self) -> Session:
        if self._orm is None:
            self._orm = self._sessions(bind=self._connection, join_transaction_mode="rollback_only")
        return self._orm

    def __getattr__(self, name: str) -> Any:
        return getattr(self.orm(), name)

    def flush_orm(self) -> None:
        if self._orm is not None:
            self._orm.commit()  # flushes; the connection's transaction is committed by the caller

    def close_orm(self) -> None:
        if self._orm is not None:
            self._orm.close()


class Database:
    """An engine and its session factory. Services open transactions with :meth:`transaction`.

    On a SQLite file, connections are kept between transactions (at most ``IDLE_CONNECTIONS`` idle):
    taking one from a pool, wrapping it and handing it back cost ~35 µs a transaction, a twentieth of
    completing a task. Their number is not capped: each thread that needs one gets one (SQLite's busy
    timeout, not a pool, makes writers wait their turn); one found idle is one whose transaction ended.
    """

    IDLE_CONNECTIONS = 16
    CHECKPOINT_EVERY = 100  # commits between background WAL checkpoints (engine.checkpointer); 0: none

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.engine = make_engine(url, echo=echo)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._keep = self.engine.dialect.name == "sqlite" and not isinstance(self.engine.pool, StaticPool)
        self._idle: list[Connection] = []
        self._idle_lock = threading.Lock()
        self._pid = os.getpid()
        path = self.engine.url.database
        self.checkpointer = (
            Checkpointer(path, every=self.CHECKPOINT_EVERY)
            if self._keep and path and self.CHECKPOINT_EVERY
            else None
        )

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: commits when the block ends normally, rolls back on any exception.

        Callables appended to ``session.info["after_commit"]`` run once the commit has succeeded.
        """
        if not self._keep:
            session = self._sessions()
            try:
                with session.begin():
                    yield session
                for callback in session.info.get("after_commit", ()):
                    callback()
            finally:
                session.close()
            return
        connection = self._take_connection()
        unit = LazySession(connection, self._sessions)
        try:
            with connection.begin():  # BEGIN IMMEDIATE; COMMIT when the block ends, else ROLLBACK
                try:
                    yield cast(Session, unit)
                    unit.flush_orm()
                finally:
                    unit.close_orm()
        finally:
            self._return_connection(connection)
        if self.checkpointer is not None:
            self.checkpointer.committed()
        for callback in unit.info.get("after_commit", ()):
            callback()

    def _take_connection(self) -> Connection:
        with self._idle_lock:
            if self._pid != os.getpid():  # a forked child must not use its parent's SQLite connections
                self._pid, self._idle = os.getpid(), []
                self.engine.dispose(close=False)
            if self._idle:
                return self._idle.pop()
        return self.engine.connect()

    def _return_connection(self, connection: Connection) -> None:
        if not (connection.closed or connection.invalidated or connection.in_transaction()):
            with self._idle_lock:
                if len(self._idle) < self.IDLE_CONNECTIONS:
                    self._idle.append(connection)
                    return
        connection.close()

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
        if self.checkpointer is not None:
            self.checkpointer.stop()
        with self._idle_lock:
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()
        self.engine.dispose()
