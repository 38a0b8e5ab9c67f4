"""SQLite's write-ahead log is copied into the database file by a background thread, not a request.

The database *file* is read with ``immutable=1`` (SQLite then ignores the ``-wal`` file): a committed
row is found there only once a checkpoint has copied it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from engine.checkpointer import Checkpointer
from engine.db import Database


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"still waiting after {timeout:.0f} s for {what}")
        time.sleep(0.01)


def rows_in_file(path: Path) -> int:
    """Notes in the database file itself, ignoring what is still only in the log."""
    with contextlib.closing(sqlite3.connect(f"file:{path}?immutable=1", uri=True)) as reader:
        return reader.execute("SELECT count(*) FROM note").fetchone()[0]


def write(db: Database, count: int) -> None:
    for n in range(count):
        with db.transaction() as session:
            session.connection().exec_driver_sql("INSERT INTO note (body) VALUES (?)", (f"visit {n}",))


def checkpointed_once(db: Database, path: Path, *, every: int, idle_exit: float) -> Checkpointer:
    """Give ``db`` a checkpointer of its own, commit ``every`` times and wait for its first checkpoint."""
    db.checkpointer = checkpointer = Checkpointer(str(path), every=every, idle_exit=idle_exit)
    write(db, every)
    wait_for(lambda: checkpointer.checkpoints == 1, "the first checkpoint")
    return checkpointer


@pytest.fixture
def sqlite_file(tmp_path: Path) -> Iterator[tuple[Database, Path]]:
    path = tmp_path / "cases.sqlite"
    db = Database(f"sqlite:///{path}")
    with db.engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
    with contextlib.closing(sqlite3.connect(path)) as setup:
        setup.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the empty table is in the file
    try:
        yield db, path
    finally:
        db.dispose()


def test_every_hundred_commits_the_log_is_copied_into_the_database_file(sqlite_file):
    db, path = sqlite_file
    checkpointer = db.checkpointer
    assert checkpointer is not None and checkpointer.every == Database.CHECKPOINT_EVERY == 100

    write(db, 99)
    assert checkpointer._thread is None  # not yet: no thread, nothing copied
    assert rows_in_file(path) == 0

    write(db, 1)  # the hundredth commit
    wait_for(lambda: checkpointer.checkpoints == 1, "the first checkpoint")
    assert rows_in_file(path) == 100
    with db.transaction() as session:  # and the database still reads the same through its log
        assert session.connection().exec_driver_sql("SELECT count(*) FROM note").scalar() == 100


def test_the_thread_ends_when_idle_and_the_next_commits_start_another(sqlite_file):
    db, path = sqlite_file
    checkpointer = checkpointed_once(db, path, every=5, idle_exit=0.05)
    first = checkpointer._thread
    wait_for(lambda: checkpointer._thread is None, "the idle thread to end")
    assert first is not None and not first.is_alive()

    write(db, 5)
    wait_for(lambda: checkpointer.checkpoints == 2, "a checkpoint by a new thread")
    assert rows_in_file(path) == 10


def test_dispose_stops_the_thread_and_a_later_commit_starts_it_again(sqlite_file):
    db, path = sqlite_file
    checkpointer = checkpointed_once(db, path, every=3, idle_exit=60)
    thread = checkpointer._thread
    assert thread is not None

    db.dispose()
    assert not thread.is_alive() and checkpointer._thread is None  # ended at once, not after 60 s idle

    write(db, 3)  # the database is usable after dispose, and so is its checkpointer
    wait_for(lambda: rows_in_file(path) == 6, "the rows written after dispose to reach the file")


def test_a_checkpoint_another_connection_prevents_is_skipped_not_an_error(sqlite_file):
    db, path = sqlite_file
    checkpointer = Checkpointer(str(path))
    db.dispose()
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as holder:
        holder.execute("PRAGMA locking_mode=EXCLUSIVE")  # takes the file for itself at its next write
        holder.execute("INSERT INTO note (body) VALUES ('held')")
        blocked = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            assert checkpointer.checkpoint(blocked) is False
        finally:
            blocked.close()
    assert checkpointer.checkpoints == 0


def test_no_checkpointer_where_there_is_no_log_to_copy(tmp_path):
    assert Database("sqlite://").checkpointer is None  # in memory
    url = os.environ.get("EDUCASE_DATABASE_URL", "")
    if url.startswith("postgresql"):
        db = Database(url)
        try:
            assert db.checkpointer is None  # PostgreSQL has its own checkpointer process
        finally:
            db.dispose()


@pytest.mark.skipif(sys.platform == "win32", reason="fork is POSIX")
def test_a_forked_process_checkpoints_with_its_own_thread(sqlite_file):
    db, path = sqlite_file
    checkpointer = checkpointed_once(db, path, every=4, idle_exit=60)
    parent_thread = checkpointer._thread
    held, forked = threading.Event(), threading.Event()

    def hold_the_lock() -> None:  # as the parent's checkpointer thread may at the moment of a fork
        with checkpointer._lock:
            held.set()
            forked.wait(10)

    holder = threading.Thread(target=hold_the_lock)
    holder.start()
    held.wait(10)
    pid = os.fork()
    if pid == 0:  # the child: the parent's thread does not exist here; commits must start one
        code = 3
        try:
            signal.alarm(30)  # a lock still held from the parent would hang the child: end it instead
            write(db, 4)
            deadline = time.monotonic() + 20
            while checkpointer.checkpoints < 2 and time.monotonic() < deadline:
                time.sleep(0.01)
            code = 0 if checkpointer.checkpoints == 2 and checkpointer._thread is not parent_thread else 1
        finally:
            os._exit(code)
    forked.set()
    holder.join()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert rows_in_file(path) == 8
