"""Work items: /episodes/<id>/items/new?form=<ref> (one of the template's forms, filled in with the
form renderer; saved as a draft or final), /episodes/<id>/items/<item> (its answers, where it was
copied from and what the copy left behind) and /episodes/<id>/items/<item>/edit.

Answers are never lost: a form with problems is shown again with what was typed; a work item a
colleague changed meanwhile is shown again with a banner, the answers typed kept.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from engine.errors import Conflict, FieldError, FormDataInvalid
from engine.forms import FormDefinition
from engine.services import episode_pages, episodes

from ..forms_render import ACTION_FIELD, ParsedForm, RenderedForm, check_submission, parse_form, render_form
from ..record_ids import number
from ..security import current_principal, engine_context
from ..tasks.answers import answer_rows
from . import bp

SAVE_DRAFT = "save_draft"
TITLE_FIELD = "work_item_title"
LOCK_FIELD = "lock_version"


@bp.route("/episodes/<int:episode_id>/items/new", methods=["GET", "POST"])
def new_item(episode_id: int) -> ResponseReturnValue:
    ref = request.args.get("form", "")
    new = episode_pages.new_item(engine_context(), current_principal(), episode_id, ref)
    if request.method == "GET":
        return _form_page(new.episode, new.form, render_form(new.form.schema, new.form.ui_schema, new.data))
    parsed = parse_form(new.form.schema, new.form.ui_schema, request.form, current=new.data)
    problems = _problems(new.form, parsed)
    if problems is not None:
        return _form_page(new.episode, new.form, _again(new.form, parsed, problems)), 422 if problems else 200
    draft = request.form.get(ACTION_FIELD) == SAVE_DRAFT
    try:
        item = episodes.add_work_item(
            engine_context(), current_principal(), episode_id, ref, parsed.data, title=_title(), draft=draft
        )
    except FormDataInvalid as invalid:
        return _form_page(new.episode, new.form, _again(new.form, parsed, invalid.errors)), 422
    flash(f"'{item.title}' is saved" + (" as a draft." if draft else "."))
    return redirect(url_for("episodes.item", episode_id=episode_id, item_id=item.id), 303)


@bp.get("/episodes/<int:episode_id>/items/<int:item_id>")
def item(episode_id: int, item_id: int) -> ResponseReturnValue:
    page = episode_pages.work_item_page(engine_context(), current_principal(), episode_id, item_id)
    return render_template(
        "episodes/item.html",
        page=page,
        episode=page.episode,
        item=page.item,
        rows=answer_rows(page.form, page.item.data),
        page_title=page.item.title,
    )


@bp.route("/episodes/<int:episode_id>/items/<int:item_id>/edit", methods=["GET", "POST"])
def edit_item(episode_id: int, item_id: int) -> ResponseReturnValue:
    page = episode_pages.work_item_page(engine_context(), current_principal(), episode_id, item_id)
    form, data = page.form, page.item.data
    if request.method == "GET":
        return _form_page(page.episode, form, render_form(form.schema, form.ui_schema, data), page=page)
    parsed = parse_form(form.schema, form.ui_schema, request.form, current=data)
    problems = _problems(form, parsed)
    if problems is not None:
        return _form_page(
            page.episode, form, _again(form, parsed, problems), page=page
        ), 422 if problems else 200
    draft = request.form.get(ACTION_FIELD) == SAVE_DRAFT
    try:
        episodes.update_work_item(
            engine_context(),
            current_principal(),
            item_id,
            parsed.data,
            title=_title(),
            draft=draft,
            lock_version=number(request.form.get(LOCK_FIELD)) or 0,
        )
    except FormDataInvalid as invalid:
        return _form_page(page.episode, form, _again(form, parsed, invalid.errors), page=page), 422
    except Conflict as refusal:  # a colleague saved first, or the episode was closed
        return _form_page(
            page.episode, form, _again(form, parsed, []), page=page, problem=refusal.message
        ), 409
    flash(f"'{_title() or page.item.title}' is saved" + (" as a draft." if draft else "."))
    return redirect(url_for("episodes.item", episode_id=episode_id, item_id=item_id), 303)


# --- helpers ------------------------------------------------------------------------------------------


def _problems(form: FormDefinition, parsed: ParsedForm) -> list[FieldError] | None:
    """None when the answers can be saved; otherwise what to show again: "Add another" / "Remove"
    (no problems), answers that could not be read, or (for a final item) what the form refuses."""
    if parsed.action:
        return []
    if request.form.get(ACTION_FIELD) == SAVE_DRAFT:
        return parsed.errors or None
    return check_submission(form.schema, parsed, form_ref=form.ref) or None


def _again(form: FormDefinition, parsed: ParsedForm, errors: list[FieldError]) -> RenderedForm:
    return render_form(form.schema, form.ui_schema, errors=errors, parsed=parsed)


def _title() -> str | None:
    return request.form.get(TITLE_FIELD, "").strip()[:300] or None


def _form_page(
    episode: Any,
    form: FormDefinition,
    rendered: RenderedForm,
    *,
    page: Any = None,
    problem: str | None = None,
) -> str:
    title = page.item.title if page else form.title
    return render_template(
        "episodes/item_form.html",
        episode=episode,
        form=form,
        rendered=rendered,
        page=page,
        item_title=request.form.get(TITLE_FIELD, title if page else ""),
        problem=problem,
        title_field=TITLE_FIELD,
        lock_field=LOCK_FIELD,
        page_title=("Error: " if rendered.has_errors else "") + title,
    )
