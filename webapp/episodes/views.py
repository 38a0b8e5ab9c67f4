"""GET /episodes (mine, my teams', all: filters and pages), opening an episode (/episodes/new: the
kind, then whom it is about), an episode's page, and the changes made from it: close, reopen, a note,
a case or a document filed on it; and a filed document as a printable page."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.datastructures import MultiDict

from engine.errors import Conflict, InvalidInput, NotFound
from engine.models.episodes import EpisodeState, SubjectKind
from engine.services import episode_pages, episode_search, episode_templates, episodes
from engine.services.episode_search import EpisodeFilters, Scope

from ..record_ids import number, whole
from ..security import current_principal, engine_context
from . import bp

#: The policy a filed document is shown with: its own inline styles, nothing that runs or loads.
DOCUMENT_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'; sandbox"
)


@bp.get("/episodes")
def index() -> ResponseReturnValue:
    filters = read_filters(request.args)
    found = episode_search.find_episodes(engine_context(), current_principal(), filters)
    partial = request.headers.get("HX-Request") and not request.headers.get("HX-Boosted")
    return render_template(
        "episodes/_results.html" if partial else "episodes/index.html",
        found=found,
        query=_query(filters),
        page_title="Episodes",
    )


@bp.get("/episodes/new")
def new() -> ResponseReturnValue:
    ctx, principal = engine_context(), current_principal()
    templates = episode_pages.templates_to_open(ctx, principal)
    chosen = request.args.get("template", "")
    error = None
    if chosen:
        if chosen in {t.slug for t in templates}:
            return redirect(url_for("episodes.subject", slug=chosen, **_subject_args()), 303)
        error = "Choose the kind of episode"
    elif "template" in request.args:
        error = "Choose the kind of episode"
    return render_template(
        "episodes/new.html",
        templates=templates,
        error=error,
        keep=_subject_args(),
        page_title=("Error: " if error else "") + "Open an episode",
    ), 400 if error else 200


@bp.route("/episodes/new/<slug>", methods=["GET", "POST"])
def subject(slug: str) -> ResponseReturnValue:
    ctx, principal = engine_context(), current_principal()
    template = episode_templates.get_template(ctx, principal, slug)
    errors: dict[str, str] = {}
    if request.method == "POST":
        opened = _open(template.slug, request.form, errors)
        if opened is not None:
            flash(f"Episode '{opened.title}' is open.")
            return redirect(url_for("episodes.episode", episode_id=opened.id), 303)
    text = request.values.get("q", "").strip()[:100]
    choices = episode_search.find_subjects(ctx, principal, template.subject_kind, text) if text else []
    return render_template(
        "episodes/subject.html",
        template=template,
        text=text,
        choices=choices,
        chosen=request.values.get("subject", _given_subject()),
        title=request.form.get("title", ""),
        errors=errors,
        page_title=("Error: " if errors else "") + f"Open an episode: {template.name}",
    ), 422 if errors else 200


@bp.get("/episodes/<int:episode_id>")
def episode(episode_id: int) -> ResponseReturnValue:
    return _page(episode_id)


@bp.post("/episodes/<int:episode_id>/close")
def close(episode_id: int) -> ResponseReturnValue:
    reason = request.form.get("reason", "").strip()[:2000]
    closed_on, problem = _date(request.form, "closed_on")
    if problem:
        return _page(episode_id, {"closed_on-day": problem}), 422
    return _change(
        episode_id,
        lambda: episodes.close_episode(
            engine_context(), current_principal(), episode_id, closed_on=closed_on, reason=reason
        ),
        "The episode is closed. Reopen it to change it again.",
        "closed_on-day",
    )


@bp.post("/episodes/<int:episode_id>/reopen")
def reopen(episode_id: int) -> ResponseReturnValue:
    return _change(
        episode_id,
        lambda: episodes.reopen_episode(engine_context(), current_principal(), episode_id),
        "The episode is open again.",
    )


@bp.post("/episodes/<int:episode_id>/notes")
def add_note(episode_id: int) -> ResponseReturnValue:
    text = request.form.get("text", "")
    return _change(
        episode_id,
        lambda: episodes.add_note(engine_context(), current_principal(), episode_id, text),
        "Your note has been added.",
        "text",
    )


@bp.post("/episodes/<int:episode_id>/cases")
def link_case(episode_id: int) -> ResponseReturnValue:
    instance_id = number(request.form.get("instance_id"))
    if instance_id is None:
        return _page(episode_id, {"instance_id": "Enter the case number, like 1042"}), 422
    return _change(
        episode_id,
        lambda: episodes.link_instance(engine_context(), current_principal(), episode_id, instance_id),
        f"Case {instance_id} is filed on this episode.",
        "instance_id",
    )


@bp.post("/episodes/<int:episode_id>/documents")
def link_document(episode_id: int) -> ResponseReturnValue:
    document_id = number(request.form.get("document_id"))
    if document_id is None:
        return _page(episode_id, {"document_id": "Choose a document to file"}), 422
    return _change(
        episode_id,
        lambda: episodes.link_document(engine_context(), current_principal(), episode_id, document_id),
        "The document is filed on this episode.",
        "document_id",
    )


@bp.get("/episodes/<int:episode_id>/documents/<int:document_id>")
def document(episode_id: int, document_id: int) -> ResponseReturnValue:
    _title, html = episode_pages.document(engine_context(), current_principal(), episode_id, document_id)
    response = Response(html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = DOCUMENT_POLICY
    return response


# --- helpers ------------------------------------------------------------------------------------------


def _page(episode_id: int, errors: dict[str, str] | None = None) -> str:
    page = episode_pages.episode_page(engine_context(), current_principal(), episode_id)
    errors = errors or {}
    return render_template(
        "episodes/episode.html",
        page=page,
        episode=page.episode,
        errors=errors,
        error_list=[{"text": message, "href": f"#{name}"} for name, message in errors.items()],
        page_title=("Error: " if errors else "") + page.episode.title,
    )


def _change(
    episode_id: int, change: Any, done_text: str, anchor: str = "main-content"
) -> ResponseReturnValue:
    """Make a change from the episode page: back to it with a banner, or with the problem by the
    field whose id is ``anchor``."""
    try:
        change()
    except InvalidInput as refusal:
        return _page(episode_id, {anchor: refusal.message}), 422
    except NotFound:  # the case or document asked for; the episode itself is checked again by _page
        return _page(episode_id, {anchor: "There is no such record that you can see: check the number"}), 422
    except Conflict as refusal:
        flash(refusal.message, "problem")
        return redirect(url_for("episodes.episode", episode_id=episode_id), 303)
    flash(done_text)  # the episode services audit each change with the change itself
    return redirect(url_for("episodes.episode", episode_id=episode_id), 303)


def _open(slug: str, form: MultiDict[str, str], errors: dict[str, str]) -> Any:
    kind, _, raw_id = form.get("subject", "").partition(":")
    subject_id = number(raw_id)
    if kind not in (SubjectKind.PUPIL, SubjectKind.ESTABLISHMENT) or subject_id is None:
        errors["subject"] = "Choose whom the episode is about"
        return None
    title = form.get("title", "").strip()
    try:
        return episodes.open_episode(
            engine_context(),
            current_principal(),
            slug,
            pupil_id=subject_id if kind == SubjectKind.PUPIL else None,
            establishment_id=subject_id if kind == SubjectKind.ESTABLISHMENT else None,
            title=title or None,
        )
    except InvalidInput as refusal:
        errors["title" if refusal.details.get("field") == "title" else "subject"] = refusal.message
        return None
    except NotFound:  # the pupil or establishment chosen has gone meanwhile
        errors["subject"] = "Choose whom the episode is about"
        return None


def _subject_args() -> dict[str, str]:
    return {k: v for k in ("pupil", "establishment") if (v := request.args.get(k, "")).isdigit()}


def _given_subject() -> str:
    """``pupil:12`` when the page was opened for a pupil (from their record), and so on."""
    for kind in ("pupil", "establishment"):
        if request.args.get(kind, "").isdigit():
            return f"{kind}:{request.args[kind]}"
    return ""


def _date(form: MultiDict[str, str], name: str) -> tuple[date | None, str | None]:
    parts = [form.get(f"{name}-{part}", "").strip() for part in ("day", "month", "year")]
    if not any(parts):
        return None, None
    try:
        day, month, year = (int(p) for p in parts)
        return date(year, month, day), None
    except ValueError:
        return None, "The date must be a real date, like 27 3 2026"


def read_filters(args: MultiDict[str, str]) -> EpisodeFilters:
    scope = args.get("scope", Scope.MINE.value)
    state = args.get("state", EpisodeState.OPEN)
    return EpisodeFilters(
        scope=Scope(scope) if scope in set(Scope) else Scope.MINE,
        state=state if state in (EpisodeState.OPEN, EpisodeState.CLOSED, "any") else EpisodeState.OPEN,
        template=args.get("template", "").strip()[:100],
        text=args.get("q", "").strip()[:100],
        page=whole(args.get("page")) or 1,
    )


def _query(filters: EpisodeFilters) -> dict[str, str]:
    query = {
        "scope": filters.scope.value,
        "state": filters.state,
        "template": filters.template,
        "q": filters.text,
    }
    return {name: value for name, value in query.items() if value}
