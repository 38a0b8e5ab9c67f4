"""Messages on a real database: correlation, payloads, undelivered messages and message start events."""

from __future__ import annotations

import pytest
from SpiffWorkflow.util.task import TaskState as SpiffState
from sqlalchemy import select

from engine import clock
from engine.errors import MessageNotDelivered
from engine.models.workflow import MessageRecord, MessageWait, ProcessInstance
from engine.services import instances, messages, tasks
from tests.conftest import at, deploy

MONDAY = at("2026-03-02T09:00:00Z")
TUESDAY = at("2026-03-03T10:00:00Z")
PAYMENT = {"amount": 80, "paid_on": "2026-03-10", "method": "card"}


# --- helpers ------------------------------------------------------------------------------------------


def waiting_for_payment(ctx, notice_ref: str, *, key: str = "B801200005001") -> int:
    """A review_case instance reviewed and approved, now waiting for ``penalty_paid``."""
    deploy(ctx, "review_case.bpmn")
    with clock.frozen_at(MONDAY):
        view = instances.start_instance(ctx, "review_case", data={"sessions_missed": 6}, business_key=key)
    review = {"outcome": "escalate", "reviewed_on": "2026-03-03", "notice_ref": notice_ref}
    with clock.frozen_at(TUESDAY):
        tasks.complete_task(ctx, _open_task(ctx, view.id), review, actor="ewo1")
        tasks.complete_task(ctx, _open_task(ctx, view.id), {}, actor="manager1")
    assert instances.show_instance(ctx, view.id).state == "waiting"
    return view.id


def _open_task(ctx, instance_id: int) -> str:
    return next(t["id"] for t in instances.show_instance(ctx, instance_id).tasks if t["state"] == "ready")


def state_of(ctx, instance_id: int) -> str:
    return instances.show_instance(ctx, instance_id).state


def data_at(ctx, instance_id: int, element_id: str) -> dict:
    """The data of the (last) completed or ready task for ``element_id``, from the stored workflow."""
    with ctx.db.transaction() as session:
        row = session.get(ProcessInstance, instance_id)
        spec_pair = ctx.serializer.spec_from_dict(row.process_version_id, row.version.spec)
        workflow = ctx.runner.load(row.state_json, spec_pair)
    found = [
        t
        for t in workflow.tasks.values()
        if t.task_spec.bpmn_id == element_id and t.state in (SpiffState.COMPLETED, SpiffState.READY)
    ]
    return dict(found[-1].data)


def message_rows(ctx) -> list[tuple[str, dict, dict | None, str, list]]:
    with ctx.db.transaction() as session:
        rows = session.scalars(select(MessageRecord).order_by(MessageRecord.id))
        return [(r.name, r.correlation, r.payload, r.status, r.delivered_to) for r in rows]


def wait_states(ctx, instance_id: int) -> list[str]:
    with ctx.db.transaction() as session:
        return list(session.scalars(select(MessageWait.state).where(MessageWait.instance_id == instance_id)))


# --- correlation ------------------------------------------------------------------------------------


def test_message_reaches_only_the_instance_with_the_matching_notice_ref(calendar_ctx):
    first = waiting_for_payment(calendar_ctx, "PN-2026-0041")
    second = waiting_for_payment(calendar_ctx, "PN-2026-0042")
    third = waiting_for_payment(calendar_ctx, "PN-2026-0043")

    with clock.frozen_at(at("2026-03-10T15:00:00Z")):
        result = messages.send_message(
            calendar_ctx,
            "penalty_paid",
            correlation={"notice_ref": "PN-2026-0042"},
            payload=PAYMENT,
            actor="finance",
        )

    assert (result.delivered_to, result.started) == ([second], [])
    assert state_of(calendar_ctx, second) == "complete"
    assert instances.show_instance(calendar_ctx, second).ended_at == at("2026-03-10T15:00:00Z")
    assert (state_of(calendar_ctx, first), state_of(calendar_ctx, third)) == ("waiting", "waiting")
    assert data_at(calendar_ctx, second, "wait_paid")["payment"] == PAYMENT
    assert data_at(calendar_ctx, second, "done")["payment"] == PAYMENT
    assert wait_states(calendar_ctx, second) == ["received"]
    assert wait_states(calendar_ctx, first) == wait_states(calendar_ctx, third) == ["waiting"]
    assert message_rows(calendar_ctx) == [
        ("penalty_paid", {"notice_ref": "PN-2026-0042"}, PAYMENT, "delivered", [second])
    ]
    received = instances.show_instance(calendar_ctx, second).events[-1]
    assert (received["kind"], received["actor"]) == ("message_received", "finance")
    assert received["data"] == {
        "message": "penalty_paid",
        "message_id": result.message_id,
        "payload": PAYMENT,
    }


def test_message_correlated_by_business_key(calendar_ctx):
    other = waiting_for_payment(calendar_ctx, "PN-1", key="B801200005001")
    target = waiting_for_payment(calendar_ctx, "PN-2", key="B801200005002")

    result = messages.send_message(
        calendar_ctx, "penalty_paid", correlation={"business_key": "B801200005002"}, payload=PAYMENT
    )

    assert result.delivered_to == [target]
    assert (state_of(calendar_ctx, target), state_of(calendar_ctx, other)) == ("complete", "waiting")
    assert data_at(calendar_ctx, target, "done")["payment"] == PAYMENT


def test_every_correlation_value_must_match(calendar_ctx):
    waiting = waiting_for_payment(calendar_ctx, "PN-1", key="B801200005001")

    with pytest.raises(MessageNotDelivered):
        messages.send_message(
            calendar_ctx, "penalty_paid", correlation={"business_key": "B801200005001", "notice_ref": "PN-9"}
        )

    assert state_of(calendar_ctx, waiting) == "waiting"
    both = {"business_key": "B801200005001", "notice_ref": "PN-1"}
    assert messages.send_message(calendar_ctx, "penalty_paid", correlation=both).delivered_to == [waiting]


def test_instances_sharing_a_business_key_all_receive_it(calendar_ctx):
    first = waiting_for_payment(calendar_ctx, "PN-A", key="B801200005001")
    second = waiting_for_payment(calendar_ctx, "PN-B", key="B801200005001")
    elsewhere = waiting_for_payment(calendar_ctx, "PN-C", key="B801200005009")

    result = messages.send_message(
        calendar_ctx, "penalty_paid", correlation={"business_key": "B801200005001"}, payload=PAYMENT
    )

    assert sorted(result.delivered_to) == [first, second]
    assert [state_of(calendar_ctx, i) for i in (first, second, elsewhere)] == [
        "complete",
        "complete",
        "waiting",
    ]
    [(_name, _correlation, _payload, status, delivered_to)] = message_rows(calendar_ctx)
    assert (status, sorted(delivered_to)) == ("delivered", [first, second])


# --- what is not delivered ----------------------------------------------------------------------------


def test_unknown_correlation_is_refused_and_recorded_as_undelivered(calendar_ctx):
    waiting = waiting_for_payment(calendar_ctx, "PN-1")

    with pytest.raises(MessageNotDelivered) as raised:
        messages.send_message(
            calendar_ctx,
            "penalty_paid",
            correlation={"notice_ref": "PN-404"},
            payload=PAYMENT,
            actor="finance",
        )

    [row] = message_rows(calendar_ctx)
    assert row == ("penalty_paid", {"notice_ref": "PN-404"}, PAYMENT, "undelivered", [])
    with calendar_ctx.db.transaction() as session:
        message_id = session.scalar(select(MessageRecord.id))
    assert raised.value.message == (
        "No process instance is waiting for message 'penalty_paid' with correlation "
        "{'notice_ref': 'PN-404'}, and no process starts with it. "
        f"It was recorded as undelivered (message {message_id})."
    )
    assert raised.value.details == {"message_id": message_id}
    assert state_of(calendar_ctx, waiting) == "waiting"
    assert wait_states(calendar_ctx, waiting) == ["waiting"]


def test_message_without_correlation_is_not_broadcast(calendar_ctx):
    first = waiting_for_payment(calendar_ctx, "PN-1")
    second = waiting_for_payment(calendar_ctx, "PN-2")

    with pytest.raises(MessageNotDelivered, match=r"with correlation \{\}"):
        messages.send_message(calendar_ctx, "penalty_paid", payload=PAYMENT)

    assert (state_of(calendar_ctx, first), state_of(calendar_ctx, second)) == ("waiting", "waiting")
    assert message_rows(calendar_ctx) == [("penalty_paid", {}, PAYMENT, "undelivered", [])]


def test_a_received_message_is_not_received_twice(calendar_ctx):
    waiting = waiting_for_payment(calendar_ctx, "PN-1")
    messages.send_message(calendar_ctx, "penalty_paid", correlation={"notice_ref": "PN-1"}, payload=PAYMENT)

    with pytest.raises(MessageNotDelivered):
        messages.send_message(
            calendar_ctx, "penalty_paid", correlation={"notice_ref": "PN-1"}, payload=PAYMENT
        )

    assert [r[3] for r in message_rows(calendar_ctx)] == ["delivered", "undelivered"]
    kinds = [e["kind"] for e in instances.show_instance(calendar_ctx, waiting).events]
    assert kinds.count("message_received") == 1


# --- message start events -----------------------------------------------------------------------------


def test_message_start_event_starts_the_intake_with_payload_and_key(ctx):
    deploy(ctx, "message_start.bpmn")
    referral = {"school": "Oakfield Primary", "laestab": "8012001", "reason": "persistent absence"}

    with clock.frozen_at(MONDAY):
        result = messages.send_message(
            ctx,
            "school_referral",
            correlation={"business_key": "B801200005001"},
            payload=referral,
            actor="school-portal",
        )

    assert result.delivered_to == [] and len(result.started) == 1
    view = instances.show_instance(ctx, result.started[0])
    assert (view.process_id, view.business_key, view.state, view.started_at, view.started_by) == (
        "school_referral_intake",
        "B801200005001",
        "user_input_required",
        MONDAY,
        "school-portal",
    )
    assert [(t["task_id"], t["name"], t["state"]) for t in view.tasks] == [
        ("triage", "Triage the referral", "ready")
    ]
    assert data_at(ctx, view.id, "triage")["referral"] == referral
    assert message_rows(ctx) == [
        ("school_referral", {"business_key": "B801200005001"}, referral, "started", result.started)
    ]


def test_each_message_start_starts_a_new_instance(ctx):
    deploy(ctx, "message_start.bpmn")

    first = messages.send_message(
        ctx, "school_referral", correlation={"business_key": "K1"}, payload={"n": 1}
    )
    second = messages.send_message(
        ctx, "school_referral", correlation={"business_key": "K1"}, payload={"n": 2}
    )

    assert len(first.started) == len(second.started) == 1 and first.started != second.started
    assert [data_at(ctx, i, "triage")["referral"] for i in (*first.started, *second.started)] == [
        {"n": 1},
        {"n": 2},
    ]
