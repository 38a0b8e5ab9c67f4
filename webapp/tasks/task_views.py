"""GET /tasks/<id>: the task page (whom the case concerns, its history, the process diagram with this
step marked, and the task's form); POST /tasks/<id>: the form's buttons (Continue, Save draft, Add
another / Remove).

Answers are never lost: errors show the page again with what was typed; a task someone else completed
first shows who did and when, with the answers just sent, read-only.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from engine import access
from engine.errors import Conflict, FieldError, FormDataInvalid, TaskAlreadyCompleted, TaskNotReady
from engine.models.workflow import TaskState
from engine.services import casework
from engine.services.casework import Completion, TaskView

from ..forms_render import ACTION_FIELD, ParsedForm, RenderedForm, check_submission, parse_form, render_form
from ..forms_render.templating import uk_datetime
from ..security import audit_event, audit_view, current_principal, engine_context
from . import bp, submission
from .answers import answer_rows

SAVE_DRAFT = "save_draft"
STALE_FORM = (
    "Your answers have not been sent: this form was opened for someone else or has been replaced. "
    "Check your answers and select Continue again."
)


@bp.get("/tasks/<task_id>")
def task(task_id: str) -> ResponseReturnValue:
    view = casework.task_view(engine_context(), current_principal(), task_id)
    audit_view("task", task_id)
    data = view.draft.data if view.draft and view.allowed.complete else view.answers
    return _page(view, _form(view, data=data))


@bp.post("/tasks/<task_id>")
def submit(task_id: str) -> ResponseReturnValue:
    view = casework.task_view(engine_context(), current_principal(), task_id)
    form = view.form
    parsed = (
        parse_form(form.schema, form.ui_schema, request.form, current=view.answers)
        if form
        else ParsedForm({})
    )
    if parsed.action:  # Add another / Remove: show the form again, changed
        return _page(view, _form(view, parsed=parsed))
    if request.form.get(ACTION_FIELD) == SAVE_DRAFT:
        return _save_draft(view, parsed)
    errors = check_submission(form.schema, parsed, form_ref=form.ref) if form else []
    nonce = submission.nonce_of(request.form.get(submission.FIELD), task_id, current_principal().username)
    if nonce is None:
        return _page(view, _form(view, errors=errors, parsed=parsed), problem=STALE_FORM), 422
    if errors:
        return _page(view, _form(view, errors=errors, parsed=parsed)), 422
    return _complete(view, parsed, nonce)


# --- the buttons --------------------------------------------------------------------------------------


def _complete(view: TaskView, parsed: ParsedForm, nonce: str) -> ResponseReturnValue:
    task_id = view.task["id"]
    try:
        done = casework.complete(engine_context(), current_principal(), task_id, parsed.data)
    except TaskAlreadyCompleted:
        return _already_completed(view, parsed, nonce)
    except TaskNotReady as closed:
        return _answers_page(view, parsed, "This task has closed", closed.message), 409
    except FormDataInvalid as invalid:
        return _page(view, _form(view, errors=invalid.errors, parsed=parsed)), 422
    except Conflict as refusal:  # assigned to someone else, case suspended...
        return _page(view, _form(view, parsed=parsed), problem=refusal.message, kept=parsed.data), 409
    audit_event("complete", "task", task_id, {"submission": nonce, "next": done.next_task_id})
    flash(_completed_text(done))
    return redirect(_after_completion(done.next_task_id), 303)


def _save_draft(view: TaskView, parsed: ParsedForm) -> ResponseReturnValue:
    try:
        casework.save_draft(engine_context(), current_principal(), view.task["id"], parsed.data)
    except TaskNotReady as closed:
        return _answers_page(view, parsed, "This task has closed", closed.message), 409
    audit_event("save_draft", "task", view.task["id"])
    if parsed.errors:  # answers that could not be read (a date that does not exist) were not kept
        notice = "Your other answers have been saved as a draft. Correct these answers to save them too."
        return _page(view, _form(view, errors=parsed.errors, parsed=parsed), notice=notice), 422
    flash(
        "Your answers have been saved as a draft. They have not been sent: select Continue when you are ready."
    )
    return redirect(url_for("tasks.task", task_id=view.task["id"]), 303)


def _already_completed(view: TaskView, parsed: ParsedForm, nonce: str) -> ResponseReturnValue:
    ctx, principal = engine_context(), current_principal()
    record = casework.visible_task(ctx, principal, view.task["id"])
    if record["completed_by"] == principal.username:
        earlier = casework.earlier_submission(ctx, view.task["id"], principal.username, nonce)
        if earlier is not None:  # the same form sent twice (a double click): go where the first went
            return redirect(_after_completion(earlier.get("next")), 303)
    who = "You" if record["completed_by"] == principal.username else _name(record["completed_by"])
    heading = f"{who} completed this task {_at_time(record['completed_at'])}"
    return _answers_page(view, parsed, heading, "Your answers were not saved."), 409


def _after_completion(next_task_id: str | None) -> str:
    if next_task_id:
        return url_for("tasks.task", task_id=next_task_id)
    if access.may_enter(current_principal(), "tasks"):
        return url_for("tasks.inbox")
    return url_for("auth.home")


def _completed_text(done: Completion) -> str:
    name = done.task["name"]
    key = f" for {done.task['business_key']}" if done.task.get("business_key") else ""
    if done.next_task_id:
        return f"You completed '{name}'{key}. This is the next step."
    if done.instance_state == "complete":
        return f"You completed '{name}'{key}. The case is now closed."
    return f"You completed '{name}'{key}. The case has moved on to its next step."


# --- pages --------------------------------------------------------------------------------------------


def _form(
    view: TaskView,
    *,
    data: dict[str, Any] | None = None,
    errors: list[FieldError] | None = None,
    parsed: ParsedForm | None = None,
) -> RenderedForm | None:
    if view.form is None or not view.allowed.complete:
        return None
    return render_form(view.form.schema, view.form.ui_schema, data, errors or (), parsed=parsed)


def _page(
    view: TaskView,
    rendered: RenderedForm | None,
    *,
    problem: str | None = None,
    notice: str | None = None,
    kept: dict[str, Any] | None = None,
) -> str:
    """The task page. ``kept``: answers that could not be sent, shown read-only when the form cannot be."""
    task = view.task
    shown = (
        kept if kept is not None else view.submitted if task["state"] == TaskState.COMPLETED else view.answers
    )
    return render_template(
        "tasks/task.html",
        view=view,
        task=task,
        rendered=rendered,
        token=submission.issue(task["id"], current_principal().username),
        answers=answer_rows(view.form, shown or {}) if rendered is None else [],
        answers_kept=kept is not None,
        problem=problem,
        notice=notice,
        back_url=_back_url(),
        page_title=("Error: " if rendered and rendered.has_errors else "") + task["name"],
    )


def _answers_page(view: TaskView, parsed: ParsedForm, heading: str, text: str) -> str:
    """A task that closed before the answers arrived: say why, and show the answers read-only."""
    return render_template(
        "tasks/not_saved.html",
        view=view,
        task=view.task,
        heading=heading,
        text=text,
        rows=answer_rows(view.form, parsed.data),
        back_url=_back_url(),
        page_title=heading,
    )


def _back_url() -> str:
    return url_for("tasks.inbox") if access.may_enter(current_principal(), "tasks") else url_for("auth.home")


def _name(username: str | None) -> str:
    if not username:
        return "Someone else"
    return casework.display_names(engine_context(), [username])[username]


def _at_time(moment: Any) -> str:
    """``at 10:02am on 4 March 2026`` (UK time)."""
    if not moment:
        return ""
    day, _, clock_time = uk_datetime(moment).partition(" at ")
    return f"at {clock_time} on {day}" if clock_time else f"on {day}"
