"""Reading and saving instances with their projections, and the append-only event log.

Every service that changes an instance loads it with :func:`load`, opens its workflow with
:func:`open_instance` and writes it back with :func:`save`: the serialised state, the ``human_task``,
``timer`` and ``message_wait`` rows and the events go in the caller's transaction, so they never
disagree. Projection rows are always exactly what the saved state implies, so the snapshot taken when
an instance is opened *is* the current projection: saving writes only the differences.

This is the engine's hot path, so it uses prebuilt SQL statements (SQLAlchemy Core with bound
parameters) rather than the ORM; optimistic locking is an explicit ``lock_version`` check.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState as SpiffState
from sqlalchemy import Connection, Integer, Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from .. import clock
from ..errors import EduCaseError, InstanceChanged, NotFound
from ..models.access import InstanceEstablishment
from ..models.documents import Document
from ..models.workflow import (
    HumanTask,
    HumanTaskTeam,
    InstanceState,
    MessageWait,
    ProcessInstance,
    TaskState,
    Timer,
    WorkflowEvent,
)
from ..prepared import Prepared
from ..workflow.projections import Snapshot, WaitingTimer, take_snapshot
from ..workflow.runner import find_task
from .versions import VersionInfo

if TYPE_CHECKING:
    from ..context import Context

PI, HT, HTT = ProcessInstance.__table__, HumanTask.__table__, HumanTaskTeam.__table__
TM, MW, EV = Timer.__table__, MessageWait.__table__, WorkflowEvent.__table__


def _insert(table: Table, *, returning: bool = False) -> Prepared:
    """An INSERT of every column but a generated ``id``, each value given per row."""
    generated = {c.key for c in table.primary_key.columns if isinstance(c.type, Integer)}
    statement = insert(table).values(
        {c.key: bindparam(c.key, type_=c.type) for c in table.c if c.key not in generated}
    )
    return Prepared(statement.returning(table.c.id) if returning else statement)


_SELECT_ROW = select(PI).where(PI.c.id == bindparam("id"))
_SELECT = Prepared(_SELECT_ROW)
_SELECT_LOCKED = Prepared(_SELECT_ROW.with_for_update())
_SELECT_SKIP_LOCKED = Prepared(_SELECT_ROW.with_for_update(skip_locked=True))
_SELECT_STATE = Prepared(select(PI.c.state_json).where(PI.c.id == bindparam("id")))
_INSERT = _insert(PI, returning=True)
_UPDATE = Prepared(
    update(PI)
    .where(PI.c.id == bindparam("b_id"), PI.c.lock_version == bindparam("b_lock"))
    .values(
        state_json=bindparam("state_json"),
        state=bindparam("state"),
        suspended=bindparam("suspended"),
        error=bindparam("error"),
        updated_at=bindparam("updated_at"),
        ended_at=bindparam("ended_at"),
        lock_version=bindparam("lock_version"),
    )
)
_INSERT_EVENT = _insert(EV)
_INSERT_DOCUMENT = insert(Document.__table__)
_INSERT_TASK = _insert(HT)
_INSERT_TEAM = _insert(HTT)
_TASK_DUE = Prepared(update(HT).where(HT.c.id == bindparam("b_id")).values(due_at=bindparam("due_at")))
_TEAM_DUE = Prepared(update(HTT).where(HTT.c.task_id == bindparam("b_id")).values(due_at=bindparam("due_at")))
_TEAM_CLOSE = Prepared(update(HTT).where(HTT.c.task_id == bindparam("b_id")).values(state=bindparam("state")))
_TASK_CLOSE = Prepared(
    update(HT)
    .where(HT.c.id == bindparam("b_id"), HT.c.state == TaskState.READY)
    .values(
        state=bindparam("state"),
        completed_at=bindparam("completed_at"),
        completed_by=bindparam("completed_by"),
    )
)
_INSERT_TIMER = _insert(TM)
_TIMER_CLOSE = Prepared(
    update(TM)
    .where(
        TM.c.instance_id == bindparam("b_instance"),
        TM.c.task_guid == bindparam("b_guid"),
        TM.c.due_at == bindparam("b_due"),
        TM.c.state == "waiting",
    )
    .values(state=bindparam("state"), fired_at=bindparam("fired_at"))
)
_INSERT_WAIT = _insert(MW)
_WAIT_WHERE = (
    MW.c.instance_id == bindparam("b_instance"),
    MW.c.task_guid == bindparam("b_guid"),
    MW.c.message_name == bindparam("b_name"),
    MW.c.state == "waiting",
)
_WAIT_CORRELATION = Prepared(update(MW).where(*_WAIT_WHERE).values(correlation=bindparam("correlation")))
_WAIT_CLOSE = Prepared(
    update(MW).where(*_WAIT_WHERE).values(state=bindparam("state"), received_at=bindparam("received_at"))
)

EMPTY = Snapshot(InstanceState.RUNNING, [], [], [], None)


@dataclass
class InstanceRecord:
    """One ``process_instance`` row, with the facts of its (immutable, cached) version."""

    id: int
    process_version_id: int
    process_id: str
    business_key: str | None
    state: str
    suspended: bool
    state_json: str | None  # None: not read yet (the live cache usually has the workflow)
    lock_version: int
    error: dict[str, Any] | None
    started_at: datetime
    started_by: str | None
    updated_at: datetime
    ended_at: datetime | None
    version: VersionInfo


@dataclass
class OpenInstance:
    """An instance, its live workflow, and the projection as it stands in the database."""

    row: InstanceRecord
    workflow: BpmnWorkflow
    before: Snapshot = field(default=EMPTY)


def load(
    ctx: Context, session: Session, instance_id: int, *, lock: bool = False, skip_locked: bool = False
) -> InstanceRecord:
    """Read an instance; ``lock`` takes its row (PostgreSQL) until the transaction ends."""
    statement = _SELECT_SKIP_LOCKED if skip_locked else (_SELECT_LOCKED if lock else _SELECT)
    row = statement.first(session.connection(), {"id": instance_id})
    if row is None:
        if skip_locked:
            raise InstanceChanged(f"Instance {instance_id} is being worked on by another process.")
        raise NotFound(f"There is no process instance {instance_id}.")
    return InstanceRecord(**row, version=ctx.versions.info(session, row["process_version_id"]))


def new_instance(
    version: VersionInfo, workflow: BpmnWorkflow, business_key: str | None, actor: str | None
) -> OpenInstance:
    """A new instance, not yet in the database: its first :func:`save` inserts it."""
    now = clock.now()
    record = InstanceRecord(
        id=0,
        process_version_id=version.id,
        process_id=version.process_id,
        business_key=business_key,
        state=InstanceState.RUNNING,
        suspended=False,
        state_json="{}",
        lock_version=0,
        error=None,
        started_at=now,
        started_by=actor,
        updated_at=now,
        ended_at=None,
        version=version,
    )
    return OpenInstance(record, workflow)


def open_instance(ctx: Context, session: Session, record: InstanceRecord) -> OpenInstance:
    """The live workflow of ``record``: from the live cache when it holds this exact version."""
    ctx.calendars.refresh(session)
    cached = ctx.live.take(record.id, record.lock_version)
    if cached is not None:
        return OpenInstance(record, *cached)
    if record.state_json is None:
        found = _SELECT_STATE.first(session.connection(), {"id": record.id})
        if found is None:
            raise NotFound(f"There is no process instance {record.id}.")
        record.state_json = found["state_json"]
    workflow = ctx.runner.load(record.state_json, ctx.versions.spec(session, record.process_version_id))
    return OpenInstance(record, workflow, take_snapshot(workflow, record.version.task_meta))


def save(
    ctx: Context,
    session: Session,
    opened: OpenInstance,
    *,
    error: EduCaseError | None = None,
    completed_by: dict[str, str | None] | None = None,
    state: str | None = None,
    documents: list[dict[str, Any]] | None = None,
) -> Snapshot:
    """Write the workflow and bring every projection row in line with it.

    Raises InstanceChanged when someone else saved the instance since it was loaded.
    """
    now = clock.now()
    row, workflow = opened.row, opened.workflow
    snapshot = take_snapshot(workflow, row.version.task_meta)  # before dumps: it may set due dates
    row.state_json = ctx.runner.dumps(workflow)
    # An engine error can leave no task in ERROR (e.g. a multi-instance that could not start its next
    # item): the instance is still stuck, and must say so rather than look as if it were waiting.
    failed = error is not None or snapshot.state == InstanceState.ERROR
    row.state = state or (InstanceState.ERROR if failed else snapshot.state)
    row.error = _error_info(error, snapshot) if failed else None
    row.updated_at = now
    if row.state in InstanceState.FINISHED and row.ended_at is None:
        row.ended_at = now
    connection = session.connection()
    write_row(connection, row)
    _sync_tasks(connection, row, workflow, opened.before, snapshot, now, completed_by or {})
    for timer in _sync_timers(connection, row.id, workflow, opened.before, snapshot, now):
        record(
            session,
            "timer_fired",
            instance_id=row.id,
            actor=None,
            data={"timer": timer.task_spec_id, "name": timer.name, "due_at": timer.due_at.isoformat()},
        )
    _sync_messages(connection, row, workflow, opened.before, snapshot, now)
    if documents:
        connection.execute(
            _INSERT_DOCUMENT,
            [
                {**d, "instance_id": row.id, "created_at": now, "task_spec_id": d.get("task_spec_id")}
                for d in documents
            ],
        )
    opened.before = snapshot
    _keep_live_after_commit(ctx, session, opened)
    return snapshot


def _keep_live_after_commit(ctx: Context, session: Session, opened: OpenInstance) -> None:
    """Once committed, the workflow object *is* the stored state: keep it for the next step."""
    pending: dict[int, OpenInstance] = session.info.setdefault("live_workflows", {})
    if not pending:

        def put_back() -> None:
            for item in pending.values():
                if item.row.state not in InstanceState.FINISHED:  # an ended case is not worked on again
                    ctx.live.put(item.row.id, item.row.lock_version, item.workflow, item.before)

        session.info.setdefault("after_commit", []).append(put_back)
    pending[opened.row.id] = opened


def write_row(connection: Connection, row: InstanceRecord) -> None:
    """Insert a new instance, or update one if nobody changed it since we read it (optimistic lock)."""
    if row.lock_version == 0:
        values = {k: v for k, v in row.__dict__.items() if k not in ("id", "version")}
        inserted = _INSERT.first(connection, {**values, "lock_version": 1})
        assert inserted is not None
        row.id = inserted["id"]
        row.lock_version = 1
        return
    changed = _UPDATE.execute(
        connection,
        {
            "b_id": row.id,
            "b_lock": row.lock_version,
            "lock_version": row.lock_version + 1,
            "state_json": row.state_json,
            "state": row.state,
            "suspended": row.suspended,
            "error": row.error,
            "updated_at": row.updated_at,
            "ended_at": row.ended_at,
        },
    )
    if changed != 1:
        raise InstanceChanged(
            f"Instance {row.id} was changed by someone else while you worked; reload it and try again."
        )
    row.lock_version += 1


def link_establishments(session: Session, instance_id: int, laestabs: list[str]) -> None:
    if laestabs:
        session.connection().execute(
            insert(InstanceEstablishment.__table__),
            [{"instance_id": instance_id, "laestab": code} for code in laestabs],
        )


def record(
    session: Session,
    kind: str,
    *,
    instance_id: int | None,
    actor: str | None,
    task: Any | None = None,
    data: dict[str, Any] | None = None,
    form_version_id: int | None = None,
) -> None:
    """Append one event to the history. ``task`` is anything with id, task_spec_id and name."""
    _INSERT_EVENT.execute(
        session.connection(),
        {
            "instance_id": instance_id,
            "at": clock.now(),
            "actor": actor,
            "kind": kind,
            "task_guid": task.id if task else None,
            "task_spec_id": task.task_spec_id if task else None,
            "task_name": task.name if task else None,
            "data": data,
            "form_version_id": form_version_id,
        },
    )


def _error_info(error: EduCaseError | None, snapshot: Snapshot) -> dict[str, Any]:
    info: dict[str, Any] = {"message": error.message if error else "A task is in error."}
    if error is not None:
        info.update({k: v for k, v in error.details.items() if v is not None})
        info["code"] = error.code
    task = snapshot.error_task
    if task is not None:
        info.setdefault("task_id", task.task_spec.bpmn_id)
        info.setdefault("task_name", task.task_spec.bpmn_name)
    info["task_guid"] = str(task.id) if task is not None else None
    return info


def _done(workflow: BpmnWorkflow, guid: str) -> bool:
    task = find_task(workflow, guid)
    return task is not None and task.has_state(SpiffState.COMPLETED)


def _sync_tasks(
    connection: Connection,
    row: InstanceRecord,
    workflow: BpmnWorkflow,
    before: Snapshot,
    after: Snapshot,
    now: datetime,
    completed_by: dict[str, str | None],
) -> None:
    old = {t.guid: t for t in before.ready_tasks}
    new = {t.guid: t for t in after.ready_tasks}
    added = [t for guid, t in new.items() if guid not in old]
    if added:
        _INSERT_TASK.executemany(
            connection,
            [
                {
                    "id": t.guid,
                    "instance_id": row.id,
                    "process_id": t.process_id,
                    "business_key": row.business_key,
                    "task_spec_id": t.task_spec_id,
                    "name": t.name,
                    "lane": t.lane,
                    "assignee": None,
                    "form_ref": t.form_ref,
                    "ui_form_ref": t.ui_form_ref,
                    "due_at": t.due_at,
                    "state": TaskState.READY,
                    "created_at": now,
                    "completed_at": None,
                    "completed_by": None,
                }
                for t in added
            ],
        )
        teams = [
            {
                "task_id": t.guid,
                "team": team,
                "state": TaskState.READY,
                "due_at": t.due_at,
                "process_id": t.process_id,
            }
            for t in added
            for team in dict.fromkeys(t.teams)
        ]
        _INSERT_TEAM.executemany(connection, teams)
    moved = [
        {"b_id": g, "due_at": t.due_at} for g, t in new.items() if g in old and old[g].due_at != t.due_at
    ]
    if moved:
        _TASK_DUE.executemany(connection, moved)
        _TEAM_DUE.executemany(connection, moved)
    closed = []
    for guid in old.keys() - new.keys():
        done = _done(workflow, guid)
        closed.append(
            {
                "b_id": guid,
                "state": TaskState.COMPLETED if done else TaskState.CANCELLED,
                "completed_at": now,
                "completed_by": completed_by.get(guid) if done else None,
            }
        )
    if closed:
        _TASK_CLOSE.executemany(connection, closed)
        _TEAM_CLOSE.executemany(connection, closed)


def _sync_timers(
    connection: Connection,
    instance_id: int,
    workflow: BpmnWorkflow,
    before: Snapshot,
    after: Snapshot,
    now: datetime,
) -> list[WaitingTimer]:
    """Write timer rows; returns every occurrence that fired (for the history)."""
    old = {(t.guid, t.due_at): t for t in before.timers}
    new = {(t.guid, t.due_at): t for t in after.timers}
    added = [t for key, t in new.items() if key not in old]
    if added:
        _INSERT_TIMER.executemany(connection, [_timer_row(instance_id, t, now, "waiting") for t in added])
    next_due = {t.guid: t.due_at for t in after.timers}
    left_after = {t.guid: t.cycles_left for t in after.timers}
    closed, fired = [], []
    for (guid, due), timer in old.items():
        if (guid, due) in new:
            continue
        # A cycle timer keeps its task but moves its due time: that occurrence fired.
        did_fire = guid in next_due or _done(workflow, guid)
        closed.append(
            {
                "b_instance": instance_id,
                "b_guid": guid,
                "b_due": due,
                "state": "fired" if did_fire else "cancelled",
                "fired_at": now if did_fire else None,
            }
        )
        if did_fire:
            fired.append(timer)
            fired += _missed_occurrences(timer, next_due.get(guid), left_after.get(guid, 0))
    _TIMER_CLOSE.executemany(connection, closed)
    skipped = [t for t in fired if (t.guid, t.due_at) not in old]
    if skipped:  # occurrences that fired inside one wake-up (catching up after downtime)
        _INSERT_TIMER.executemany(connection, [_timer_row(instance_id, t, now, "fired") for t in skipped])
    return fired


def _missed_occurrences(
    timer: WaitingTimer, next_due: datetime | None, cycles_after: int | None
) -> list[WaitingTimer]:
    """The further occurrences of a repeating timer that fired in the same wake-up as ``timer``."""
    if not timer.period_seconds:
        return []
    step = timedelta(seconds=timer.period_seconds)
    if timer.cycles_left is not None and timer.cycles_left >= 0 and cycles_after is not None:
        count = timer.cycles_left - max(cycles_after, 0) - 1  # bounded cycle: count what was used up
    else:
        count = int((next_due - timer.due_at) / step) - 1 if next_due else 0
    return [dataclasses.replace(timer, due_at=timer.due_at + step * k) for k in range(1, max(count, 0) + 1)]


def _timer_row(instance_id: int, timer: WaitingTimer, now: datetime, state: str) -> dict[str, Any]:
    return {
        "instance_id": instance_id,
        "task_guid": timer.guid,
        "task_spec_id": timer.task_spec_id,
        "name": timer.name,
        "kind": timer.kind,
        "due_at": timer.due_at,
        "state": state,
        "created_at": now,
        "fired_at": now if state == "fired" else None,
    }


def _sync_messages(
    connection: Connection,
    row: InstanceRecord,
    workflow: BpmnWorkflow,
    before: Snapshot,
    after: Snapshot,
    now: datetime,
) -> None:
    old = {(m.guid, m.message_name): m for m in before.messages}
    new = {(m.guid, m.message_name): m for m in after.messages}
    added = [m for key, m in new.items() if key not in old]
    if added:
        _INSERT_WAIT.executemany(
            connection,
            [
                {
                    "instance_id": row.id,
                    "task_guid": m.guid,
                    "task_spec_id": m.task_spec_id,
                    "message_name": m.message_name,
                    "business_key": row.business_key,
                    "correlation": m.correlation,
                    "state": "waiting",
                    "created_at": now,
                    "received_at": None,
                }
                for m in added
            ],
        )
    for (guid, name), message in new.items():
        if (guid, name) in old and old[(guid, name)].correlation != message.correlation:
            _WAIT_CORRELATION.execute(
                connection,
                {"b_instance": row.id, "b_guid": guid, "b_name": name, "correlation": message.correlation},
            )
    for guid, name in old.keys() - new.keys():
        received = _done(workflow, guid)
        _WAIT_CLOSE.execute(
            connection,
            {
                "b_instance": row.id,
                "b_guid": guid,
                "b_name": name,
                "state": "received" if received else "cancelled",
                "received_at": now if received else None,
            },
        )
