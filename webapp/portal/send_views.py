"""What a school sends about one of its pupils, each a GET/POST page:

* /portal/referrals/new      refer a pupil for absence (starts absence_referral)
* /portal/exclusions/new     notify a suspension or permanent exclusion (starts exclusion_review)
* /portal/deletions/new      send a deletion return (may start cme_enquiry)
* /portal/ap-requests/new    request an alternative provision placement (starts ap_placement)

Without ``?pupil=<id>`` the page asks which pupil (from the school's roll). The form is the process's
own, rendered by webapp.forms_render; the pupil's and the school's details come from the LA's records
and cannot be changed. Answers are never lost: a form with problems is shown again as it was typed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from engine.errors import FieldError, FormDataInvalid, InvalidInput
from engine.services import portal, school_returns, school_roll
from engine.services.portal import ActionForm

from ..forms_render import ParsedForm, check_submission, parse_form, render_form
from ..record_ids import number, whole
from ..security import audit_view, current_principal, engine_context
from . import bp


@dataclass(frozen=True)
class ActionPage:
    key: str
    path: str
    endpoint: str
    heading: str  # the page that asks which pupil
    button: str
    done: str  # the banner afterwards ({name}: the pupil's name)


PAGES = [
    ActionPage(
        "referral",
        "/referrals/new",
        "referral_new",
        "Refer a pupil for absence",
        "Send the referral",
        "Your referral for {name} has been sent to the attendance team.",
    ),
    ActionPage(
        "exclusion",
        "/exclusions/new",
        "exclusion_new",
        "Notify a suspension or permanent exclusion",
        "Send the notification",
        "Your notification about {name} has been sent to the inclusion team.",
    ),
    ActionPage(
        "deletion",
        "/deletions/new",
        "deletion_new",
        "Send a deletion return",
        "Send the deletion return",
        "Your deletion return for {name} has been sent.",
    ),
    ActionPage(
        "ap_request",
        "/ap-requests/new",
        "ap_request_new",
        "Request an alternative provision placement",
        "Send the request",
        "Your request for an alternative provision placement for {name} has been sent.",
    ),
]


def _view(page: ActionPage) -> Callable[[], ResponseReturnValue]:
    def view() -> ResponseReturnValue:
        pupil_id = number(request.args.get("pupil"))
        if pupil_id is None:
            return _choose_pupil(page)
        shown = portal.action_form(engine_context(), current_principal(), page.key, pupil_id)
        if request.method == "GET":
            audit_view("pupil", pupil_id, {"portal_form": page.key})
            return _form_page(page, shown, render_form(shown.form.schema, shown.form.ui_schema, shown.data))
        parsed = parse_form(shown.form.schema, shown.form.ui_schema, request.form, current=shown.data)
        if parsed.action:  # Add another / Remove
            return _form_page(
                page, shown, render_form(shown.form.schema, shown.form.ui_schema, parsed=parsed)
            )
        parsed = replace(parsed, data=portal.answers_of(page.key, parsed.data))
        errors = check_submission(shown.form.schema, parsed, form_ref=shown.form.ref)
        if errors:
            return _again(page, shown, parsed, errors)
        return _send(page, shown, parsed)

    view.__name__ = page.endpoint
    return view


for _page in PAGES:
    bp.add_url_rule(_page.path, _page.endpoint, _view(_page), methods=["GET", "POST"])


def _send(page: ActionPage, shown: ActionForm, parsed: ParsedForm) -> ResponseReturnValue:
    ctx, principal = engine_context(), current_principal()
    try:
        if page.key == "deletion":
            sent = school_returns.send_deletion_return(ctx, principal, shown.pupil.id, parsed.data)
            instance_id, next_task = sent.instance_id, None
        else:
            started = portal.send(ctx, principal, page.key, shown.pupil.id, parsed.data)
            instance_id, next_task = started.instance_id, started.next_task_id
    except FormDataInvalid as invalid:
        return _again(page, shown, parsed, invalid.errors)
    except InvalidInput as refusal:
        return _again(
            page, shown, parsed, [FieldError(str(refusal.details.get("field") or ""), refusal.message)]
        )
    flash(page.done.format(name=shown.pupil.name))
    if next_task:
        return redirect(url_for("tasks.task", task_id=next_task), 303)
    if instance_id:
        return redirect(url_for("portal.case", instance_id=instance_id), 303)
    return redirect(url_for("portal.home"), 303)


def _again(
    page: ActionPage, shown: ActionForm, parsed: ParsedForm, errors: list[FieldError]
) -> ResponseReturnValue:
    rendered = render_form(shown.form.schema, shown.form.ui_schema, errors=errors, parsed=parsed)
    return _form_page(page, shown, rendered), 422


def _form_page(page: ActionPage, shown: ActionForm, rendered: object) -> str:
    return render_template(
        "portal/action_form.html",
        page=page,
        shown=shown,
        rendered=rendered,
        page_title=("Error: " if getattr(rendered, "has_errors", False) else "") + page.heading,
    )


def _choose_pupil(page: ActionPage) -> str:
    found = school_roll.roll(
        engine_context(),
        current_principal(),
        search=request.args.get("q", "").strip()[:100],
        page=whole(request.args.get("page")) or 1,
    )
    return render_template("portal/choose_pupil.html", page=page, found=found, page_title=page.heading)
