"""What a person may see of a case (a process instance) outside its forms: who may see it, a safe
summary of whom it concerns, its history without data, the steps done and open for the diagram, and
the BPMN file the diagram is drawn from.

Nothing here returns task data: a task's data holds every script variable of the process (design
trap 8). The summary reads only named keys of the data the case was started with.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from SpiffWorkflow.util.task import TaskState as SpiffState
from sqlalchemy import select

from .. import access
from ..access import Principal
from ..models.access import UserAccount
from ..models.workflow import BpmnFile, HumanTask, HumanTaskTeam, ProcessVersion, WorkflowEvent
from . import instance_store as store

if TYPE_CHECKING:
    from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
    from sqlalchemy.orm import Session

    from ..context import Context

HT, HTT, EV = HumanTask.__table__, HumanTaskTeam.__table__, WorkflowEvent.__table__

#: (label, paths tried in order) of what the case header shows about a pupil and a school.
PUPIL_FIELDS = (
    ("Name", (("pupil", "name"), ("pupil", "full_name"))),
    ("Unique pupil number (UPN)", (("pupil", "upn"),)),
    ("Date of birth", (("pupil", "date_of_birth"), ("pupil", "dob"))),
    ("Year group", (("pupil", "year_group"),)),
)
SCHOOL_FIELDS = (
    ("School", (("school", "name"), ("pupil", "school_name"), ("home_school", "name"))),
    ("LAESTAB", (("school", "laestab"), ("pupil", "school_laestab"), ("home_school", "laestab"))),
)
#: What each history event says (events of other kinds are shown by their kind).
EVENT_TEXT = {
    "started": "Case started",
    "task_completed": "Completed",
    "claimed": "Took the task",
    "unclaimed": "Released the task",
    "assigned": "Assigned the task",
    "timer_fired": "Deadline reached",
    "message_received": "Message received",
    "suspended": "Case suspended",
    "resumed": "Case resumed",
    "cancelled": "Case cancelled",
    "error": "Stopped with an error",
    "retried": "Failed step retried",
}


@dataclass(frozen=True)
class CaseSummary:
    """Whom a case concerns: label/value rows read from named keys of its start data only."""

    instance_id: int
    process_id: str
    process_name: str
    version: int
    business_key: str | None
    state: str
    suspended: bool
    started_at: datetime
    pupil: list[tuple[str, str]] = field(default_factory=list)
    school: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime
    actor: str | None
    kind: str
    text: str
    task: str | None
    task_guid: str | None = None
    detail: str | None = None  # a safe fact about the event: the deadline's or message's name, the assignee


@dataclass(frozen=True)
class DiagramMarks:
    """BPMN element ids: steps done, steps open now (current) and steps in error."""

    completed: list[str] = field(default_factory=list)
    current: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class AccessFacts:
    """What engine.access needs to decide who may see an instance."""

    establishments: list[str]
    task_teams: list[str]
    assignees: list[str]


# --- access -----------------------------------------------------------------------------------------


def access_facts(session: Session, instance_id: int) -> AccessFacts:
    teams = session.scalars(
        select(HTT.c.team)
        .join(HT, HT.c.id == HTT.c.task_id)
        .where(HT.c.instance_id == instance_id)
        .distinct()
    )
    people = session.execute(
        select(HT.c.assignee, HT.c.completed_by).where(HT.c.instance_id == instance_id).distinct()
    )
    assignees = {name for row in people for name in row if name}
    return AccessFacts(access.establishments_of(session, instance_id), sorted(teams), sorted(assignees))


def may_see(principal: Principal, facts: AccessFacts) -> bool:
    return access.may_see_instance(
        principal, establishments=facts.establishments, task_teams=facts.task_teams, assignees=facts.assignees
    )


def require_visible(session: Session, principal: Principal, instance_id: int) -> AccessFacts:
    """The instance's access facts; NotFound when ``principal`` may not see it (or it does not exist)."""
    facts = access_facts(session, instance_id)
    access.require(may_see(principal, facts), "case")
    return facts


def bpmn_xml(ctx: Context, principal: Principal, instance_id: int) -> str:
    """The BPMN file of the instance's process version (for its diagram), if ``principal`` may see it."""
    with ctx.db.transaction() as session:
        require_visible(session, principal, instance_id)
        row = store.load(ctx, session, instance_id)
        content = session.scalar(
            select(BpmnFile.content)
            .join(ProcessVersion, ProcessVersion.bpmn_file_id == BpmnFile.id)
            .where(ProcessVersion.id == row.process_version_id)
        )
        return content or ""


# --- summary, history, diagram ------------------------------------------------------------------------


def case_summary(session: Session, row: store.InstanceRecord) -> CaseSummary:
    start = start_data(session, row.id)
    return CaseSummary(
        instance_id=row.id,
        process_id=row.process_id,
        process_name=row.version.name or row.process_id,
        version=row.version.version,
        business_key=row.business_key,
        state=row.state,
        suspended=row.suspended,
        started_at=row.started_at,
        pupil=_rows(start, PUPIL_FIELDS, _pupil_name(start)),
        school=_rows(start, SCHOOL_FIELDS),
    )


def start_data(session: Session, instance_id: int) -> dict[str, Any]:
    """The data the case was started with (as recorded in its ``started`` event)."""
    data = session.scalar(
        select(EV.c.data)
        .where(EV.c.instance_id == instance_id, EV.c.kind == "started")
        .order_by(EV.c.id)
        .limit(1)
    )
    inner = data.get("data") if isinstance(data, dict) else None
    return inner if isinstance(inner, dict) else {}


def _pupil_name(start: dict[str, Any]) -> str | None:
    pupil = start.get("pupil")
    if not isinstance(pupil, dict):
        return None
    parts = [pupil.get("first_name"), pupil.get("last_name")]
    return " ".join(str(p) for p in parts if isinstance(p, str) and p) or None


def _rows(
    start: dict[str, Any],
    fields: tuple[tuple[str, tuple[tuple[str, ...], ...]], ...],
    name: str | None = None,
) -> list[tuple[str, str]]:
    rows = []
    for label, paths in fields:
        value = next((v for path in paths if (v := _scalar_at(start, path)) is not None), None)
        if value is None and label == "Name":
            value = name
        if value is not None:
            rows.append((label, value))
    return rows


def _scalar_at(data: Any, path: tuple[str, ...]) -> str | None:
    for key in path:
        data = data.get(key) if isinstance(data, dict) else None
    return str(data) if isinstance(data, str | int) and not isinstance(data, bool) and str(data) else None


def history(
    session: Session, principal: Principal, instance_id: int, *, with_reasons: bool = False
) -> list[HistoryEntry]:
    """The case's events, oldest first, without their data. School users see only what happened to
    tasks in their lane (and when the case started). ``with_reasons``: show why a manager suspended
    or cancelled the case (for the instance page)."""
    events = session.execute(
        select(EV.c.at, EV.c.actor, EV.c.kind, EV.c.task_name, EV.c.task_spec_id, EV.c.task_guid, EV.c.data)
        .where(EV.c.instance_id == instance_id)
        .order_by(EV.c.id)
    ).all()
    if principal.is_school:
        school_tasks = set(
            session.scalars(
                select(HT.c.id)
                .join(HTT, HTT.c.task_id == HT.c.id)
                .where(HT.c.instance_id == instance_id, HTT.c.team == access.SCHOOL_LANE)
            )
        )
        events = [e for e in events if e.kind == "started" or e.task_guid in school_tasks]
    return [
        HistoryEntry(
            e.at,
            e.actor,
            e.kind,
            EVENT_TEXT.get(e.kind, e.kind.replace("_", " ").capitalize()),
            e.task_name or element_id(e.task_spec_id),
            e.task_guid,
            _detail(e.kind, e.data, with_reasons),
        )
        for e in events
    ]


#: The one field of an event's data that its history line may show (never answers or case data).
SAFE_DETAIL = {"timer_fired": "name", "message_received": "message", "assigned": "assignee"}
REASONS = {"suspended": "reason", "cancelled": "reason", "error": "message"}


def _detail(kind: str, data: Any, with_reasons: bool) -> str | None:
    key = SAFE_DETAIL.get(kind) or (REASONS.get(kind) if with_reasons else None)
    value = data.get(key) if key and isinstance(data, dict) else None
    return str(value) if isinstance(value, str | int) else None


def diagram_marks(workflow: BpmnWorkflow) -> DiagramMarks:
    """Which BPMN elements are done, open and failed in ``workflow`` (main process and subprocesses)."""
    completed: dict[str, None] = {}
    current: dict[str, None] = {}
    failed: dict[str, None] = {}
    tasks = list(workflow.tasks.values())
    for subprocess in workflow.subprocesses.values():
        tasks.extend(subprocess.tasks.values())
    for task in tasks:
        element = getattr(task.task_spec, "bpmn_id", None)
        if not element:
            continue
        if task.state == SpiffState.COMPLETED:
            completed[element] = None
        elif task.state == SpiffState.ERROR:
            failed[element] = None
        elif task.state in (SpiffState.READY, SpiffState.WAITING, SpiffState.STARTED):
            current[element] = None
    open_now = {**current, **failed}
    return DiagramMarks([e for e in completed if e not in open_now], list(current), list(failed))


def element_id(task_spec_id: str | None) -> str | None:
    """The BPMN element id of a task spec id (``absence_referral/triage`` → ``triage``)."""
    return task_spec_id.rsplit("/", 1)[-1] if task_spec_id else None


def names_in(session: Session, usernames: list[str]) -> dict[str, str]:
    """People's names by username (a username with no account stands for itself)."""
    wanted = sorted({name for name in usernames if name})
    rows = session.execute(
        select(UserAccount.username, UserAccount.display_name).where(UserAccount.username.in_(wanted))
    )
    found = {row[0]: row[1] for row in rows}
    return {name: found.get(name, name) for name in wanted}
