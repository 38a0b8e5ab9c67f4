"""Concurrency on a real database: two people on one task, two schedulers on the same timers, and the
optimistic lock on ``process_instance`` (its ``lock_version`` column).

Threads do not inherit the engine clock (it is a context variable), so each thread freezes its own.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from engine import clock
from engine.errors import InstanceChanged, MessageNotDelivered, TaskAlreadyCompleted
from engine.models.workflow import HumanTask, ProcessInstance, Timer, WorkflowEvent
from engine.services import instance_store, instances, messages, tasks, timers
from tests.conftest import at, deploy

MONDAY = at("2026-03-02T09:00:00Z")
TUESDAY = at("2026-03-03T10:00:00Z")
REVIEW_DUE = at("2026-03-24T00:00:00Z")
SUPPORT = {"outcome": "support", "reviewed_on": "2026-03-03", "notice_ref": "PN-1"}
ESCALATE = {"outcome": "escalate", "reviewed_on": "2026-03-03", "notice_ref": "PN-2"}


# --- helpers ------------------------------------------------------------------------------------------


def start_review(ctx, key: str = "B801200005001"):
    deploy(ctx, "review_case.bpmn")
    with clock.frozen_at(MONDAY):
        return instances.start_instance(ctx, "review_case", data={"sessions_missed": 6}, business_key=key)


def open_tasks(ctx, instance_id: int) -> list[dict]:
    return [t for t in instances.show_instance(ctx, instance_id).tasks if t["state"] == "ready"]


def run_at_once(calls: dict[str, Callable[[], Any]]) -> dict[str, Any]:
    """Run each call in its own thread, released together; the result or exception of each, by name."""
    barrier = threading.Barrier(len(calls))
    outcomes: dict[str, Any] = {}

    def run(name: str, call: Callable[[], Any]) -> None:
        barrier.wait()
        try:
            outcomes[name] = call()
        except Exception as error:  # the outcome under test
            outcomes[name] = error

    threads = [threading.Thread(target=run, args=item) for item in calls.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a thread is still running"
    return outcomes


def events_of(ctx, instance_id: int, kind: str) -> list[WorkflowEvent]:
    with ctx.db.transaction() as session:
        return list(
            session.scalars(
                select(WorkflowEvent).where(
                    WorkflowEvent.instance_id == instance_id, WorkflowEvent.kind == kind
                )
            )
        )


@contextlib.contextmanager
def another_writer_before_our_instance_update(ctx, then: Callable[[], None] | None = None) -> Iterator[None]:
    """Make the next UPDATE of a ``process_instance`` row find that someone else changed it first.

    Just before the service's UPDATE reaches the database, every instance's ``lock_version`` is bumped
    on the same connection, as a committed change by another process would have done (a real one
    cannot land there: the services hold the row lock, or SQLite's write lock, from their first read).
    The service's UPDATE, conditional on the version it read, then matches no row. ``then`` runs once
    our transaction has rolled back (when the service opens its next one, to say what happened): the
    other writer's work, committed before the service reports.
    """
    armed = {"update": True, "rollback": then is not None}
    service_update = instance_store._UPDATE.execute  # the instance row's conditional UPDATE
    service_transaction = ctx.db.transaction

    def bump(connection: Any, params: Any) -> int:
        if armed["update"]:
            armed["update"] = False
            connection.execute(
                update(ProcessInstance.__table__).values(lock_version=ProcessInstance.lock_version + 1)
            )
        return service_update(connection, params)

    @contextlib.contextmanager
    def transaction_after_ours() -> Iterator[Session]:
        if armed["rollback"] and not armed["update"]:
            armed["rollback"] = False
            then()  # type: ignore[misc]
        with service_transaction() as session:
            yield session

    instance_store._UPDATE.execute = bump  # type: ignore[method-assign]
    ctx.db.transaction = transaction_after_ours
    try:
        yield
    finally:
        del instance_store._UPDATE.execute
        del ctx.db.transaction
    assert not armed["update"], "the service never wrote the instance row"


# --- two people, one task -----------------------------------------------------------------------------


@pytest.mark.parametrize("round_", range(3))
def test_two_people_completing_one_task_at_once_advance_it_once(calendar_ctx, round_):
    view = start_review(calendar_ctx)
    task_id = open_tasks(calendar_ctx, view.id)[0]["id"]

    def complete(actor: str, data: dict) -> Callable[[], Any]:
        def call() -> Any:
            with clock.frozen_at(TUESDAY):
                return tasks.complete_task(calendar_ctx, task_id, data, actor=actor)

        return call

    outcomes = run_at_once({"ewo1": complete("ewo1", SUPPORT), "ewo2": complete("ewo2", ESCALATE)})

    winners = [actor for actor, outcome in outcomes.items() if isinstance(outcome, dict)]
    assert len(winners) == 1, outcomes
    [winner] = winners
    [loser] = set(outcomes) - {winner}
    refused = outcomes[loser]
    assert isinstance(refused, TaskAlreadyCompleted), repr(refused)
    assert refused.message == (
        f"'Review the case' was already completed by {winner} at 03 Mar 2026 10:00; "
        "your submission was not applied."
    )
    assert refused.details == {"completed_by": winner}

    [completed] = events_of(calendar_ctx, view.id, "task_completed")
    assert (completed.actor, completed.data) == (winner, {"ewo1": SUPPORT, "ewo2": ESCALATE}[winner])
    assert events_of(calendar_ctx, view.id, "timer_fired") == []
    assert [t["task_id"] for t in open_tasks(calendar_ctx, view.id)] == ["approve"]
    shown = instances.show_instance(calendar_ctx, view.id)
    assert [(t["task_id"], t["state"], t["completed_by"]) for t in shown.tasks] == [
        ("review", "completed", winner),
        ("approve", "ready", None),
    ]


# --- two schedulers, the same due timers --------------------------------------------------------------


def test_two_schedulers_fire_each_due_timer_exactly_once(calendar_ctx):
    count = 30
    started = [start_review(calendar_ctx, key=f"B8012000050{n:02d}").id for n in range(count)]

    runs = run_at_once(
        {
            "scheduler-a": lambda: timers.run_due_timers(calendar_ctx, now=REVIEW_DUE, batch_size=7),
            "scheduler-b": lambda: timers.run_due_timers(calendar_ctx, now=REVIEW_DUE, batch_size=7),
        }
    )

    a, b = runs["scheduler-a"], runs["scheduler-b"]
    assert not isinstance(a, Exception) and not isinstance(b, Exception), runs
    assert a.errors == b.errors == []
    assert a.instances.isdisjoint(b.instances)
    assert sorted(a.instances | b.instances) == started
    assert len(a.fired) + len(b.fired) == count
    with calendar_ctx.db.transaction() as session:
        assert session.scalar(select(func.count()).where(WorkflowEvent.kind == "timer_fired")) == count
        per_instance = dict(
            session.execute(
                select(WorkflowEvent.instance_id, func.count())
                .where(WorkflowEvent.kind == "timer_fired")
                .group_by(WorkflowEvent.instance_id)
            ).all()
        )
        assert per_instance == dict.fromkeys(started, 1)
        assert session.execute(select(Timer.state, Timer.fired_at)).all() == [("fired", REVIEW_DUE)] * count
        states = session.scalars(select(ProcessInstance.state).order_by(ProcessInstance.id)).all()
        assert states == ["complete"] * count
        assert session.scalar(select(func.count()).where(HumanTask.state == "ready")) == 0
    assert timers.run_due_timers(calendar_ctx, now=REVIEW_DUE + timedelta(days=1)).fired == []


# --- one message sent twice at once -------------------------------------------------------------------


def test_the_same_message_sent_twice_at_once_is_received_once(calendar_ctx):
    view = start_review(calendar_ctx)
    with clock.frozen_at(TUESDAY):
        tasks.complete_task(calendar_ctx, open_tasks(calendar_ctx, view.id)[0]["id"], SUPPORT, actor="ewo1")
        tasks.complete_task(calendar_ctx, open_tasks(calendar_ctx, view.id)[0]["id"], {}, actor="manager1")

    def send() -> Any:
        return messages.send_message(calendar_ctx, "penalty_paid", correlation={"notice_ref": "PN-1"})

    outcomes = run_at_once({"first": send, "second": send})

    delivered = [o for o in outcomes.values() if not isinstance(o, Exception)]
    refused = [o for o in outcomes.values() if isinstance(o, Exception)]
    assert [d.delivered_to for d in delivered] == [[view.id]]
    assert len(refused) == 1 and isinstance(refused[0], MessageNotDelivered), outcomes
    assert len(events_of(calendar_ctx, view.id, "message_received")) == 1
    assert instances.show_instance(calendar_ctx, view.id).state == "complete"


# --- the optimistic lock --------------------------------------------------------------------------------


def test_a_stale_instance_row_cannot_be_written(calendar_ctx):
    view = start_review(calendar_ctx)
    stale_session = Session(calendar_ctx.db.engine, expire_on_commit=False)
    try:
        stale = stale_session.get(ProcessInstance, view.id)
        stale_session.commit()  # ends the read transaction; the loaded row (and its lock_version) stays
        instances.suspend_instance(calendar_ctx, view.id, actor="manager1")  # another transaction commits

        stale.state = "cancelled"  # a change made on what it read before the suspension
        with pytest.raises(StaleDataError):
            stale_session.flush()
        stale_session.rollback()
    finally:
        stale_session.close()
    shown = instances.show_instance(calendar_ctx, view.id)
    assert (shown.state, shown.suspended) == ("user_input_required", True)


def test_instance_service_reports_a_lost_optimistic_lock_as_instance_changed(calendar_ctx):
    view = start_review(calendar_ctx)

    with another_writer_before_our_instance_update(calendar_ctx), pytest.raises(InstanceChanged) as raised:
        instances.cancel_instance(calendar_ctx, view.id, actor="manager1", reason="duplicate")

    assert raised.value.message == (
        f"Instance {view.id} was changed by someone else while you worked; reload it and try again."
    )
    shown = instances.show_instance(calendar_ctx, view.id)
    assert (shown.state, [t["state"] for t in shown.tasks]) == ("user_input_required", ["ready"])
    assert [e["kind"] for e in shown.events] == ["started"]  # nothing of the cancellation was kept


def test_task_service_reports_a_lost_optimistic_lock_as_instance_changed(calendar_ctx):
    view = start_review(calendar_ctx)
    task_id = open_tasks(calendar_ctx, view.id)[0]["id"]

    with (
        clock.frozen_at(TUESDAY),
        another_writer_before_our_instance_update(calendar_ctx),
        pytest.raises(InstanceChanged) as raised,
    ):
        tasks.complete_task(calendar_ctx, task_id, SUPPORT, actor="ewo2")

    assert "reload" in raised.value.message  # says what to do: nothing of the submission was kept

    assert tasks.get_task(calendar_ctx, task_id)["state"] == "ready"
    assert events_of(calendar_ctx, view.id, "task_completed") == []


def test_task_service_names_who_completed_the_task_when_its_write_loses(calendar_ctx):
    view = start_review(calendar_ctx)
    task_id = open_tasks(calendar_ctx, view.id)[0]["id"]

    def colleague_completes_it() -> None:
        tasks.complete_task(calendar_ctx, task_id, SUPPORT, actor="ewo1")

    with (
        clock.frozen_at(TUESDAY),
        another_writer_before_our_instance_update(calendar_ctx, then=colleague_completes_it),
        pytest.raises(TaskAlreadyCompleted) as raised,
    ):
        tasks.complete_task(calendar_ctx, task_id, ESCALATE, actor="ewo2")

    assert raised.value.details == {"completed_by": "ewo1"}
    assert "already completed by ewo1" in raised.value.message
    [completed] = events_of(calendar_ctx, view.id, "task_completed")
    assert (completed.actor, completed.data) == ("ewo1", SUPPORT)
    assert [t["task_id"] for t in open_tasks(calendar_ctx, view.id)] == ["approve"]
