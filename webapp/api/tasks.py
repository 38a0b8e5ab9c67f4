"""/api/v1/tasks: the human tasks one may see; claiming, releasing and completing them."""

from __future__ import annotations

from typing import Any

from flask import Response

from engine import access
from engine.errors import NotFound
from engine.services import tasks
from engine.services.tasks import TaskQuery

from ..security import audit_event, audit_view, current_principal, engine_context
from . import bp, queries
from .http import json_object, load_query, page, respond
from .registry import operation
from .schemas import CompletedTaskSchema, TaskFormSchema, TaskListQuery, TaskSchema, view_for

TASK = "/v1/tasks/<task_id>"
FORM_DATA = {
    "type": "object",
    "additionalProperties": True,
    "description": "The answers to the task's form; GET /api/v1/tasks/{task_id}/form gives its JSON Schema.",
}


@operation(
    bp,
    "GET",
    "/v1/tasks",
    summary="List the tasks you may see",
    tag="tasks",
    query=TaskListQuery,
    response=TaskSchema,
    paged=True,
    errors=(401, 422),
    description="Soonest due first. School users see their own cases' tasks in the school lane.",
)
def list_tasks() -> Response:
    principal, args = current_principal(), load_query(TaskListQuery)
    query = TaskQuery(
        team=args.get("team"),
        assignee=principal.username if args.get("assignee") == "me" else args.get("assignee"),
        unassigned=args["unassigned"],
        process_id=args.get("process"),
        business_key=args.get("business_key"),
        overdue=args["overdue"],
        state=args["state"],
        limit=args["limit"],
        offset=args["offset"],
    )
    items, total = queries.visible_tasks(engine_context(), principal, query)
    audit_view("task", "list", {"filters": dict(args), "ids": [t["id"] for t in items]})
    return page(TaskSchema(view=view_for(principal), many=True).dump(items), total, query.limit, query.offset)


@operation(bp, "GET", TASK, summary="Show a task", tag="tasks", response=TaskSchema, errors=(401, 404))
def show_task(task_id: str) -> Response:
    task = visible_task(task_id)
    audit_view("task", task_id)
    return respond(_dump(task))


@operation(
    bp,
    "GET",
    f"{TASK}/form",
    summary="A task's form and its current answers",
    tag="tasks",
    response=TaskFormSchema,
    errors=(401, 404),
    description="The JSON Schema, the UI schema and the task's data filtered through the form: "
    "never the case's other data.",
)
def task_form(task_id: str) -> Response:
    task, ctx = visible_task(task_id), engine_context()
    form = ctx.forms.get(task["form"], task["ui_form"]) if task["form"] else None
    audit_view("task", task_id, {"form": task["form"]})
    return respond(
        TaskFormSchema().dump(
            {
                "task": task_id,
                "form": task["form"],
                "schema": form.schema if form else None,
                "ui_schema": form.ui_schema if form else None,
                "data": tasks.task_form_data(ctx, task_id),
            }
        )
    )


@operation(
    bp,
    "POST",
    f"{TASK}/claim",
    summary="Take a task for yourself",
    tag="tasks",
    response=TaskSchema,
    errors=(401, 404, 409),
)
def claim_task(task_id: str) -> Response:
    visible_task(task_id)
    claimed = tasks.claim_task(engine_context(), task_id, user=current_principal().username)
    audit_event("claim", "task", task_id)
    return respond(_dump(claimed))


@operation(
    bp,
    "POST",
    f"{TASK}/unclaim",
    summary="Release a task you hold",
    tag="tasks",
    response=TaskSchema,
    errors=(401, 404, 409),
    description="Managers may release anyone's task.",
)
def unclaim_task(task_id: str) -> Response:
    visible_task(task_id)
    principal = current_principal()
    released = tasks.unclaim_task(
        engine_context(), task_id, user=principal.username, override=access.may_manage_instance(principal)
    )
    audit_event("unclaim", "task", task_id)
    return respond(_dump(released))


@operation(
    bp,
    "POST",
    f"{TASK}/complete",
    summary="Complete a task with its form's answers",
    tag="tasks",
    body=FORM_DATA,
    response=CompletedTaskSchema,
    errors=(401, 404, 409, 422),
    description="422 `invalid_form_data` lists each field's problem; 409 `task_already_completed` "
    "says who completed it (`completed_by`).",
)
def complete_task(task_id: str) -> Response:
    principal, data = current_principal(), json_object()
    visible_task(task_id)
    outcome = tasks.complete_task(
        engine_context(),
        task_id,
        data,
        actor=principal.username,
        override_assignee=access.may_manage_instance(principal),
    )
    audit_event("complete", "task", task_id, {"instance_id": outcome["instance_id"]})
    return respond(CompletedTaskSchema(view=view_for(principal)).dump(outcome))


def visible_task(task_id: str) -> dict[str, Any]:
    """The task, if the caller may see it; otherwise "no such task", whether it exists or not."""
    principal, ctx = current_principal(), engine_context()
    try:
        task: dict[str, Any] | None = tasks.get_task(ctx, task_id) if _plausible(task_id) else None
    except NotFound:
        task = None
    establishments = queries.establishments(ctx, task["instance_id"]) if task and principal.is_school else []
    access.require(task is not None and access.may_see_task(principal, task, establishments), "task")
    assert task is not None
    return task


def _plausible(task_id: str) -> bool:
    """Task ids are UUIDs: anything longer, or with a NUL (which PostgreSQL refuses), is no task."""
    return len(task_id) <= 36 and "\x00" not in task_id


def _dump(task: dict[str, Any]) -> dict[str, Any]:
    dumped: dict[str, Any] = TaskSchema(view=view_for(current_principal())).dump(task)
    return dumped
