"""GET /instances (filters: process, version, state, business key, started between), GET
/instances/<id>, GET /instances/<id>/diagram.bpmn, and POST /instances/<id>/{suspend,resume,cancel,
retry}."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from typing import Any

from flask import Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.datastructures import MultiDict

from engine.errors import Conflict, InvalidInput
from engine.services import casefile, monitoring
from engine.services.monitoring import STATES, InstanceFilters

from ..security import audit_event, audit_view, current_principal, engine_context
from ..tasks.answers import answer_rows
from . import bp

STATE_NAMES = {
    "user_input_required": "Waiting for a person",
    "waiting": "Waiting for a date or message",
    "suspended": "Suspended",
    "error": "Stopped with an error",
    "complete": "Complete",
    "cancelled": "Cancelled",
    "running": "Running",
}


@bp.get("/instances")
def index() -> ResponseReturnValue:
    filters, errors = read_filters(request.args)
    ctx = engine_context()
    found = monitoring.list_instances(ctx, current_principal(), filters, ctx.settings.timezone)
    audit_view("instance_list", "-", {"filters": _query(filters), "instances": len(found.rows)})
    partial = request.headers.get("HX-Request") and not request.headers.get("HX-Boosted")
    return render_template(
        "instances/_results.html" if partial else "instances/index.html",
        found=found,
        errors=errors,
        error_list=[{"text": message, "href": f"#{name}"} for name, message in errors.items()],
        query=_query(filters),
        states=[(s, STATE_NAMES[s]) for s in STATES],
        state_names=STATE_NAMES,
        page_title=("Error: " if errors else "") + "Cases",
    )


@bp.get("/instances/<int:instance_id>")
def instance(instance_id: int) -> ResponseReturnValue:
    page = monitoring.instance_page(engine_context(), current_principal(), instance_id)
    audit_view("instance", instance_id)
    return _page(page)


@bp.get("/instances/<int:instance_id>/diagram.bpmn")
def diagram(instance_id: int) -> ResponseReturnValue:
    xml = casefile.bpmn_xml(engine_context(), current_principal(), instance_id)
    return Response(xml, mimetype="application/xml")


@bp.post("/instances/<int:instance_id>/suspend")
def suspend(instance_id: int) -> ResponseReturnValue:
    reason = request.form.get("reason", "")
    return _act(
        instance_id,
        "suspend",
        lambda: monitoring.suspend(engine_context(), current_principal(), instance_id, reason),
        "The case is suspended.",
        {"reason": reason},
    )


@bp.post("/instances/<int:instance_id>/resume")
def resume(instance_id: int) -> ResponseReturnValue:
    return _act(
        instance_id,
        "resume",
        lambda: monitoring.resume(engine_context(), current_principal(), instance_id),
        "The case has resumed.",
    )


@bp.post("/instances/<int:instance_id>/cancel")
def cancel(instance_id: int) -> ResponseReturnValue:
    reason = request.form.get("reason", "")
    return _act(
        instance_id,
        "cancel",
        lambda: monitoring.cancel(engine_context(), current_principal(), instance_id, reason),
        "The case is cancelled.",
        {"reason": reason},
    )


@bp.post("/instances/<int:instance_id>/retry")
def retry(instance_id: int) -> ResponseReturnValue:
    text = request.form.get("data_changes", "").strip()
    try:
        changes = json.loads(text) if text else {}
    except ValueError:
        return _with_error(
            instance_id,
            "data_changes",
            'Enter the corrections as JSON, for example {"days": 5}, or leave the box empty',
        )
    return _act(
        instance_id,
        "retry",
        lambda: monitoring.retry(engine_context(), current_principal(), instance_id, changes),
        "The failed step has been run again.",
        {"data_changes": sorted(changes) if isinstance(changes, dict) else None},
    )


# --- helpers ------------------------------------------------------------------------------------------


def _act(
    instance_id: int,
    action: str,
    change: Callable[[], None],
    done_text: str,
    details: dict[str, Any] | None = None,
) -> ResponseReturnValue:
    try:
        change()
    except InvalidInput as refusal:
        return _with_error(instance_id, str(refusal.details.get("field") or action), refusal.message)
    except Conflict as refusal:  # ended, already suspended, not in error...
        flash(refusal.message, "problem")
        return redirect(url_for("instances.instance", instance_id=instance_id), 303)
    audit_event(action, "instance", instance_id, details)
    flash(done_text)
    return redirect(url_for("instances.instance", instance_id=instance_id), 303)


def _with_error(instance_id: int, field: str, message: str) -> ResponseReturnValue:
    """The instance page again, with the problem by the field (and what was typed kept)."""
    page = monitoring.instance_page(engine_context(), current_principal(), instance_id)
    audit_view("instance", instance_id)
    return _page(page, errors={f"{request.path.rsplit('/', 1)[-1]}-{field}": message}), 422


def _page(page: monitoring.InstancePage, errors: dict[str, str] | None = None) -> str:
    errors = errors or {}
    open_names = [t["name"] for t in page.tasks if t["state"] == "ready"]
    return render_template(
        "instances/instance.html",
        page=page,
        case=page.case,
        errors=errors,
        error_list=[{"text": message, "href": f"#{name}"} for name, message in errors.items()],
        start_rows=answer_rows(page.start_form, page.start_data)
        if page.start_form
        else _plain_rows(page.start_data),
        submissions=[(s, answer_rows(s.form, s.data)) for s in page.submissions],
        open_names=", ".join(open_names),
        state_names=STATE_NAMES,
        page_title=("Error: " if errors else "") + f"Case {page.case.business_key or page.case.instance_id}",
    )


def _plain_rows(data: Any, prefix: str = "") -> list[dict[str, Any]]:
    """Summary list rows for data without a form: one row per answer, nested keys joined with ': '."""
    rows: list[dict[str, Any]] = []
    items = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else []
    for key, value in items:
        label = f"{prefix}{_humanise(key)}"
        if isinstance(value, dict | list) and value:
            rows.extend(_plain_rows(value, f"{label}: "))
        else:
            rows.append({"key": {"text": label}, "value": {"text": _plain(value)}})
    return rows


def _humanise(key: Any) -> str:
    return str(key + 1) if isinstance(key, int) else str(key).replace("_", " ").capitalize()


def _plain(value: Any) -> str:
    if value is None or value in ([], {}):
        return "Not given"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    return str(value)


# --- reading the filters ------------------------------------------------------------------------------


def read_filters(args: MultiDict[str, str]) -> tuple[InstanceFilters, dict[str, str]]:
    errors: dict[str, str] = {}
    version = args.get("version", "").strip()
    if version and not version.isdigit():
        errors["version"] = "Enter a version number, like 2"
    state = args.get("state", "")
    page = args.get("page", "1")
    filters = InstanceFilters(
        process_id=args.get("process", "").strip()[:200],
        version=int(version) if version.isdigit() and len(version) < 7 else None,
        state=state if state in STATES else "",
        business_key=args.get("business_key", "").strip()[:100],
        started_from=_day(args, "from", errors),
        started_to=_day(args, "to", errors),
        page=int(page) if page.isdigit() and len(page) < 7 else 1,
    )
    return filters, errors


def _day(args: MultiDict[str, str], name: str, errors: dict[str, str]) -> date | None:
    """A GOV.UK date input's three boxes (``from-day``, ``from-month``, ``from-year``) as a date."""
    parts = [args.get(f"{name}-{part}", "").strip() for part in ("day", "month", "year")]
    if not any(parts):
        return None
    try:
        day, month, year = (int(p) for p in parts)
        return date(year, month, day)
    except ValueError:
        label = "Started from" if name == "from" else "Started to"
        errors[f"{name}-day"] = f"{label} must be a real date, like 27 3 2026"
        return None


def _query(filters: InstanceFilters) -> dict[str, str]:
    query: dict[str, Any] = {
        "process": filters.process_id,
        "version": filters.version,
        "state": filters.state,
        "business_key": filters.business_key,
    }
    for name, day in (("from", filters.started_from), ("to", filters.started_to)):
        if day:
            query.update({f"{name}-day": day.day, f"{name}-month": day.month, f"{name}-year": day.year})
    return {name: str(value) for name, value in query.items() if value}
