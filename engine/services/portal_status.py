"""What a school follows on its portal: the cases that concern it, where each one stands, and the
tasks the LA's processes ask of the school.

A school sees the status of its cases, never the LA's own steps (``engine.access``: tasks outside the
``school`` lane do not exist for school users): a case is waiting for the school, with the local
authority, waiting for a date or a reply, on hold, or closed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import access
from ..access import Principal
from ..models.access import InstanceEstablishment
from ..models.workflow import HumanTask, InstanceState, ProcessInstance, TaskState
from ..portal.actions import School
from . import audit, casefile
from . import instance_store as store
from .casefile import CaseSummary, HistoryEntry
from .inbox import process_names
from .school_roll import own_school

if TYPE_CHECKING:
    from ..context import Context

PI, IE, HT = ProcessInstance.__table__, InstanceEstablishment.__table__, HumanTask.__table__
PAGE_SIZE = 20
TASKS_LISTED = 50

# Where a case stands, as a school may know it.
WAITING_FOR_SCHOOL, WITH_LA, WAITING, ON_HOLD, CLOSED, CANCELLED = (
    "waiting_for_school",
    "with_la",
    "waiting",
    "on_hold",
    "closed",
    "cancelled",
)


@dataclass(frozen=True)
class SchoolTask:
    id: str
    instance_id: int
    name: str
    state: str
    due_at: datetime | None
    business_key: str | None
    completed_at: datetime | None = None


@dataclass(frozen=True)
class SentCase:
    instance_id: int
    process_id: str
    process_name: str
    business_key: str | None
    pupil_name: str | None
    status: str
    started_at: datetime
    started_by: str | None
    school_tasks: list[SchoolTask] = field(default_factory=list)  # open ones


@dataclass(frozen=True)
class PortalHome:
    school: School
    cases: list[SentCase]
    page: int
    has_next: bool
    tasks: list[SchoolTask]  # every open task of the school's, soonest due first


@dataclass(frozen=True)
class CaseStatus:
    summary: CaseSummary
    status: str
    tasks: list[SchoolTask]  # the school's tasks in this case, open and done
    history: list[HistoryEntry]
    people: dict[str, str]

    def name_of(self, username: str | None) -> str:
        return self.people.get(username, username) if username else ""


def home(ctx: Context, principal: Principal, *, page: int = 1) -> PortalHome:
    """The school's cases, newest first, one page of them, and the tasks the school has to do."""
    page = max(1, page)
    with ctx.db.transaction() as session:
        school = own_school(session, principal)
        rows = session.execute(
            select(PI.c.id, PI.c.process_id, PI.c.business_key, PI.c.state, PI.c.suspended)
            .add_columns(PI.c.started_at, PI.c.started_by)
            .join(IE, IE.c.instance_id == PI.c.id)
            .where(IE.c.laestab == school.laestab)
            .order_by(PI.c.started_at.desc(), PI.c.id.desc())
            .limit(PAGE_SIZE + 1)
            .offset((page - 1) * PAGE_SIZE)
        ).all()
        tasks = _school_tasks(session, principal, [r.id for r in rows[:PAGE_SIZE]], open_only=True)
        names = dict(process_names(session))
        cases = [_sent_case(session, row, names, tasks) for row in rows[:PAGE_SIZE]]
        todo = _school_tasks(session, principal, None, open_only=True)
        audit.record(session, principal, "view", "portal_home", school.laestab, {"page": page})
        return PortalHome(school, cases, page, len(rows) > PAGE_SIZE, todo)


def case_status(ctx: Context, principal: Principal, instance_id: int) -> CaseStatus:
    """Where one of the school's cases stands (not found unless it concerns the school)."""
    with ctx.db.transaction() as session:
        school = own_school(session, principal)
        access.require(school.laestab in access.establishments_of(session, instance_id), "case")
        row = store.load(ctx, session, instance_id)
        tasks = _school_tasks(session, principal, [instance_id], open_only=False)
        history = casefile.history(session, principal, instance_id)
        audit.record(session, principal, "view", "instance", instance_id, {"via": "portal"})
        return CaseStatus(
            summary=casefile.case_summary(session, row),
            status=status_of(row.state, row.suspended, [t for t in tasks if t.state == TaskState.READY]),
            tasks=tasks,
            history=history,
            people=casefile.names_in(session, [e.actor for e in history if e.actor]),
        )


def status_of(state: str, suspended: bool, open_school_tasks: list[Any]) -> str:
    if state == InstanceState.COMPLETE:
        return CLOSED
    if state == InstanceState.CANCELLED:
        return CANCELLED
    if suspended:
        return ON_HOLD
    if open_school_tasks:
        return WAITING_FOR_SCHOOL
    return WAITING if state == InstanceState.WAITING else WITH_LA


# --- helpers ------------------------------------------------------------------------------------------


def _sent_case(session: Session, row: Any, names: dict[str, str], tasks: list[SchoolTask]) -> SentCase:
    mine = [t for t in tasks if t.instance_id == row.id]
    return SentCase(
        instance_id=row.id,
        process_id=row.process_id,
        process_name=names.get(row.process_id, row.process_id),
        business_key=row.business_key,
        pupil_name=_pupil_name(casefile.start_data(session, row.id)),
        status=status_of(row.state, row.suspended, mine),
        started_at=row.started_at,
        started_by=row.started_by,
        school_tasks=mine,
    )


def _school_tasks(
    session: Session, principal: Principal, instance_ids: list[int] | None, *, open_only: bool
) -> list[SchoolTask]:
    """The school's tasks (``engine.access.restrict_tasks``) of some cases, or of all when None."""
    query = select(HT)
    if instance_ids is not None:
        query = query.where(HT.c.instance_id.in_(instance_ids))
    if open_only:
        query = query.where(HT.c.state == TaskState.READY)
    query = access.restrict_tasks(principal, query).order_by(HT.c.due_at.asc().nulls_last(), HT.c.id)
    rows = session.execute(query.limit(TASKS_LISTED)).mappings()
    return [
        SchoolTask(
            r["id"],
            r["instance_id"],
            r["name"],
            r["state"],
            r["due_at"],
            r["business_key"],
            r["completed_at"],
        )
        for r in rows
    ]


def _pupil_name(start: dict[str, Any]) -> str | None:
    pupil = start.get("pupil")
    if not isinstance(pupil, dict):
        return None
    name = pupil.get("name") or pupil.get("full_name")
    if isinstance(name, str) and name:
        return name
    parts = [pupil.get("first_name"), pupil.get("last_name")]
    return " ".join(p for p in parts if isinstance(p, str) and p) or None
