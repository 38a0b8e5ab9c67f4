"""Copying SQLite's write-ahead log into the database file in the background, not in a request.

In WAL mode a commit appends the changed pages to the ``-wal`` file; now and then those pages must be
copied back into the database file and both files synced (a *checkpoint*). SQLite does it itself in
the commit that takes the log past ``wal_autocheckpoint`` pages, so one request in a few hundred pays
for the work of all of them: ~0.2 ms a case of the engine's ~2 ms (``bench/engine.py``). PostgreSQL
has a background checkpointer process for the same reason; this is ours for SQLite.

A :class:`Checkpointer` counts the commits of one database file; every ``every`` commits it wakes a
thread that runs ``PRAGMA wal_checkpoint(PASSIVE)`` on its own connection. A passive checkpoint never
blocks readers or writers; if another process is checkpointing the same file it is simply skipped.
The thread ends after ``idle_exit`` seconds without work and is started again when commits resume
(so an idle or forked process holds no thread). The connections' own ``wal_autocheckpoint`` stays as
the safety net: if this thread falls behind, the log is still checkpointed by a commit.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import weakref

logger = logging.getLogger(__name__)


class Checkpointer:
    """Background checkpoints of the SQLite file at ``path``."""

    def __init__(self, path: str, *, every: int = 100, idle_exit: float = 30.0) -> None:
        self.path = path
        self.every = every
        self.idle_exit = idle_exit
        self.checkpoints = 0  # completed by this object's threads (for tests and diagnostics)
        self._commits = 0
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None  # the one running thread; any other ends
        _EVERY_CHECKPOINTER.add(self)

    def committed(self) -> None:
        """Note one commit; every ``every`` commits, have the log checkpointed."""
        self._commits += 1  # a lost increment under a race only delays a checkpoint by one commit
        if self._commits >= self.every:
            self._commits = 0
            self.request()

    def request(self) -> None:
        """Have the log checkpointed soon (starting the thread if there is none)."""
        with self._lock:  # under the lock: a thread deciding to end either sees this wake or is replaced
            if self._thread is None or not self._thread.is_alive():  # also: a forked child has no thread
                self._thread = threading.Thread(target=self._run, name="sqlite-checkpointer", daemon=True)
                self._thread.start()
            self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        """End the thread (at once, not after a checkpoint); a later commit starts a new one."""
        with self._lock:
            thread, self._thread = self._thread, None
            self._wake.set()
        if thread is not None and thread.is_alive() and thread is not threading.current_thread():
            thread.join(timeout)

    def _run(self) -> None:
        connection = sqlite3.connect(self.path, timeout=0, isolation_level=None)  # this thread's own
        try:
            while True:
                woken = self._wake.wait(self.idle_exit)
                with self._lock:
                    if self._thread is not threading.current_thread():
                        return  # stopped, or replaced
                    if not woken:  # idle: end, and let the next request start a thread
                        self._thread = None
                        return
                    self._wake.clear()
                self.checkpoint(connection)
        finally:
            connection.close()

    def checkpoint(self, connection: sqlite3.Connection) -> bool:
        """One passive checkpoint; False when another connection held the checkpoint lock."""
        try:
            connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        except sqlite3.OperationalError as error:  # "database is locked": someone else is at it
            logger.debug("checkpoint of %s skipped: %s", self.path, error)
            return False
        self.checkpoints += 1
        return True


_EVERY_CHECKPOINTER: weakref.WeakSet[Checkpointer] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    """A forked child has none of its parent's threads, and a lock one of them held stays held: start
    afresh (the child's next commits start its own thread)."""
    for checkpointer in list(_EVERY_CHECKPOINTER):
        checkpointer._lock = threading.Lock()
        checkpointer._wake = threading.Event()
        checkpointer._thread = None
        checkpointer._commits = 0


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
