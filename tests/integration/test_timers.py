"""Timers on a real database: firing at the due instant, catching up after downtime, suspension,
cycles, late submissions, and the engine clock (never the system clock)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from SpiffWorkflow.util.task import TaskState as SpiffState
from sqlalchemy import func, select

from engine import clock
from engine.errors import TaskNotReady
from engine.models.workflow import HumanTask, ProcessInstance, Timer, WorkflowEvent
from engine.services import instances, tasks, timers
from tests.conftest import at, deploy

MONDAY = at("2026-03-02T09:00:00Z")  # a school day in the example calendar
REVIEW_DUE = at("2026-03-24T00:00:00Z")  # 15 school days after MONDAY: the end of Mon 23 March (UK)
VALID = {"outcome": "support", "reviewed_on": "2026-03-03", "notice_ref": "PN-1"}


# --- helpers ------------------------------------------------------------------------------------------


def start_review(ctx, *, when: datetime = MONDAY, key: str = "B801200005001"):
    deploy(ctx, "review_case.bpmn")
    with clock.frozen_at(when):
        return instances.start_instance(ctx, "review_case", data={"sessions_missed": 6}, business_key=key)


def start_reminder(ctx, *, when: datetime = MONDAY):
    deploy(ctx, "daily_reminder.bpmn")
    with clock.frozen_at(when):
        return instances.start_instance(ctx, "daily_reminder")


def open_task_id(view) -> str:
    return next(t["id"] for t in view.tasks if t["state"] == "ready")


def stored_workflow(ctx, instance_id: int):
    """The instance's workflow exactly as saved (to look at what ran and with which data)."""
    with ctx.db.transaction() as session:
        row = session.get(ProcessInstance, instance_id)
        return ctx.runner.load(
            row.state_json, ctx.serializer.spec_from_dict(row.process_version_id, row.version.spec)
        )


def completed_elements(ctx, instance_id: int) -> list[str]:
    """BPMN ids of the elements this instance has completed."""
    workflow = stored_workflow(ctx, instance_id)
    return [t.task_spec.bpmn_id for t in workflow.tasks.values() if t.state == SpiffState.COMPLETED]


def every_task_data(ctx, instance_id: int) -> list[dict]:
    workflow = stored_workflow(ctx, instance_id)
    return [dict(workflow.data), *(dict(t.data) for t in workflow.tasks.values())]


def event_kinds(ctx, instance_id: int) -> list[str]:
    return [e["kind"] for e in instances.show_instance(ctx, instance_id).events]


def timer_rows(ctx, instance_id: int) -> list[tuple[str, datetime, str, datetime | None]]:
    with ctx.db.transaction() as session:
        rows = session.scalars(select(Timer).where(Timer.instance_id == instance_id).order_by(Timer.id))
        return [(r.task_spec_id, r.due_at, r.state, r.fired_at) for r in rows]


def count_events(ctx, kind: str) -> int:
    with ctx.db.transaction() as session:
        return session.scalar(select(func.count()).where(WorkflowEvent.kind == kind)) or 0


# --- the review timer ---------------------------------------------------------------------------------


def test_review_timer_fires_exactly_at_its_due_instant(calendar_ctx):
    view = start_review(calendar_ctx)

    early = timers.run_due_timers(calendar_ctx, now=REVIEW_DUE - timedelta(seconds=1))
    assert early.fired == [] and early.instances == set()
    assert instances.show_instance(calendar_ctx, view.id).state == "user_input_required"

    run = timers.run_due_timers(calendar_ctx, now=REVIEW_DUE)
    assert run.fired == [
        {
            "instance": view.id,
            "timer": "review_overdue",
            "name": "15 school days passed",
            "due_at": REVIEW_DUE.isoformat(),
        }
    ]
    assert run.instances == {view.id} and run.errors == []

    shown = instances.show_instance(calendar_ctx, view.id)
    assert (shown.state, shown.ended_at) == ("complete", REVIEW_DUE)
    assert "escalated" in completed_elements(calendar_ctx, view.id)
    assert "approve" not in completed_elements(calendar_ctx, view.id)
    assert [(t["task_id"], t["state"]) for t in shown.tasks] == [("review", "cancelled")]
    assert timer_rows(calendar_ctx, view.id) == [("review_overdue", REVIEW_DUE, "fired", REVIEW_DUE)]
    assert event_kinds(calendar_ctx, view.id) == ["started", "timer_fired"]
    fired_event = shown.events[-1]
    assert fired_event["data"] == {
        "timer": "review_overdue",
        "name": "15 school days passed",
        "due_at": REVIEW_DUE.isoformat(),
    }
    assert fired_event["at"] == REVIEW_DUE and fired_event["actor"] is None


def test_running_the_timers_again_fires_nothing(calendar_ctx):
    view = start_review(calendar_ctx)
    timers.run_due_timers(calendar_ctx, now=REVIEW_DUE)

    again = timers.run_due_timers(calendar_ctx, now=REVIEW_DUE + timedelta(days=30))

    assert again.fired == [] and again.instances == set()
    assert count_events(calendar_ctx, "timer_fired") == 1
    assert event_kinds(calendar_ctx, view.id) == ["started", "timer_fired"]


def test_after_downtime_one_run_fires_every_overdue_timer(calendar_ctx):
    started = {
        "2026-03-02": start_review(calendar_ctx, when=at("2026-03-02T09:00:00Z"), key="A"),
        "2026-03-03": start_review(calendar_ctx, when=at("2026-03-03T09:00:00Z"), key="B"),
        "2026-03-04": start_review(calendar_ctx, when=at("2026-03-04T09:00:00Z"), key="C"),
        "2026-03-20": start_review(calendar_ctx, when=at("2026-03-20T09:00:00Z"), key="D"),
    }
    # 15 school days on; the Easter holidays run from 28 March to 12 April.
    due = {day: view.timers[0]["due_at"] for day, view in started.items()}
    assert due == {
        "2026-03-02": at("2026-03-24T00:00:00Z"),
        "2026-03-03": at("2026-03-25T00:00:00Z"),
        "2026-03-04": at("2026-03-26T00:00:00Z"),
        "2026-03-20": at("2026-04-24T23:00:00Z"),  # the end of Fri 24 April, British Summer Time
    }
    back_up = at("2026-04-01T08:00:00Z")  # the scheduler was down from 23 March to 1 April

    run = timers.run_due_timers(calendar_ctx, now=back_up)

    overdue = [started[d].id for d in ("2026-03-02", "2026-03-03", "2026-03-04")]
    assert sorted(f["instance"] for f in run.fired) == overdue
    assert {f["instance"]: f["due_at"] for f in run.fired} == {
        started[d].id: due[d].isoformat() for d in ("2026-03-02", "2026-03-03", "2026-03-04")
    }
    for instance_id in overdue:
        assert instances.show_instance(calendar_ctx, instance_id).state == "complete"
        assert timer_rows(calendar_ctx, instance_id)[0][2:] == ("fired", back_up)
    not_yet = instances.show_instance(calendar_ctx, started["2026-03-20"].id)
    assert not_yet.state == "user_input_required"
    assert [t["state"] for t in not_yet.timers] == ["waiting"]
    assert timers.next_due_at(calendar_ctx) == due["2026-03-20"]


def test_suspended_instance_timer_waits_until_resumed_then_fires(calendar_ctx):
    suspended = start_review(calendar_ctx, key="SUSPENDED")
    running = start_review(calendar_ctx, key="RUNNING")
    instances.suspend_instance(calendar_ctx, suspended.id, actor="manager1", reason="family moved")

    run = timers.run_due_timers(calendar_ctx, now=REVIEW_DUE + timedelta(days=7))

    assert [f["instance"] for f in run.fired] == [running.id]
    assert timer_rows(calendar_ctx, suspended.id) == [("review_overdue", REVIEW_DUE, "waiting", None)]
    assert instances.show_instance(calendar_ctx, suspended.id).state == "user_input_required"
    assert timers.next_due_at(calendar_ctx) is None  # a suspended instance's timer books no wake-up

    resumed_at = REVIEW_DUE + timedelta(days=8)
    with clock.frozen_at(resumed_at):
        resumed = instances.resume_instance(calendar_ctx, suspended.id, actor="manager1")

    assert (resumed.state, resumed.suspended, resumed.ended_at) == ("complete", False, resumed_at)
    assert "escalated" in completed_elements(calendar_ctx, suspended.id)
    assert timer_rows(calendar_ctx, suspended.id) == [("review_overdue", REVIEW_DUE, "fired", resumed_at)]


def test_timer_fired_on_resume_is_recorded_in_the_history(calendar_ctx):
    """Every other path that fires a timer writes a ``timer_fired`` event; resuming must too."""
    view = start_review(calendar_ctx)
    instances.suspend_instance(calendar_ctx, view.id, actor="manager1")
    with clock.frozen_at(REVIEW_DUE + timedelta(days=1)):
        instances.resume_instance(calendar_ctx, view.id, actor="manager1")

    assert event_kinds(calendar_ctx, view.id) == ["started", "suspended", "resumed", "timer_fired"]


# --- cycle timers ---------------------------------------------------------------------------------


def test_cycle_timer_catches_up_with_every_missed_reminder(ctx):
    view = start_reminder(ctx)
    assert [(t["task_id"], t["kind"], t["due_at"]) for t in view.timers] == [
        ("remind", "cycle", MONDAY + timedelta(days=1))
    ]

    run = timers.run_due_timers(ctx, now=MONDAY + timedelta(days=3, hours=5))

    assert completed_elements(ctx, view.id).count("count") == 3
    assert completed_elements(ctx, view.id).count("reminder_sent") == 3
    shown = instances.show_instance(ctx, view.id)
    assert shown.state == "user_input_required"  # non-interrupting: the task stays open
    assert [(t["task_id"], t["state"]) for t in shown.tasks] == [("chase", "ready")]
    assert [(t["due_at"], t["state"]) for t in shown.timers] == [
        (MONDAY + timedelta(days=1), "fired"),
        (MONDAY + timedelta(days=2), "fired"),
        (MONDAY + timedelta(days=3), "fired"),
    ]
    assert [f["due_at"] for f in run.fired] == [(MONDAY + timedelta(days=n)).isoformat() for n in (1, 2, 3)]
    assert event_kinds(ctx, view.id) == ["started", "timer_fired", "timer_fired", "timer_fired"]


def test_cycle_timer_fires_one_occurrence_per_due_time(ctx):
    view = start_reminder(ctx)

    first = timers.run_due_timers(ctx, now=MONDAY + timedelta(days=1))
    second = timers.run_due_timers(ctx, now=MONDAY + timedelta(days=1, hours=12))
    third = timers.run_due_timers(ctx, now=MONDAY + timedelta(days=2))

    assert [len(r.fired) for r in (first, second, third)] == [1, 0, 1]
    assert completed_elements(ctx, view.id).count("count") == 2
    assert [t["state"] for t in instances.show_instance(ctx, view.id).timers] == ["fired", "fired", "waiting"]


# --- late submissions -----------------------------------------------------------------------------


def test_late_submission_is_refused_and_the_timer_effect_is_kept(calendar_ctx):
    view = start_review(calendar_ctx)
    task_id = open_task_id(view)
    late = REVIEW_DUE + timedelta(hours=9)  # no scheduler has run since the deadline passed

    with clock.frozen_at(late), pytest.raises(TaskNotReady) as raised:
        tasks.complete_task(calendar_ctx, task_id, VALID, actor="ewo1")

    assert raised.value.message == (
        "'Review the case' closed before your submission arrived because its deadline passed; "
        "your data was not saved to the case. Copy anything you need and check the case's current step."
    )
    shown = instances.show_instance(calendar_ctx, view.id)
    assert (shown.state, shown.ended_at) == ("complete", late)
    assert "escalated" in completed_elements(calendar_ctx, view.id)
    assert timer_rows(calendar_ctx, view.id) == [("review_overdue", REVIEW_DUE, "fired", late)]
    with calendar_ctx.db.transaction() as session:
        task = session.get(HumanTask, task_id)
        assert (task.state, task.completed_by) == ("cancelled", None)
    assert event_kinds(calendar_ctx, view.id) == ["started", "timer_fired"]
    assert all(
        "outcome" not in data and "reviewed_on" not in data for data in every_task_data(calendar_ctx, view.id)
    )
    assert timers.run_due_timers(calendar_ctx, now=late).fired == []  # the scheduler finds nothing left


def test_submission_one_second_before_the_deadline_is_accepted(calendar_ctx):
    view = start_review(calendar_ctx)

    with clock.frozen_at(REVIEW_DUE - timedelta(seconds=1)):
        result = tasks.complete_task(calendar_ctx, open_task_id(view), VALID, actor="ewo1")

    assert result["instance_state"] == "user_input_required"
    assert [t["state"] for t in instances.show_instance(calendar_ctx, view.id).timers] == ["cancelled"]


# --- the engine clock -----------------------------------------------------------------------------


@time_machine.travel(datetime(2031, 6, 1, 12, 0, tzinfo=UTC), tick=False)
def test_timers_follow_the_engine_clock_not_the_system_clock(calendar_ctx):
    review = start_review(calendar_ctx)
    reminder = start_reminder(calendar_ctx)
    # Due times were computed from the engine clock (2026), although the system says 2031.
    assert review.timers[0]["due_at"] == REVIEW_DUE
    assert reminder.timers[0]["due_at"] == MONDAY + timedelta(days=1)

    before = timers.run_due_timers(calendar_ctx, now=MONDAY + timedelta(hours=23))

    assert before.fired == []
    assert instances.show_instance(calendar_ctx, review.id).state == "user_input_required"
    assert completed_elements(calendar_ctx, reminder.id).count("count") == 0
    with clock.frozen_at(MONDAY + timedelta(hours=23)):
        tasks.complete_task(calendar_ctx, open_task_id(review), VALID, actor="ewo1")  # not late in 2026
