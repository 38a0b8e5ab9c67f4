"""GET /portal (the school's cases and its tasks), /portal/pupils (its roll) and /portal/cases/<id>
(where one of its cases stands)."""

from __future__ import annotations

from flask import render_template, request
from flask.typing import ResponseReturnValue

from engine.services import portal_status, school_returns, school_roll

from ..record_ids import whole
from ..security import current_principal, engine_context
from . import bp

STATUS_TEXT = {
    portal_status.WAITING_FOR_SCHOOL: ("Waiting for your school", "govuk-tag--orange"),
    portal_status.WITH_LA: ("With the local authority", "govuk-tag--blue"),
    portal_status.WAITING: ("Waiting for a date or a reply", "govuk-tag--light-blue"),
    portal_status.ON_HOLD: ("On hold", "govuk-tag--yellow"),
    portal_status.CLOSED: ("Closed", "govuk-tag--grey"),
    portal_status.CANCELLED: ("Cancelled", "govuk-tag--grey"),
}


@bp.get("")
def home() -> ResponseReturnValue:
    ctx, principal = engine_context(), current_principal()
    page = portal_status.home(ctx, principal, page=whole(request.args.get("page")) or 1)
    return render_template(
        "portal/home.html",
        page=page,
        returns=school_returns.deletion_returns(ctx, principal),
        uploads=school_returns.recent_uploads(ctx, principal),
        status_text=STATUS_TEXT,
        page_title=page.school.name,
    )


@bp.get("/pupils")
def pupils() -> ResponseReturnValue:
    found = school_roll.roll(
        engine_context(),
        current_principal(),
        search=request.args.get("q", "").strip()[:100],
        page=whole(request.args.get("page")) or 1,
    )
    return render_template("portal/pupils.html", found=found, page_title="Your pupils")


@bp.get("/cases/<int:instance_id>")
def case(instance_id: int) -> ResponseReturnValue:
    status = portal_status.case_status(engine_context(), current_principal(), instance_id)
    return render_template(
        "portal/case.html",
        status=status,
        case=status.summary,
        status_text=STATUS_TEXT,
        page_title=f"Case {status.summary.business_key or status.summary.instance_id}",
    )
