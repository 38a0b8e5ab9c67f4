"""One transaction, whatever the services use in it: prepared statements, Core, the ORM.

On a SQLite file the connections are kept between transactions and a transaction hands out a lazy
session (the ORM Session is made on first use); on PostgreSQL it is a plain Session. Either way, all
of a transaction's writes commit together or not at all, and ``after_commit`` callbacks run only after
a commit.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from engine.db import Database
from engine.models.workflow import WorkflowEvent
from engine.services import instance_store as store

EV = WorkflowEvent.__table__
WHEN = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def event(kind: str) -> dict:
    return {"instance_id": None, "at": WHEN, "actor": "ewo1", "kind": kind, "task_guid": None,
            "task_spec_id": None, "task_name": None, "data": None, "form_version_id": None}  # fmt: skip


def kinds(db: Database) -> list[str]:
    with db.transaction() as session:
        return sorted(session.scalars(select(WorkflowEvent.kind)))


def write_three_ways(session, suffix: str) -> None:
    store._INSERT_EVENT.execute(session.connection(), event(f"prepared-{suffix}"))
    session.execute(EV.insert(), event(f"core-{suffix}"))
    session.add(WorkflowEvent(**event(f"orm-{suffix}")))


def test_prepared_core_and_orm_writes_commit_together_and_callbacks_follow(ctx):
    ran = []
    with ctx.db.transaction() as session:
        write_three_ways(session, "kept")
        session.info.setdefault("after_commit", []).append(lambda: ran.append(kinds(ctx.db)))
    assert kinds(ctx.db) == ["core-kept", "orm-kept", "prepared-kept"]
    assert ran == [["core-kept", "orm-kept", "prepared-kept"]]  # the callback saw the commit


def test_a_failure_rolls_back_every_kind_of_write_and_runs_no_callback(ctx):
    ran = []
    with pytest.raises(RuntimeError, match="half way"), ctx.db.transaction() as session:
        write_three_ways(session, "lost")
        session.flush()  # the ORM row reaches the database before the failure
        session.info.setdefault("after_commit", []).append(lambda: ran.append("callback"))
        raise RuntimeError("half way")
    assert kinds(ctx.db) == []
    assert ran == []
    with ctx.db.transaction() as session:  # the connection is usable again
        write_three_ways(session, "after")
    assert len(kinds(ctx.db)) == 3


def test_a_transaction_with_no_orm_use_still_reads_its_own_writes(ctx):
    with ctx.db.transaction() as session:
        store._INSERT_EVENT.execute(session.connection(), event("mine"))
        assert session.scalar(select(func.count()).select_from(EV)) == 1  # the ORM joins the same transaction


@pytest.mark.skipif(sys.platform == "win32", reason="fork is POSIX")
def test_a_forked_process_opens_its_own_sqlite_connections(tmp_path):
    db = Database(f"sqlite:///{tmp_path}/fork.sqlite")
    try:
        with db.transaction() as session:
            parent_connection = session.connection()
        with db.transaction() as session:
            assert session.connection() is parent_connection  # kept between transactions
        pid = os.fork()
        if pid == 0:  # the child: must not reuse the parent's connection
            code = 3
            try:
                with db.transaction() as session:
                    code = 0 if session.connection() is not parent_connection else 1
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
    finally:
        db.dispose()


def test_more_people_at_once_than_connections_ever_kept_all_get_their_transaction(ctx):
    """Twenty requests writing at the same moment: each gets a connection and its turn to write.

    (Kept connections once sat outside a capped pool: the 16th request waited for a connection that
    never came back and failed after 30 s.)
    """
    people = 20
    start = threading.Barrier(people)
    failures: list[BaseException] = []

    def write(n: int) -> None:
        try:
            start.wait(timeout=10)
            with ctx.db.transaction() as session:
                store._INSERT_EVENT.execute(session.connection(), event(f"person-{n:02d}"))
                time.sleep(0.01)  # hold the transaction while the others queue
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(people)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []
    assert kinds(ctx.db) == [f"person-{n:02d}" for n in range(people)]


def test_the_connections_kept_for_sqlite_are_not_capped_by_a_pool(tmp_path):
    """As many threads as a web server runs may each be between transactions at once.

    Kept connections once came from a pool capped at 15: while kept ones circulated between busy
    threads, a thread waiting on the pool was starved and failed after 30 s (20 people submitting).
    """
    db = Database(f"sqlite:///{tmp_path}/many.sqlite")
    try:
        held = [db._take_connection() for _ in range(40)]
        assert len({id(c) for c in held}) == 40
        for connection in held:
            db._return_connection(connection)
        assert len(db._idle) == db.IDLE_CONNECTIONS  # the rest were closed, not kept
    finally:
        db.dispose()
