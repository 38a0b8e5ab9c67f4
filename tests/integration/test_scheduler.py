"""The APScheduler wiring: a background scheduler fires a real-clock timer, and one tick's bookkeeping.

The background test is the one place in the suite that uses the real clock: it waits (polling the
database, with a generous limit) until a timer due a second after the start has fired. It asserts what
happened, never how quickly.
"""

from __future__ import annotations

import time
from datetime import timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import select

from engine import clock
from engine.config import load_settings
from engine.context import create_context
from engine.models.workflow import Timer, WorkflowEvent
from engine.scheduler import POLL_JOB, WAKE_JOB, configure, fire_due, start_in_background
from engine.services import instances
from tests.conftest import FIXTURES, at, deploy

MONDAY = at("2026-03-02T09:00:00Z")
WAIT_LIMIT_SECONDS = 30


def scheduler_context(ctx, tmp_path, poll_seconds: float):
    """A second engine context on the same database, as a scheduler process would build for itself."""
    settings = load_settings(
        instance_path=tmp_path,
        database_url=ctx.db.url,
        form_library_path=FIXTURES / "forms",
        timer_poll_seconds=poll_seconds,
    )
    return create_context(settings, database=ctx.db)


def timer_states(ctx, instance_id: int) -> list[str]:
    with ctx.db.transaction() as session:
        return list(session.scalars(select(Timer.state).where(Timer.instance_id == instance_id)))


def wait_until(condition, limit_seconds: float = WAIT_LIMIT_SECONDS) -> bool:
    deadline = time.monotonic() + limit_seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def test_background_scheduler_fires_a_timer_when_it_falls_due(ctx, tmp_path):
    deploy(ctx, "one_second_timer.bpmn")
    view = instances.start_instance(ctx, "one_second_timer")  # the real clock: due in one second
    assert (view.state, [t["state"] for t in view.timers]) == ("waiting", ["waiting"])

    scheduler = start_in_background(scheduler_context(ctx, tmp_path, poll_seconds=0.2))
    try:
        fired = wait_until(lambda: timer_states(ctx, view.id) == ["fired"])
    finally:
        scheduler.shutdown(wait=True)

    assert fired, f"the timer did not fire within {WAIT_LIMIT_SECONDS} s"
    shown = instances.show_instance(ctx, view.id)
    assert shown.state == "user_input_required"
    assert [(t["task_id"], t["state"]) for t in shown.tasks] == [("call_back", "ready")]
    with ctx.db.transaction() as session:
        kinds = list(session.scalars(select(WorkflowEvent.kind).where(WorkflowEvent.instance_id == view.id)))
    assert kinds == ["started", "timer_fired"]


def test_one_tick_fires_what_is_due_and_books_a_wake_up_for_the_next_timer(ctx, tmp_path):
    scheduler_ctx = scheduler_context(ctx, tmp_path, poll_seconds=60)
    deploy(ctx, "one_second_timer.bpmn")
    with clock.frozen_at(MONDAY):
        due_now = instances.start_instance(ctx, "one_second_timer")
    with clock.frozen_at(MONDAY + timedelta(seconds=30)):
        due_later = instances.start_instance(ctx, "one_second_timer")
    scheduler = configure(scheduler_ctx, _paused_scheduler())

    with clock.frozen_at(MONDAY + timedelta(seconds=5)):
        fired = fire_due(scheduler_ctx, scheduler)

    assert fired == 1
    assert (timer_states(ctx, due_now.id), timer_states(ctx, due_later.id)) == (["fired"], ["waiting"])
    wake = scheduler.get_job(WAKE_JOB)
    assert wake is not None and wake.trigger.run_date == MONDAY + timedelta(seconds=31)
    assert scheduler.get_job(POLL_JOB) is not None


def test_a_tick_books_no_wake_up_beyond_the_next_poll(ctx, tmp_path):
    scheduler_ctx = scheduler_context(ctx, tmp_path, poll_seconds=10)
    deploy(ctx, "one_second_timer.bpmn")
    with clock.frozen_at(MONDAY):
        instances.start_instance(ctx, "one_second_timer")
    scheduler = configure(scheduler_ctx, _paused_scheduler())

    with clock.frozen_at(MONDAY - timedelta(minutes=5)):
        assert fire_due(scheduler_ctx, scheduler) == 0

    assert scheduler.get_job(WAKE_JOB) is None  # the poll will see it first


def _paused_scheduler() -> BackgroundScheduler:
    """A scheduler that is never started: jobs are booked but nothing runs by itself."""
    return BackgroundScheduler(timezone="UTC")
