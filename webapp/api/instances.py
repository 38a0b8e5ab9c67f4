"""/api/v1/instances: starting cases, showing them, and a manager's actions on them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response, url_for

from engine import access
from engine.access import Principal
from engine.errors import NotFound
from engine.services import instances, portal
from engine.services.instances import InstanceView, establishments_in

from ..security import audit_event, audit_view, current_principal, engine_context
from . import bp, queries
from .http import load_body, load_query, page, respond
from .registry import operation
from .schemas import (
    MAX_ID,
    InstanceListQuery,
    InstanceSchema,
    InstanceSummarySchema,
    ReasonSchema,
    RetrySchema,
    StartInstanceSchema,
    view_for,
)

INSTANCE = f"/v1/instances/<int(max={MAX_ID}):instance_id>"


@operation(
    bp,
    "POST",
    "/v1/instances",
    summary="Start a case",
    tag="instances",
    body=StartInstanceSchema,
    response=InstanceSchema,
    status=201,
    errors=(401, 403, 404, 409, 422),
    description="LA staff may start any deployed process. School users may start only the processes "
    "their portal offers (" + ", ".join(sorted(portal.PORTAL_PROCESSES)) + "); their establishment is "
    "written into the start data.",
)
def start_instance() -> Response:
    principal, args = current_principal(), load_body(StartInstanceSchema)
    data = _start_data(principal, args)
    started = instances.start_instance(
        engine_context(),
        args["process_id"],
        data=data,
        business_key=args["business_key"],
        actor=principal.username,
        version=args["version"],
    ).as_dict()
    audit_event("start", "instance", started["id"], {"process_id": args["process_id"]})
    started["tasks"] = _visible_tasks(principal, started["tasks"], establishments_in(data))
    response = respond(InstanceSchema(view=view_for(principal)).dump(started), 201)
    response.headers["Location"] = url_for("api.show_instance", instance_id=started["id"])
    return response


@operation(
    bp,
    "GET",
    "/v1/instances",
    summary="List the cases you may see",
    tag="instances",
    query=InstanceListQuery,
    response=InstanceSummarySchema,
    paged=True,
    errors=(401, 422),
    description="Newest first. Managers see every case; others the cases they work on.",
)
def list_instances() -> Response:
    principal, args = current_principal(), load_query(InstanceListQuery)
    query = queries.InstanceQuery(
        process_id=args.get("process"),
        state=args.get("state"),
        business_key=args.get("business_key"),
        suspended=args.get("suspended"),
        limit=args["limit"],
        offset=args["offset"],
    )
    items, total = queries.visible_instances(engine_context(), principal, query)
    audit_view("instance", "list", {"filters": dict(args), "ids": [i["id"] for i in items]})
    return page(
        InstanceSummarySchema(view=view_for(principal), many=True).dump(items),
        total,
        query.limit,
        query.offset,
    )


@operation(
    bp,
    "GET",
    INSTANCE,
    summary="Show a case, its tasks and history",
    tag="instances",
    response=InstanceSchema,
    errors=(401, 404),
)
def show_instance(instance_id: int) -> Response:
    shown = visible_instance(instance_id)
    audit_view("instance", instance_id)
    return respond(InstanceSchema(view=view_for(current_principal())).dump(shown))


def _action(
    name: str, summary: str, body: Any, change: Callable[[int, dict[str, Any]], InstanceView]
) -> None:
    """Register POST /v1/instances/{id}/<name>: for managers and administrators, on a case they see."""

    def act(instance_id: int) -> Response:
        visible_instance(instance_id)
        principal = current_principal()
        access.require_role(access.may_manage_instance(principal), f"{name} cases")
        args = load_body(body)
        changed = change(instance_id, args)
        audit_event(name, "instance", instance_id, args or None)
        return respond(InstanceSchema(view=view_for(principal)).dump(changed.as_dict()))

    act.__name__ = f"{name}_instance"
    operation(
        bp,
        "POST",
        f"{INSTANCE}/{name}",
        summary=summary,
        tag="instances",
        body=body,
        response=InstanceSchema,
        errors=(401, 403, 404, 409, 422),
        description="Managers and administrators only.",
    )(act)


def _actor() -> str:
    return current_principal().username


_action(
    "suspend",
    "Suspend a case: no task completes and no timer fires until it resumes",
    ReasonSchema,
    lambda i, a: instances.suspend_instance(engine_context(), i, actor=_actor(), reason=a["reason"]),
)
_action(
    "resume",
    "Resume a suspended case (timers that fell due fire now)",
    ReasonSchema,
    lambda i, a: instances.resume_instance(engine_context(), i, actor=_actor()),
)
_action(
    "cancel",
    "Cancel a case",
    ReasonSchema,
    lambda i, a: instances.cancel_instance(engine_context(), i, actor=_actor(), reason=a["reason"]),
)
_action(
    "retry",
    "Run the task in error again, after correcting the case's data",
    RetrySchema,
    lambda i, a: instances.retry_instance(
        engine_context(), i, actor=_actor(), data_changes=a["data_changes"]
    ),
)


def visible_instance(instance_id: int) -> dict[str, Any]:
    """The case with its history, if the caller may see it (school users: only their lane's tasks);
    otherwise "no such case", whether it exists or not."""
    principal, ctx = current_principal(), engine_context()
    try:
        shown: dict[str, Any] | None = instances.show_instance(ctx, instance_id).as_dict()
    except NotFound:
        shown = None
    establishments = queries.establishments(ctx, instance_id) if shown and principal.is_school else []
    tasks = shown["tasks"] if shown else []
    access.require(
        shown is not None
        and access.may_see_instance(
            principal,
            establishments=establishments,
            task_teams={team for task in tasks for team in task["teams"]},
            assignees={task["assignee"] for task in tasks if task["assignee"]},
        ),
        "case",
    )
    assert shown is not None
    shown["tasks"] = _visible_tasks(principal, tasks, establishments)
    return shown


def _visible_tasks(
    principal: Principal, tasks: list[dict[str, Any]], establishments: list[str]
) -> list[dict[str, Any]]:
    if not principal.is_school:
        return tasks
    return [task for task in tasks if access.may_see_task(principal, task, establishments)]


def _start_data(principal: Principal, args: dict[str, Any]) -> dict[str, Any]:
    """The start data as sent, or for a school user: only a portal process, with their school in it."""
    return portal.school_start_data(principal, args["process_id"], args["data"], version=args["version"])
