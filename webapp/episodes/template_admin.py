"""Administrators' pages for episode templates: the kinds of episode teams use.

GET /admin/episode-templates (the list), GET/POST /admin/episode-templates/new, and
GET/POST /admin/episode-templates/<slug> (change one; its slug and subject stay as they were).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.datastructures import MultiDict

from engine.errors import Conflict, InvalidInput
from engine.models.episodes import SubjectKind
from engine.services import episode_pages, episode_templates
from engine.services.episode_templates import ICONS

from ..security import current_principal, engine_context, restrict_area

bp = Blueprint("templates", __name__, url_prefix="/admin/episode-templates")
restrict_area(bp, "admin")

ICON_NAMES = {
    "person": "A person",
    "people": "People",
    "school": "A school",
    "calendar": "A calendar",
    "search": "A magnifying glass",
    "document": "A document",
    "chat": "A conversation",
    "clipboard": "A clipboard",
}
SUBJECT_NAMES = {
    SubjectKind.PUPIL: "A pupil",
    SubjectKind.ESTABLISHMENT: "A school or other establishment",
    SubjectKind.EITHER: "Either: each episode is about one pupil or one establishment",
}


@bp.get("")
def index() -> ResponseReturnValue:
    templates = episode_templates.list_templates(engine_context(), current_principal(), include_inactive=True)
    return render_template("episodes/templates.html", templates=templates, page_title="Episode templates")


@bp.route("/new", methods=["GET", "POST"])
def new() -> ResponseReturnValue:
    errors: dict[str, str] = {}
    if request.method == "POST":
        values = _values(request.form)
        try:
            made = episode_templates.create_template(
                engine_context(),
                current_principal(),
                slug=request.form.get("slug", "").strip(),
                subject_kind=request.form.get("subject_kind", ""),
                **values,
            )
        except (InvalidInput, Conflict) as refusal:
            errors[_field(refusal)] = refusal.message
        else:
            flash(f"The template '{made.name}' is ready to use.")
            return redirect(url_for("episodes.templates.index"), 303)
    return _form(None, errors), 422 if errors else 200


@bp.route("/<slug>", methods=["GET", "POST"])
def edit(slug: str) -> ResponseReturnValue:
    ctx, principal = engine_context(), current_principal()
    template = episode_templates.get_template(ctx, principal, slug)
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            changed = episode_templates.update_template(
                ctx, principal, slug, active=request.form.get("active") == "true", **_values(request.form)
            )
        except (InvalidInput, Conflict) as refusal:
            errors[_field(refusal)] = refusal.message
        else:
            flash(f"The template '{changed.name}' is saved.")
            return redirect(url_for("episodes.templates.index"), 303)
    return _form(template, errors), 422 if errors else 200


def _values(form: MultiDict[str, str]) -> dict[str, Any]:
    return {
        "name": form.get("name", "").strip()[:200],
        "description": form.get("description", "").strip()[:2000] or None,
        "team": form.get("team", "").strip()[:100],
        "icon": form.get("icon", ""),
        "default_form_refs": [ref for ref in form.getlist("default_form_refs") if ref][:50],
        "start_process_id": form.get("start_process_id", "").strip() or None,
    }


def _field(refusal: InvalidInput | Conflict) -> str:
    field = str(refusal.details.get("field") or "")
    known = {"slug", "name", "team", "icon", "subject_kind", "start_process_id", "description"}
    return field if field in known else "default_form_refs"


def _form(template: Any, errors: dict[str, str]) -> str:
    choices = episode_pages.template_choices(engine_context(), current_principal())
    posted = request.method == "POST"
    return render_template(
        "episodes/template_form.html",
        template=template,
        choices=choices,
        values=_values(request.form) if posted else None,
        posted=posted,
        errors=errors,
        error_list=[{"text": message, "href": f"#{name}"} for name, message in errors.items()],
        icons=[(icon, ICON_NAMES.get(icon, icon)) for icon in ICONS],
        subjects=list(SUBJECT_NAMES.items()),
        page_title=("Error: " if errors else "")
        + (f"Change the template {template.name}" if template else "New episode template"),
    )
