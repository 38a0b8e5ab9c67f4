"""GET /tasks (the inbox: three tabs with counts, filters, sort, pages; htmx refreshes only the
results), and the buttons on tasks: claim, release, reassign (managers, with a person picker)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.datastructures import MultiDict

from engine.errors import Conflict, InvalidInput
from engine.services import casework
from engine.services import inbox as inbox_service
from engine.services.inbox import Due, InboxFilters, Tab

from ..auth.views import local_path
from ..security import audit_event, audit_view, current_principal, engine_context
from . import bp

LAESTAB = re.compile(r"\d{7}")


@bp.get("/tasks")
def inbox() -> ResponseReturnValue:
    filters, errors = read_filters(request.args)
    tab = Tab(request.args.get("tab")) if request.args.get("tab") in set(Tab) else Tab.MINE
    page = inbox_service.inbox(engine_context(), current_principal(), tab, filters)
    audit_view("inbox", tab.value, {"filters": _query(filters), "tasks": len(page.tasks)})
    partial = request.headers.get("HX-Request") and not request.headers.get("HX-Boosted")
    return render_template(
        "tasks/_results.html" if partial else "tasks/inbox.html",
        page=page,
        errors=errors,
        error_list=[{"text": message, "href": f"#{name}"} for name, message in errors.items()],
        query=_query(filters),
        page_title=("Error: " if errors else "") + "Tasks",
    )


@bp.post("/tasks/<task_id>/claim")
def claim(task_id: str) -> ResponseReturnValue:
    return _change(
        task_id,
        "claim",
        lambda: casework.claim(engine_context(), current_principal(), task_id),
        "You have taken '{name}'. It is in your tasks.",
    )


@bp.post("/tasks/<task_id>/release")
def release(task_id: str) -> ResponseReturnValue:
    return _change(
        task_id,
        "release",
        lambda: casework.release(engine_context(), current_principal(), task_id),
        "'{name}' is back with its team.",
    )


@bp.route("/tasks/<task_id>/reassign", methods=["GET", "POST"])
def reassign(task_id: str) -> ResponseReturnValue:
    ctx, principal = engine_context(), current_principal()
    task = casework.visible_task(ctx, principal, task_id)
    error = None
    if request.method == "POST":
        chosen = request.form.get("assignee", "")
        try:
            done = casework.reassign(ctx, principal, task_id, chosen or None)
        except InvalidInput as refusal:
            error = refusal.message
        else:
            audit_event("reassign", "task", task_id, {"assignee": done["assignee"]})
            flash(f"'{done['name']}' is now with {done['assignee'] or 'its team'}.")
            return redirect(
                local_path(request.form.get("next")) or url_for("tasks.task", task_id=task_id), 303
            )
    people = casework.assignable_people(ctx, principal, task_id)
    return render_template(
        "tasks/reassign.html",
        task=task,
        people=people,
        error=error,
        next_url=local_path(request.values.get("next")),
        page_title=("Error: " if error else "") + f"Reassign {task['name']}",
    )


def _change(
    task_id: str, action: str, change: Callable[[], dict[str, Any]], done_text: str
) -> ResponseReturnValue:
    back = local_path(request.form.get("next")) or url_for("tasks.task", task_id=task_id)
    try:
        done = change()
    except Conflict as refusal:
        flash(refusal.message, "problem")
        return redirect(back, 303)
    audit_event(action, "task", task_id)
    flash(done_text.format(name=done["name"]))
    return redirect(back, 303)


# --- reading the filters ------------------------------------------------------------------------------


def read_filters(args: MultiDict[str, str]) -> tuple[InboxFilters, dict[str, str]]:
    """The inbox filters from the query string, and a message for each that could not be used."""
    errors: dict[str, str] = {}
    establishment = args.get("establishment", "").strip()
    if establishment and not LAESTAB.fullmatch(establishment):
        errors["establishment"] = "Enter the school's 7-digit LAESTAB, like 8012000"
        establishment = ""
    due = args.get("due", "")
    page = args.get("page", "1")
    filters = InboxFilters(
        process_id=args.get("process", "").strip()[:200],
        establishment=establishment,
        pupil=args.get("pupil", "").strip().upper()[:100],
        due=Due(due) if due in set(Due) else Due.ANY,
        team=args.get("team", "").strip()[:100],
        newest_due_first=args.get("sort") == "-due",
        page=int(page) if page.isdigit() and len(page) < 7 else 1,
    )
    return filters, errors


def _query(filters: InboxFilters) -> dict[str, str]:
    """The filters given, as query-string parameters (for tab links and pages)."""
    query = {
        "process": filters.process_id,
        "establishment": filters.establishment,
        "pupil": filters.pupil,
        "due": filters.due.value,
        "team": filters.team,
        "sort": "-due" if filters.newest_due_first else "",
    }
    return {name: value for name, value in query.items() if value}
