"""BPMN patterns process authors rely on: several waits for one message, event subprocesses,
embedded subprocesses, date formatting and working days in scripts."""

from __future__ import annotations

import pytest

from engine import clock
from engine.errors import FormDataInvalid
from engine.services import instances, messages, tasks
from tests.conftest import at, deploy

MONDAY = at("2026-03-02T09:00:00Z")


def start(ctx, key="B801200005001"):
    deploy(ctx, "two_notices.bpmn")
    with clock.frozen_at(MONDAY):
        return instances.start_instance(ctx, "two_notices", business_key=key,
                                        data={"notice_a": "PN-A", "notice_b": "PN-B"})


def waiting(ctx, instance_id):
    return sorted((m["task_id"], m["correlation"].get("notice_ref")) for m in
                  instances.show_instance(ctx, instance_id).messages if m["state"] == "waiting")


def test_a_message_reaches_only_the_wait_it_matched(calendar_ctx):
    view = start(calendar_ctx)
    assert waiting(calendar_ctx, view.id) == [
        ("escalate_start", None), ("paid_a", "PN-A"), ("paid_b", "PN-B")]
    with clock.frozen_at(MONDAY):
        messages.send_message(calendar_ctx, "penalty_paid", correlation={"notice_ref": "PN-A"}, payload={"amount": 80})
        # paying notice A must not pay notice B
        assert waiting(calendar_ctx, view.id) == [("escalate_start", None), ("paid_b", "PN-B")]
        messages.send_message(calendar_ctx, "penalty_paid", correlation={"notice_ref": "PN-B"}, payload={"amount": 160})
    shown = instances.show_instance(calendar_ctx, view.id)
    assert [t["task_id"] for t in shown.tasks if t["state"] == "ready"] == ["plan"]


def test_a_user_task_inside_an_embedded_subprocess_keeps_its_form_and_due_date(calendar_ctx):
    view = start(calendar_ctx)
    with clock.frozen_at(MONDAY):
        for ref in ("PN-A", "PN-B"):
            messages.send_message(calendar_ctx, "penalty_paid", correlation={"notice_ref": ref})
    plan = next(t for t in instances.show_instance(calendar_ctx, view.id).tasks if t["task_id"] == "plan")
    assert plan["form"] == "review-case.schema.json" and plan["teams"] == ["attendance"]
    assert plan["due_at"] == at("2026-03-10T00:00:00Z")  # 5 school days after Mon 2 March: Mon 9 March
    with pytest.raises(FormDataInvalid):
        tasks.complete_task(calendar_ctx, plan["id"], {"outcome": "nonsense"}, actor="ewo1")
    listed = tasks.list_tasks(calendar_ctx, tasks.TaskQuery(process_id="two_notices"))
    assert [t["task_id"] for t in listed] == ["plan"]  # filed under the case's process, not the subprocess


def test_an_event_subprocess_starts_on_its_message(calendar_ctx):
    view = start(calendar_ctx)
    result = messages.send_message(calendar_ctx, "escalate_to_prosecution",
                                   correlation={"business_key": "B801200005001"})
    assert result.delivered_to == [view.id]
    shown = instances.show_instance(calendar_ctx, view.id)
    assert "prosecute" in [t["task_id"] for t in shown.tasks if t["state"] == "ready"]


def test_scripts_format_dates_and_count_working_days(calendar_ctx):
    engine = calendar_ctx.runner.script_engine.environment
    calendar_ctx.calendars.invalidate()
    with calendar_ctx.db.transaction() as session:
        calendar_ctx.calendars.refresh(session)
    data = {"posted": "2026-05-01"}
    engine.execute("received = add_working_days(posted, 2)\nshown = format_date(received)\n"
                   "long = parse_date(posted).strftime('%A %d %B')", data)
    # Fri 1 May + 2 working days: Mon 4 May is a bank holiday, so Wed 6 May
    assert (data["received"], data["shown"], data["long"]) == ("2026-05-06", "6 May 2026", "Friday 01 May")
