"""Watching and repairing cases (managers and administrators): the list of process instances with
filters, one instance's page (diagram marks, data through forms, timers, message waits, history),
and suspend / resume / cancel / retry with the permission check in front.

Data shown: the data a case was started with (through its start form when it has one) and, for each
completed task, what was submitted (already filtered through the form version it was made on).
Never the task data, which hold every script variable.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select

from .. import access
from ..access import Principal
from ..errors import InvalidInput
from ..forms import FormDefinition, definition_of, filter_data
from ..models.forms import FormVersion
from ..models.workflow import InstanceState, ProcessInstance, ProcessVersion, WorkflowEvent
from . import casefile, instances
from . import instance_store as store
from .casefile import CaseSummary, DiagramMarks, HistoryEntry
from .inbox import COUNT_LIMIT, Count, process_names

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from ..context import Context

PI, PV, EV = ProcessInstance.__table__, ProcessVersion.__table__, WorkflowEvent.__table__
PAGE_SIZE = 25
SUSPENDED = "suspended"
STATES = (
    InstanceState.USER_INPUT_REQUIRED,
    InstanceState.WAITING,
    SUSPENDED,
    InstanceState.ERROR,
    InstanceState.COMPLETE,
    InstanceState.CANCELLED,
)


@dataclass(frozen=True)
class InstanceFilters:
    process_id: str = ""
    version: int | None = None
    state: str = ""
    business_key: str = ""
    started_from: date | None = None
    started_to: date | None = None
    page: int = 1


@dataclass
class InstanceList:
    filters: InstanceFilters
    rows: list[dict[str, Any]]
    count: Count
    has_next: bool
    processes: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Submission:
    """One completed task's answers, with the form version they were checked against."""

    at: datetime
    actor: str | None
    task: str | None
    form: FormDefinition | None
    data: dict[str, Any]


@dataclass(frozen=True)
class InstanceActions:
    suspend: bool
    resume: bool
    cancel: bool
    retry: bool


@dataclass
class InstancePage:
    case: CaseSummary
    ended_at: datetime | None
    started_by: str | None
    error: dict[str, Any] | None
    start_form: FormDefinition | None
    start_data: dict[str, Any]
    submissions: list[Submission]
    tasks: list[dict[str, Any]]
    timers: list[dict[str, Any]]
    messages: list[dict[str, Any]]
    history: list[HistoryEntry]
    marks: DiagramMarks
    actions: InstanceActions
    people: dict[str, str] = field(default_factory=dict)  # display names of the usernames shown

    def name_of(self, username: str | None) -> str:
        return self.people.get(username, username) if username else ""


# --- the list ----------------------------------------------------------------------------------------


def list_instances(
    ctx: Context, principal: Principal, filters: InstanceFilters, timezone: str
) -> InstanceList:
    """A page of instances matching ``filters``, newest first (``timezone``: whose days "started
    between" means)."""
    access.require(access.may_manage_instance(principal), "page")
    filters = replace(filters, page=max(1, filters.page))
    query = _filtered(filters, ZoneInfo(timezone))
    with ctx.db.transaction() as session:
        page = (
            query.order_by(PI.c.started_at.desc(), PI.c.id.desc())
            .limit(PAGE_SIZE + 1)
            .offset((filters.page - 1) * PAGE_SIZE)
        )
        rows = [dict(r) for r in session.execute(page).mappings()]
        limited = query.with_only_columns(PI.c.id).limit(COUNT_LIMIT + 1).subquery()
        counted = session.scalar(select(func.count()).select_from(limited)) or 0
        processes = process_names(session)
    return InstanceList(
        filters,
        rows[:PAGE_SIZE],
        Count(min(counted, COUNT_LIMIT), counted > COUNT_LIMIT),
        len(rows) > PAGE_SIZE,
        processes,
    )


def _filtered(filters: InstanceFilters, zone: ZoneInfo) -> Select[Any]:
    query = select(
        PI.c.id,
        PI.c.process_id,
        PI.c.business_key,
        PI.c.state,
        PI.c.suspended,
        PI.c.started_at,
        PI.c.started_by,
        PI.c.ended_at,
        PV.c.version,
        PV.c.name.label("process_name"),
    ).join(PV, PV.c.id == PI.c.process_version_id)
    if filters.process_id:
        query = query.where(PI.c.process_id == filters.process_id)
    if filters.version is not None:
        query = query.where(PV.c.version == filters.version)
    if filters.state == SUSPENDED:
        query = query.where(PI.c.suspended.is_(True))
    elif filters.state:
        query = query.where(PI.c.state == filters.state)
    if filters.business_key:
        query = query.where(PI.c.business_key == filters.business_key)
    if filters.started_from:
        query = query.where(PI.c.started_at >= _start_of(filters.started_from, zone))
    if filters.started_to:
        query = query.where(PI.c.started_at < _start_of(filters.started_to + timedelta(days=1), zone))
    return query


def _start_of(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone)


# --- one instance ------------------------------------------------------------------------------------


def instance_page(ctx: Context, principal: Principal, instance_id: int) -> InstancePage:
    access.require(access.may_manage_instance(principal), "case")
    view = instances.show_instance(ctx, instance_id)  # tasks, timers and message waits from projections
    with ctx.db.transaction() as session:
        row = store.load(ctx, session, instance_id)
        workflow = ctx.runner.load(row.state_json, ctx.versions.spec(session, row.process_version_id))
        start_form, start_data = _start(ctx, session, row)
        history = casefile.history(session, principal, instance_id, with_reasons=True)
        submissions = _submissions(session, instance_id)
        shown = [row.started_by, *(e.actor for e in history), *(s.actor for s in submissions)]
        shown += [t.get(k) for t in view.tasks for k in ("assignee", "completed_by")]
        return InstancePage(
            case=casefile.case_summary(session, row),
            ended_at=row.ended_at,
            started_by=row.started_by,
            error=row.error,
            start_form=start_form,
            start_data=start_data,
            submissions=submissions,
            tasks=view.tasks,
            timers=view.timers,
            messages=view.messages,
            history=history,
            marks=casefile.diagram_marks(workflow),
            actions=_actions(row),
            people=casefile.names_in(session, [name for name in shown if name]),
        )


def _start(
    ctx: Context, session: Session, row: store.InstanceRecord
) -> tuple[FormDefinition | None, dict[str, Any]]:
    data = casefile.start_data(session, row.id)
    ref = row.version.start_form_ref
    if not ref:
        return None, data
    form = ctx.forms.get(ref)
    return form, filter_data(form.schema, data)


def _submissions(session: Session, instance_id: int) -> list[Submission]:
    events = session.execute(
        select(EV.c.at, EV.c.actor, EV.c.task_name, EV.c.data, EV.c.form_version_id)
        .where(EV.c.instance_id == instance_id, EV.c.kind == "task_completed")
        .order_by(EV.c.id)
    ).all()
    ids = {e.form_version_id for e in events if e.form_version_id}
    versions = {
        v.id: definition_of(v) for v in session.scalars(select(FormVersion).where(FormVersion.id.in_(ids)))
    }
    return [
        Submission(
            e.at,
            e.actor,
            e.task_name,
            form := versions.get(e.form_version_id),
            filter_data(form.schema, e.data) if form else {},
        )
        for e in events
    ]


def _actions(row: store.InstanceRecord) -> InstanceActions:
    running = row.state not in InstanceState.FINISHED
    return InstanceActions(
        suspend=running and not row.suspended,
        resume=running and row.suspended,
        cancel=running,
        retry=running
        and not row.suspended
        and row.state == InstanceState.ERROR
        and bool((row.error or {}).get("task_guid")),
    )


# --- actions ------------------------------------------------------------------------------------------


def suspend(ctx: Context, principal: Principal, instance_id: int, reason: str) -> None:
    _require_manager(principal)
    instances.suspend_instance(ctx, instance_id, actor=principal.username, reason=_reason(reason, "suspend"))


def resume(ctx: Context, principal: Principal, instance_id: int) -> None:
    _require_manager(principal)
    instances.resume_instance(ctx, instance_id, actor=principal.username)


def cancel(ctx: Context, principal: Principal, instance_id: int, reason: str) -> None:
    _require_manager(principal)
    instances.cancel_instance(ctx, instance_id, actor=principal.username, reason=_reason(reason, "cancel"))


def retry(ctx: Context, principal: Principal, instance_id: int, data_changes: dict[str, Any]) -> None:
    _require_manager(principal)
    if not isinstance(data_changes, dict):
        raise InvalidInput(
            'Corrections must be a JSON object, for example {"days": 5}.', field="data_changes"
        )
    instances.retry_instance(ctx, instance_id, actor=principal.username, data_changes=data_changes)


def _require_manager(principal: Principal) -> None:
    access.require(access.may_manage_instance(principal), "case")


def _reason(reason: str, verb: str) -> str:
    text = reason.strip()
    if not text:
        raise InvalidInput(f"Enter why you want to {verb} this case", field="reason")
    if len(text) > 1000:
        raise InvalidInput("The reason must be 1,000 characters or fewer", field="reason")
    return text
