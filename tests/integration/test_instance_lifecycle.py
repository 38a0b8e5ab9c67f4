"""A process instance from start to end through the services, on a real database."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from engine import clock
from engine.errors import (
    FormDataInvalid,
    InstanceNotRunning,
    NotFound,
    ScriptError,
    ScriptTimeout,
    TaskAlreadyCompleted,
    TaskNotReady,
)
from engine.models.workflow import HumanTask, ProcessInstance, Timer, WorkflowEvent
from engine.services import instances, tasks
from tests.conftest import FIXTURES, at, deploy

MONDAY = at("2026-03-02T09:00:00Z")  # a school day in the example calendar
VALID = {"outcome": "support", "reviewed_on": "2026-03-03", "notice_ref": "PN-1"}


@pytest.fixture(autouse=True)
def _before_the_review_deadline():
    """Work happens on Tuesday 3 March 2026 unless a test says otherwise (the review is due on the 23rd)."""
    with clock.frozen_at(at("2026-03-03T10:00:00Z")):
        yield


def start_review(ctx, missed: int = 6, key: str = "B801200005001"):
    deploy(ctx, "review_case.bpmn")
    with clock.frozen_at(MONDAY):
        return instances.start_instance(ctx, "review_case", data={"sessions_missed": missed},
                                        business_key=key, actor="ewo1")


def open_task(view):
    return next(t for t in view.tasks if t["state"] == "ready")


def test_start_runs_script_and_gateway_to_first_user_task(calendar_ctx):
    view = start_review(calendar_ctx)
    assert view.state == "user_input_required"
    task = open_task(view)
    assert (task["task_id"], task["name"], task["teams"], task["form"]) == (
        "review", "Review the case", ["attendance"], "review-case.schema.json")
    # 15 school days after Mon 2 March 2026 is Mon 23 March; the deadline ends at midnight UK time.
    assert task["due_at"] == at("2026-03-24T00:00:00Z")
    assert [(t["task_id"], t["due_at"], t["state"]) for t in view.timers] == [
        ("review_overdue", at("2026-03-24T00:00:00Z"), "waiting")]


def test_gateway_default_path_ends_the_instance(calendar_ctx):
    view = start_review(calendar_ctx, missed=2)
    assert view.state == "complete" and view.tasks == [] and view.ended_at is not None


def test_complete_tasks_then_message_finishes(calendar_ctx):
    view = start_review(calendar_ctx)
    with clock.frozen_at(at("2026-03-03T10:00:00Z")):
        result = tasks.complete_task(calendar_ctx, open_task(view)["id"], VALID, actor="ewo1")
    assert result["instance_state"] == "user_input_required"
    shown = instances.show_instance(calendar_ctx, view.id)
    assert [t["state"] for t in shown.timers] == ["cancelled"]  # the boundary timer went with its task
    approve = open_task(shown)
    assert approve["teams"] == ["managers"]
    tasks.complete_task(calendar_ctx, approve["id"], {}, actor="manager1")
    shown = instances.show_instance(calendar_ctx, view.id)
    assert shown.state == "waiting"
    assert shown.messages == [{"task_id": "wait_paid", "message": "penalty_paid",
                               "correlation": {"notice_ref": "PN-1"}, "state": "waiting"}]
    kinds = [(e["kind"], e["actor"]) for e in shown.events]
    assert kinds == [("started", "ewo1"), ("task_completed", "ewo1"), ("task_completed", "manager1")]


def test_submission_is_validated_and_filtered_through_the_form(calendar_ctx):
    view = start_review(calendar_ctx)
    task_id = open_task(view)["id"]
    with pytest.raises(FormDataInvalid) as raised:
        tasks.complete_task(calendar_ctx, task_id, {"outcome": "shrug", "reviewed_on": "03/03/2026"},
                            actor="ewo1")
    assert {e.path for e in raised.value.errors} == {"outcome", "reviewed_on"}
    # nothing was written by the failed attempt
    assert tasks.get_task(calendar_ctx, task_id)["state"] == "ready"
    data = {**VALID, "is_admin": True, "__class__": "x"}
    tasks.complete_task(calendar_ctx, task_id, data, actor="ewo1")
    with calendar_ctx.db.transaction() as session:
        event = session.scalars(select(WorkflowEvent).where(WorkflowEvent.kind == "task_completed")).one()
        assert event.data == VALID  # undeclared fields never reach the case
        assert event.form_version_id is not None


def test_completing_twice_reports_who_did_it(calendar_ctx):
    view = start_review(calendar_ctx)
    task_id = open_task(view)["id"]
    tasks.complete_task(calendar_ctx, task_id, VALID, actor="ewo1")
    with pytest.raises(TaskAlreadyCompleted, match="already completed by ewo1"):
        tasks.complete_task(calendar_ctx, task_id, VALID, actor="ewo2")


def test_task_of_another_instance_is_refused(calendar_ctx):
    first = start_review(calendar_ctx, key="A")
    with clock.frozen_at(MONDAY):
        second = instances.start_instance(calendar_ctx, "review_case", data={"sessions_missed": 9})
    with pytest.raises(TaskNotReady, match="does not belong"):
        tasks.complete_task(calendar_ctx, open_task(first)["id"], VALID, actor="x", instance_id=second.id)


def test_unknown_task_and_process(calendar_ctx):
    with pytest.raises(NotFound):
        tasks.complete_task(calendar_ctx, "no-such-task", {}, actor="x")
    with pytest.raises(NotFound, match="No process 'nope' is deployed"):
        instances.start_instance(calendar_ctx, "nope")


def test_assigned_task_cannot_be_completed_by_someone_else(calendar_ctx):
    view = start_review(calendar_ctx)
    task_id = open_task(view)["id"]
    tasks.claim_task(calendar_ctx, task_id, user="ewo1")
    with pytest.raises(Exception, match="assigned to ewo1"):
        tasks.complete_task(calendar_ctx, task_id, VALID, actor="ewo2")
    tasks.assign_task(calendar_ctx, task_id, assignee="ewo2", actor="manager1")
    tasks.complete_task(calendar_ctx, task_id, VALID, actor="ewo2")


def test_suspend_blocks_work_and_resume_restores_it(calendar_ctx):
    view = start_review(calendar_ctx)
    instances.suspend_instance(calendar_ctx, view.id, actor="manager1", reason="family moved")
    with pytest.raises(InstanceNotRunning, match="suspended"):
        tasks.complete_task(calendar_ctx, open_task(view)["id"], VALID, actor="ewo1")
    with clock.frozen_at(at("2026-03-04T09:00:00Z")):
        resumed = instances.resume_instance(calendar_ctx, view.id, actor="manager1")
    assert resumed.state == "user_input_required" and not resumed.suspended


def test_cancel_closes_tasks_and_timers(calendar_ctx):
    view = start_review(calendar_ctx)
    cancelled = instances.cancel_instance(calendar_ctx, view.id, actor="manager1", reason="duplicate")
    assert cancelled.state == "cancelled"
    assert [t["state"] for t in cancelled.tasks] == ["cancelled"]
    assert [t["state"] for t in cancelled.timers] == ["cancelled"]
    with pytest.raises(InstanceNotRunning, match="has ended"):
        instances.cancel_instance(calendar_ctx, view.id, actor="manager1")


def test_script_error_is_kept_and_retried_after_fixing_data(calendar_ctx):
    deploy(calendar_ctx, "script_error.bpmn")
    view = instances.start_instance(calendar_ctx, "share_of_sessions", data={"sessions_possible": 0, "missed": 3})
    assert view.state == "error"
    assert view.error["task_id"] == "compute" and view.error["line"] == 2
    assert "ZeroDivisionError" in view.error["message"] or "division by zero" in view.error["message"]
    repaired = instances.retry_instance(calendar_ctx, view.id, actor="admin", data_changes={"sessions_possible": 6})
    assert repaired.state == "user_input_required" and repaired.error is None
    history = [e["kind"] for e in instances.show_instance(calendar_ctx, view.id).events]
    assert history == ["started", "error", "retried"]


def test_endless_script_is_stopped(calendar_ctx):
    deploy(calendar_ctx, "endless_script.bpmn")
    view = instances.start_instance(calendar_ctx, "endless_script")
    assert view.state == "error"
    assert view.error["code"] == ScriptTimeout.code and view.error["task_id"] == "spin"


def test_escaping_script_fails_inside_the_sandbox(calendar_ctx):
    deploy(calendar_ctx, "escaping_script.bpmn")
    view = instances.start_instance(calendar_ctx, "escaping_script")
    assert view.state == "error" and view.error["task_id"] == "escape"
    assert view.error["code"] in {"sandbox_violation", ScriptError.code}


def test_running_instances_keep_their_version(calendar_ctx, tmp_path):
    view = start_review(calendar_ctx)
    changed = tmp_path / "review_case.bpmn"
    original = (FIXTURES / "bpmn" / "review_case.bpmn").read_text()
    changed.write_text(original.replace("Review the case", "Review the case (v2)"))
    report = deploy(calendar_ctx, str(changed))
    assert [(d.process_id, d.version, d.status) for d in report.deployed] == [("review_case", 2, "new")]
    assert instances.show_instance(calendar_ctx, view.id).version == 1
    with clock.frozen_at(MONDAY):
        newer = instances.start_instance(calendar_ctx, "review_case", data={"sessions_missed": 9})
    assert newer.version == 2 and open_task(newer)["name"] == "Review the case (v2)"
    tasks.complete_task(calendar_ctx, open_task(view)["id"], VALID, actor="ewo1")  # old version still runs


def test_state_is_stored_without_the_spec(calendar_ctx):
    view = start_review(calendar_ctx)
    with calendar_ctx.db.transaction() as session:
        instance = session.get(ProcessInstance, view.id)
        assert '"spec"' not in instance.state_json and "review_case" not in instance.state_json.split('"tasks"')[0]
        assert session.scalar(select(func.count()).select_from(HumanTask)) == 1
        assert session.scalar(select(func.count()).select_from(Timer)) == 1


def test_task_data_is_shown_only_through_the_form(calendar_ctx):
    deploy(calendar_ctx, "review_case.bpmn")
    with clock.frozen_at(MONDAY):
        view = instances.start_instance(
            calendar_ctx, "review_case",
            data={"sessions_missed": 6, "notice_ref": "PN-9", "social_care_notes": "restricted"},
        )
    shown = tasks.task_form_data(calendar_ctx, open_task(view)["id"])
    # score, review_by, sessions_missed and the notes are process variables, not form fields
    assert shown == {"notice_ref": "PN-9"}
