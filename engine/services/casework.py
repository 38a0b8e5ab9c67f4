"""A task as its page shows it, and what people do to it: claim, release, reassign, save a draft,
complete. Every function asks ``engine.access`` first: a task someone may not see does not exist
for them (NotFound), whatever its id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from .. import access
from ..access import Principal
from ..errors import InvalidInput, TaskNotReady
from ..forms import FormDefinition, filter_data
from ..models.access import Role, UserAccount
from ..models.workflow import TaskState, WorkflowEvent
from ..workflow.runner import find_task
from . import audit, casefile, drafts, tasks
from . import instance_store as store
from .casefile import CaseSummary, DiagramMarks, HistoryEntry, names_in
from .drafts import Draft
from .tasks import TaskRecord, load_task

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from ..context import Context

EV = WorkflowEvent.__table__


@dataclass(frozen=True)
class TaskPermissions:
    complete: bool
    claim: bool
    release: bool
    reassign: bool


@dataclass
class TaskView:
    """Everything a task page shows. ``answers`` is the task's data through its form; ``submitted``
    what was sent when it was completed (also through the form)."""

    task: dict[str, Any]
    case: CaseSummary
    history: list[HistoryEntry]
    marks: DiagramMarks
    form: FormDefinition | None
    answers: dict[str, Any]
    draft: Draft | None
    allowed: TaskPermissions
    submitted: dict[str, Any] | None = None
    people: dict[str, str] = field(default_factory=dict)  # display names of the usernames shown

    def name_of(self, username: str | None) -> str:
        return self.people.get(username, username) if username else ""


@dataclass(frozen=True)
class Completion:
    task: dict[str, Any]
    next_task_id: str | None  # the next step, when it is this person's or their team's
    instance_state: str


@dataclass(frozen=True)
class Person:
    username: str
    display_name: str


def task_view(ctx: Context, principal: Principal, task_id: str) -> TaskView:
    """The task page of ``task_id`` for ``principal`` (NotFound if they may not see it)."""
    with ctx.db.transaction() as session:
        task, establishments = _visible(session, principal, task_id)
        row = store.load(ctx, session, task.instance_id)
        workflow = ctx.runner.load(row.state_json, ctx.versions.spec(session, row.process_version_id))
        form = ctx.forms.get(task.form_ref, task.ui_form_ref) if task.form_ref else None
        spiff_task = find_task(workflow, task.id)
        answers = filter_data(form.schema, dict(spiff_task.data)) if form and spiff_task else {}
        history = casefile.history(session, principal, task.instance_id)
        shown = [task.assignee, task.completed_by, *(e.actor for e in history)]
        return TaskView(
            task=task.as_dict(),
            case=casefile.case_summary(session, row),
            history=history,
            marks=_marks(workflow, task),
            form=form,
            answers=answers,
            draft=drafts.draft_in(session, task.id, principal.username),
            allowed=_permissions(principal, task, establishments, row.suspended),
            submitted=_submitted(session, task, form),
            people=names_in(session, [name for name in shown if name]),
        )


def visible_task(ctx: Context, principal: Principal, task_id: str) -> dict[str, Any]:
    """The task (as a dict), if ``principal`` may see it."""
    with ctx.db.transaction() as session:
        return _visible(session, principal, task_id)[0].as_dict()


def complete(ctx: Context, principal: Principal, task_id: str, data: dict[str, Any]) -> Completion:
    """Complete the task with ``data`` (validated against its form by the task service); the person's
    draft goes. Raises TaskAlreadyCompleted (naming who) when someone got there first."""
    visible_task(ctx, principal, task_id)
    done = tasks.complete_task(
        ctx, task_id, data, actor=principal.username, override_assignee=principal.is_manager
    )
    drafts.discard_drafts(ctx, task_id)
    with ctx.db.transaction() as session:
        next_id = _next_for(session, principal, done["instance_id"], done["next_tasks"])
    return Completion(done, next_id, done["instance_state"])


def claim(ctx: Context, principal: Principal, task_id: str) -> dict[str, Any]:
    visible_task(ctx, principal, task_id)
    return tasks.claim_task(ctx, task_id, user=principal.username)


def release(ctx: Context, principal: Principal, task_id: str) -> dict[str, Any]:
    """Give a task back to its teams (its holder, or a manager for anyone's task)."""
    visible_task(ctx, principal, task_id)
    return tasks.unclaim_task(ctx, task_id, user=principal.username, override=principal.is_manager)


def reassign(ctx: Context, principal: Principal, task_id: str, assignee: str | None) -> dict[str, Any]:
    """Managers: give a task to someone who may complete it (``None``: back to its teams)."""
    visible_task(ctx, principal, task_id)
    access.require_role(access.may_manage_instance(principal), "reassign tasks")
    if assignee is not None and assignee not in {
        p.username for p in assignable_people(ctx, principal, task_id)
    }:
        raise InvalidInput(
            f"{assignee} cannot be given this task: choose someone in one of its teams.", field="assignee"
        )
    return tasks.assign_task(ctx, task_id, assignee=assignee, actor=principal.username)


def assignable_people(ctx: Context, principal: Principal, task_id: str) -> list[Person]:
    """Active people who could complete the task if it were theirs, by name (for managers)."""
    access.require_role(access.may_manage_instance(principal), "reassign tasks")
    with ctx.db.transaction() as session:
        task, establishments = _visible(session, principal, task_id)
        accounts = session.scalars(select(UserAccount).where(UserAccount.active.is_(True)))
        candidates = [
            Person(user.username, user.display_name)
            for user in accounts
            if access.may_complete_task(
                _principal_of(user), {**task.as_dict(), "assignee": None}, establishments
            )
        ]
    return sorted(candidates, key=lambda p: (p.display_name.lower(), p.username))


def save_draft(ctx: Context, principal: Principal, task_id: str, data: dict[str, Any]) -> Draft:
    """Keep unvalidated answers for later (only what the form declares)."""
    with ctx.db.transaction() as session:
        task, _ = _visible(session, principal, task_id)
    if task.state != TaskState.READY:
        raise TaskNotReady(f"'{task.name}' is no longer open, so its answers cannot be saved.")
    form = ctx.forms.get(task.form_ref, task.ui_form_ref) if task.form_ref else None
    return drafts.save_draft(ctx, task_id, principal.username, filter_data(form.schema, data) if form else {})


def display_names(ctx: Context, usernames: list[str]) -> dict[str, str]:
    """People's names by username (a username with no account stands for itself)."""
    with ctx.db.transaction() as session:
        return names_in(session, usernames)


# --- helpers ------------------------------------------------------------------------------------------


def _visible(session: Session, principal: Principal, task_id: str) -> tuple[TaskRecord, list[str]]:
    task = load_task(session, task_id)
    establishments = access.establishments_of(session, task.instance_id)
    access.require(access.may_see_task(principal, task, establishments), "task")
    return task, establishments


def _marks(workflow: Any, task: TaskRecord) -> DiagramMarks:
    """Steps done, and this task as the current step while it is open (else the case's open steps)."""
    marks = casefile.diagram_marks(workflow)
    element = casefile.element_id(task.task_spec_id)
    if task.state != TaskState.READY or element is None:
        return marks
    return DiagramMarks([e for e in marks.completed if e != element], [element], marks.failed)


def _permissions(
    principal: Principal, task: TaskRecord, establishments: list[str], suspended: bool
) -> TaskPermissions:
    is_open = task.state == TaskState.READY and not suspended
    mine = task.assignee == principal.username
    return TaskPermissions(
        complete=is_open and access.may_complete_task(principal, task, establishments),
        claim=is_open and task.assignee is None,
        release=is_open and task.assignee is not None and (mine or principal.is_manager),
        reassign=is_open and access.may_manage_instance(principal),
    )


def _submitted(session: Session, task: TaskRecord, form: FormDefinition | None) -> dict[str, Any] | None:
    if task.state != TaskState.COMPLETED:
        return None
    data = session.scalar(
        select(EV.c.data)
        .where(EV.c.instance_id == task.instance_id, EV.c.task_guid == task.id, EV.c.kind == "task_completed")
        .limit(1)
    )
    return filter_data(form.schema, data) if form and isinstance(data, dict) else {}


def _next_for(session: Session, principal: Principal, instance_id: int, guids: list[str]) -> str | None:
    """The first newly open task that is this person's or offered to their teams."""
    establishments = access.establishments_of(session, instance_id)
    for guid in guids:
        task = load_task(session, guid)
        if task.assignee:
            if task.assignee == principal.username:
                return task.id
        elif principal.is_school:
            if access.may_see_task(principal, task, establishments):
                return task.id
        elif set(task.teams) & principal.teams:
            return task.id
    return None


def _principal_of(user: UserAccount) -> Principal:
    return Principal(
        user.username,
        user.role,
        frozenset(t.slug for t in user.teams),
        user.establishment if user.role == Role.SCHOOL else None,
    )


def earlier_submission(ctx: Context, task_id: str, username: str, nonce: str) -> dict[str, Any] | None:
    """The audit record of ``username`` completing ``task_id`` with the form carrying ``nonce``, if
    that is how it was completed (a second press of the same button)."""
    for entry in audit.trail(ctx, "task", task_id, limit=50):
        details = entry.details or {}
        if entry.action == "complete" and entry.actor == username and details.get("submission") == nonce:
            return details
    return None
