"""Sending a named message to the instances waiting for it, or starting the processes it starts.

Correlation: a message carries ``correlation`` values, e.g. ``{"notice_ref": "PN-2026-0042"}``. A
waiting instance matches when it knows every key given and each value is equal. Its keys are the
``spiffworkflow:processVariableCorrelation`` values of the waiting event, plus ``business_key`` (e.g.
the pupil's UPN) and ``instance_id``. Nothing is broadcast: a message with no correlation reaches no
waiting instance. A message that reaches nobody is recorded as undelivered and reported, never dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import clock
from ..errors import InvalidInput, MessageNotDelivered
from ..models.workflow import InstanceState, MessageRecord, MessageWait, ProcessInstance, ProcessVersion
from ..workflow.projections import EVENT_SUBPROCESS_PREFIX, event_subprocess_start
from ..workflow.runner import deliver, find_task
from . import instance_store as store
from .instances import advance_and_save, start_in_session

if TYPE_CHECKING:
    from ..context import Context


@dataclass
class MessageResult:
    message_id: int
    name: str
    delivered_to: list[int] = field(default_factory=list)
    started: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def send_message(
    ctx: Context,
    name: str,
    *,
    correlation: dict[str, Any] | None = None,
    payload: dict[str, Any] | None = None,
    actor: str | None = None,
) -> MessageResult:
    """Deliver ``name`` to every matching waiting instance; else start processes it starts."""
    correlation = correlation or {}
    if not isinstance(correlation, dict) or (payload is not None and not isinstance(payload, dict)):
        raise InvalidInput("Correlation and payload must be JSON objects.")
    with ctx.db.transaction() as session:
        result = _send(ctx, session, name, correlation, payload, actor)
    if not result.delivered_to and not result.started:
        raise MessageNotDelivered(
            f"No process instance is waiting for message '{name}' with correlation {correlation or '{}'}, "
            f"and no process starts with it. It was recorded as undelivered (message {result.message_id}).",
            message_id=result.message_id,
        )
    return result


def route_thrown(ctx: Context, session: Session, events: list[Any], sender_id: int) -> None:
    """Deliver the messages an instance threw that it did not catch itself (e.g. a panel's decision
    sent to each case). A message nobody waits for is recorded as undelivered; the sender goes on."""
    for event in events:
        definition = event.event_definition
        if not isinstance(definition, MessageEventDefinition):
            continue
        correlation = {
            prop: value for values in (event.correlations or {}).values() for prop, value in values.items()
        }
        payload = event.payload if isinstance(event.payload, dict) else {"value": event.payload}
        _send(ctx, session, definition.name, correlation, payload, f"instance {sender_id}")


def _send(
    ctx: Context,
    session: Session,
    name: str,
    correlation: dict[str, Any],
    payload: dict[str, Any] | None,
    actor: str | None,
) -> MessageResult:
    record = MessageRecord(
        name=name,
        correlation=correlation,
        payload=payload,
        sent_at=clock.now(),
        sent_by=actor,
        delivered_to=[],
        status="undelivered",
    )
    session.add(record)
    session.flush()
    result = MessageResult(record.id, name)
    for wait in _matching_waits(session, name, correlation):
        if wait.instance_id not in result.delivered_to and _deliver(
            ctx, session, wait, payload, actor, record.id
        ):
            result.delivered_to.append(wait.instance_id)
    if not result.delivered_to:
        for version in _starting_versions(session, name):
            opened = start_in_session(
                ctx,
                session,
                version.id,
                {},
                correlation.get("business_key"),
                actor,
                message=(name, dict(payload or {})),
            )
            result.started.append(opened.row.id)
    record.delivered_to = result.delivered_to + result.started
    record.status = "delivered" if result.delivered_to else ("started" if result.started else "undelivered")
    return result


def matches(wait_values: dict[str, Any], correlation: dict[str, Any]) -> bool:
    """True when every correlation key is known to the waiting instance with an equal value."""
    if not correlation:
        return False
    return all(
        key in wait_values and str(wait_values[key]) == str(value) for key, value in correlation.items()
    )


def _matching_waits(session: Session, name: str, correlation: dict[str, Any]) -> list[MessageWait]:
    query = (
        select(MessageWait)
        .join(ProcessInstance, ProcessInstance.id == MessageWait.instance_id)
        .where(
            MessageWait.message_name == name,
            MessageWait.state == "waiting",
            ProcessInstance.suspended.is_(False),
            ProcessInstance.state.not_in(InstanceState.FINISHED),
        )
        .order_by(MessageWait.id)
    )
    if "business_key" in correlation:
        query = query.where(MessageWait.business_key == str(correlation["business_key"]))
    found = []
    for wait in session.scalars(query):
        values = {**wait.correlation, "business_key": wait.business_key, "instance_id": wait.instance_id}
        if matches(values, correlation):
            found.append(wait)
    return found


def _deliver(
    ctx: Context,
    session: Session,
    wait: MessageWait,
    payload: dict[str, Any] | None,
    actor: str | None,
    message_id: int,
) -> bool:
    instance = store.load(ctx, session, wait.instance_id, lock=True)
    still = session.scalar(select(MessageWait.state).where(MessageWait.id == wait.id))
    if still != "waiting":  # someone delivered the same message while we waited for the lock
        return False
    opened = store.open_instance(ctx, session, instance)
    if wait.task_guid.startswith(EVENT_SUBPROCESS_PREFIX):
        task, definition = None, event_subprocess_start(opened.workflow, wait.task_guid, wait.message_name)
    else:
        task = find_task(opened.workflow, wait.task_guid)
        definition = _message_definition(task.task_spec.event_definition, wait.message_name) if task else None
    if definition is None:
        return False
    deliver(opened.workflow, task, definition, payload or {})
    store.record(
        session,
        "message_received",
        instance_id=instance.id,
        actor=actor,
        data={"message": wait.message_name, "message_id": message_id, "payload": payload},
    )
    advance_and_save(ctx, session, opened)
    return True


def _message_definition(definition: Any, name: str) -> Any:
    for inner in getattr(definition, "event_definitions", [definition]):
        if getattr(inner, "name", None) == name:
            return inner
    return definition


def _starting_versions(session: Session, name: str) -> list[ProcessVersion]:
    newest = (
        select(ProcessVersion.process_id, func.max(ProcessVersion.version).label("version"))
        .group_by(ProcessVersion.process_id)
        .subquery()
    )
    latest = session.scalars(
        select(ProcessVersion).join(
            newest,
            (newest.c.process_id == ProcessVersion.process_id) & (newest.c.version == ProcessVersion.version),
        )
    )
    return [v for v in latest if name in (v.start_messages or [])]
