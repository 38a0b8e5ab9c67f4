"""GET /alerts (a tab per team, filters by rule, establishment and state; htmx refreshes only the
results), GET /alerts/<id>, POST /alerts/<id>/{acknowledge,action,close} (actioning and closing need a
reason) and POST /alerts/<id>/start-case."""

from __future__ import annotations

import re

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.datastructures import MultiDict

from engine.attendance.pupil_views import KEY
from engine.errors import Conflict, EduCaseError, InvalidInput, NotFound
from engine.models.alerts import AlertState
from engine.services import alert_inbox, alert_pages
from engine.services.alert_pages import STATE_FILTERS, AlertFilters

from ..security import audit_event, audit_view, current_principal, engine_context
from . import bp
from .facts import fact_rows, marks_of

LAESTAB = re.compile(r"\d{7}")
MAX_REASON = 2000
#: The URL's verb, the state it moves to, the sentence said when it is done.
MOVES = {
    "acknowledge": (AlertState.ACKNOWLEDGED, "The alert is acknowledged."),
    "action": (AlertState.ACTIONED, "The alert is marked as actioned."),
    "close": (AlertState.CLOSED, "The alert is closed."),
}


@bp.get("/alerts")
def inbox() -> ResponseReturnValue:
    filters, errors = read_filters(request.args)
    page = alert_pages.alert_inbox(engine_context(), current_principal(), filters)
    audit_view(
        "alert_list",
        page.filters.team or "all",
        {"filters": _query(page.filters), "alerts": len(page.alerts)},
    )
    partial = request.headers.get("HX-Request") and not request.headers.get("HX-Boosted")
    return render_template(
        "alerts/_results.html" if partial else "alerts/inbox.html",
        page=page,
        errors=errors,
        error_list=[{"text": message, "href": f"#{name}"} for name, message in errors.items()],
        query=_query(page.filters),
        states=STATE_FILTERS,
        fact_rows=fact_rows,
        marks_of=marks_of,
        page_title=("Error: " if errors else "") + "Alerts",
    )


@bp.get("/alerts/<int:alert_id>")
def alert(alert_id: int) -> ResponseReturnValue:
    return _page(alert_id)


@bp.post("/alerts/<int:alert_id>/<any(acknowledge, action, close):verb>")
def move(alert_id: int, verb: str) -> ResponseReturnValue:
    to_state, done = MOVES[verb]
    reason = request.form.get("reason", "").strip()
    if len(reason) > MAX_REASON:
        return _page(alert_id, {f"{verb}-reason": f"The reason must be {MAX_REASON:,} characters or fewer"})
    principal = current_principal()
    try:
        alert_inbox.change_state(
            engine_context(), alert_id, to_state, actor=principal.username, reason=reason, principal=principal
        )
    except InvalidInput as refusal:  # actioning or closing without a reason
        return _page(
            alert_id,
            {
                f"{verb}-reason": _reason_message(to_state)
                if refusal.details.get("field") == "reason"
                else refusal.message
            },
        )
    except Conflict as refusal:  # someone else moved it first
        flash(refusal.message, "problem")
        return redirect(url_for("alerts.alert", alert_id=alert_id), 303)
    audit_event(verb, "alert", alert_id, {"to": to_state})
    flash(done)
    return redirect(url_for("alerts.alert", alert_id=alert_id), 303)


@bp.post("/alerts/<int:alert_id>/start-case")
def start_case(alert_id: int) -> ResponseReturnValue:
    process = request.form.get("process", "").strip()[:200]
    try:
        instance_id = alert_pages.start_case(engine_context(), current_principal(), alert_id, process)
    except Conflict as refusal:
        flash(refusal.message, "problem")
        return redirect(url_for("alerts.alert", alert_id=alert_id), 303)
    except NotFound:
        raise
    except EduCaseError as refusal:  # no process chosen; the process refused its start data...
        message = (
            refusal.message
            if refusal.details.get("field") == "process"
            else f"The case could not be started: {refusal.message}"
        )
        return _page(alert_id, {"process": message})
    flash(f"Case {instance_id} is started. Its open tasks are listed below.")
    return redirect(url_for("alerts.alert", alert_id=alert_id), 303)


def _page(alert_id: int, errors: dict[str, str] | None = None) -> ResponseReturnValue:
    """The alert's page (with the problems by their fields, and a 422, after a refused form)."""
    errors = errors or {}
    page = alert_pages.alert_page(engine_context(), current_principal(), alert_id)
    audit_view("alert", alert_id)
    html = render_template(
        "alerts/alert.html",
        page=page,
        alert=page.alert,
        rows=fact_rows(page.alert["facts"]),
        marks=marks_of(page.alert["facts"]),
        key=KEY,
        errors=errors,
        error_list=[{"text": message, "href": f"#{name}"} for name, message in errors.items()],
        page_title=("Error: " if errors else "") + f"Alert {alert_id}: {page.alert['rule_name']}",
    )
    return (html, 422) if errors else html


def _reason_message(to_state: str) -> str:
    if to_state == AlertState.CLOSED:
        return "Enter why you are closing the alert"
    return "Enter what was done about the alert"


# --- reading the filters ------------------------------------------------------------------------------


def read_filters(args: MultiDict[str, str]) -> tuple[AlertFilters, dict[str, str]]:
    errors: dict[str, str] = {}
    school = args.get("school", "").strip()
    if school and not LAESTAB.fullmatch(school):
        errors["school"] = "Choose a school from the list"
        school = ""
    state = args.get("state", "active")
    page = args.get("page", "1")
    filters = AlertFilters(
        team=args.get("team", "").strip()[:100],
        rule_id=args.get("rule", "").strip()[:100],
        laestab=school,
        state=state if state in STATE_FILTERS else "active",
        page=int(page) if page.isdigit() and len(page) < 7 else 1,
    )
    return filters, errors


def _query(filters: AlertFilters) -> dict[str, str]:
    """The filters given, as query-string parameters (for tab links and pages)."""
    query = {
        "rule": filters.rule_id,
        "school": filters.laestab,
        "state": filters.state if filters.state != "active" else "",
    }
    return {name: value for name, value in query.items() if value}
