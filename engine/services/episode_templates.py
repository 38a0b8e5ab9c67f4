"""Episode templates: the kinds of episode a team uses, defined by an administrator.

A template names its team, an icon, what its episodes are about (a pupil, an establishment or
either), the forms it offers for new work items and, optionally, the process started when an episode
is opened. The defaults shipped in ``engine/episodes/default_templates.json`` are loaded idempotently:
a template that already exists (perhaps changed by an administrator) is left as it is.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import clock
from ..access import SYSTEM, Principal, require_role
from ..episodes import DEFAULT_TEMPLATES
from ..episodes.binding import bindings_of
from ..episodes.views import TemplateView, template_view
from ..errors import Conflict, EduCaseError, InvalidInput, NotFound
from ..models.episodes import EpisodeTemplate, SubjectKind
from . import audit

if TYPE_CHECKING:
    from ..context import Context

SLUG = re.compile(r"[a-z][a-z0-9-]{0,99}")
PROCESS_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,199}")
#: Icons a template may use: names the web pages map to their own (GOV.UK-styled) pictures.
ICONS = ("person", "people", "school", "calendar", "search", "document", "chat", "clipboard")
#: What an administrator may change on an existing template (its slug and subject kind stay).
CHANGEABLE = ("name", "description", "team", "icon", "default_form_refs", "start_process_id", "active")


def create_template(
    ctx: Context,
    principal: Principal,
    *,
    slug: str,
    name: str,
    team: str,
    icon: str,
    subject_kind: str,
    default_form_refs: Iterable[str] = (),
    start_process_id: str | None = None,
    description: str | None = None,
) -> TemplateView:
    """Define a kind of episode (administrators only)."""
    require_role(principal.is_admin, "define episode templates")
    values = _checked(
        ctx,
        dict(
            name=name,
            team=team,
            icon=icon,
            default_form_refs=list(default_form_refs),
            start_process_id=start_process_id,
            description=description,
        ),
    )
    if not SLUG.fullmatch(slug or ""):
        raise InvalidInput(
            "A template's slug is lower-case letters, digits and hyphens, like 'ep-involvement'.",
            field="slug",
        )
    if subject_kind not in SubjectKind.ALL:
        raise InvalidInput(
            f"subject_kind must be one of: {', '.join(SubjectKind.ALL)}.", field="subject_kind"
        )
    with ctx.db.transaction() as session:
        if session.scalar(select(EpisodeTemplate.id).where(EpisodeTemplate.slug == slug)) is not None:
            raise Conflict(f"There is already an episode template '{slug}'.", field="slug")
        row = _insert(session, slug=slug, subject_kind=subject_kind, **values)
        audit.record(session, principal, "create", "episode_template", slug, {"team": team})
        return template_view(row)


def update_template(ctx: Context, principal: Principal, slug: str, **changes: Any) -> TemplateView:
    """Change a template (administrators only); episodes already opened keep their team and title."""
    require_role(principal.is_admin, "change episode templates")
    unknown = sorted(set(changes) - set(CHANGEABLE))
    if unknown:
        raise InvalidInput(f"These cannot be changed on a template: {', '.join(unknown)}.")
    with ctx.db.transaction() as session:
        row = _template(session, slug)
        current = {key: getattr(row, key) for key in CHANGEABLE}
        values = _checked(ctx, {**current, **changes})
        for key, value in values.items():
            setattr(row, key, value)
        row.updated_at = clock.now()
        audit.record(session, principal, "update", "episode_template", slug, {"changed": sorted(changes)})
        return template_view(row)


def list_templates(
    ctx: Context,
    principal: Principal,
    *,
    team: str | None = None,
    subject_kind: str | None = None,
    include_inactive: bool = False,
) -> list[TemplateView]:
    """Templates by name; ``subject_kind`` 'pupil' also lists those for either. None for school users."""
    if principal.is_school:
        return []
    query = select(EpisodeTemplate).order_by(EpisodeTemplate.name)
    if team is not None:
        query = query.where(EpisodeTemplate.team == team)
    if subject_kind is not None:
        query = query.where(EpisodeTemplate.subject_kind.in_((subject_kind, SubjectKind.EITHER)))
    if not include_inactive:
        query = query.where(EpisodeTemplate.active.is_(True))
    with ctx.db.transaction() as session:
        return [template_view(row) for row in session.scalars(query)]


def get_template(ctx: Context, principal: Principal, slug: str) -> TemplateView:
    if principal.is_school:
        raise NotFound("There is no such episode template.")
    with ctx.db.transaction() as session:
        return template_view(_template(session, slug))


def load_default_templates(
    ctx: Context, principal: Principal = SYSTEM, path: Path = DEFAULT_TEMPLATES
) -> list[str]:
    """Create the templates in ``path`` that do not exist yet; returns the slugs created."""
    entries = json.loads(path.read_text(encoding="utf-8"))
    with ctx.db.transaction() as session:
        existing = set(session.scalars(select(EpisodeTemplate.slug)))
    created = []
    for entry in entries:
        if entry["slug"] in existing:
            continue
        try:
            create_template(ctx, principal, **entry)
        except Conflict:  # loaded by someone else meanwhile: that is what we wanted
            continue
        except EduCaseError as error:
            raise InvalidInput(f"{path.name}, template '{entry['slug']}': {error.message}")
        created.append(entry["slug"])
    return created


# --- helpers ------------------------------------------------------------------------------------------


def _template(session: Session, slug: str) -> EpisodeTemplate:
    row = session.scalar(select(EpisodeTemplate).where(EpisodeTemplate.slug == slug))
    if row is None:
        raise NotFound(f"There is no episode template '{slug}'.")
    return row


def _insert(session: Session, **values: Any) -> EpisodeTemplate:
    now = clock.now()
    row = EpisodeTemplate(active=True, created_at=now, updated_at=now, **values)
    session.add(row)
    session.flush()
    return row


def _checked(ctx: Context, values: dict[str, Any]) -> dict[str, Any]:
    """The values of a template, checked: a name, a team, a known icon, forms that load, a process id."""
    if not str(values.get("name") or "").strip():
        raise InvalidInput("Give the template a name, like 'EP involvement'.", field="name")
    if not str(values.get("team") or "").strip():
        raise InvalidInput("Say which team uses the template, like 'ep'.", field="team")
    if values.get("icon") not in ICONS:
        raise InvalidInput(f"The icon must be one of: {', '.join(ICONS)}.", field="icon")
    for ref in values.get("default_form_refs") or []:
        form = ctx.forms.get(ref)  # NotFound / FormSchemaError say which file and why
        bindings_of(form.schema, ref)
    process = values.get("start_process_id")
    if process is not None and not PROCESS_ID.fullmatch(process):
        raise InvalidInput(f"'{process}' is not a process id, like 'cme_enquiry'.", field="start_process_id")
    return {**values, "name": values["name"].strip(), "default_form_refs": list(values["default_form_refs"])}
