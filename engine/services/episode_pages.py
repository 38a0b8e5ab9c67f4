"""What the episode pages show, read in one go: an episode with its work items (and where each copy
came from), notes, cases and documents; one work item with the form it was made on; the form of a
new work item with the subject's details filled in; a document filed on an episode.

The changes themselves are the use cases of :mod:`engine.services.episodes`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..access import Principal, may_open_episode, may_see_episode, require, require_role
from ..episodes.binding import bind, bindings_of
from ..episodes.lookup import subject_of, today_in, visible_episode
from ..episodes.views import (
    EpisodeView,
    LinkedDocument,
    NoteView,
    TemplateView,
    WorkItemView,
    episode_view,
)
from ..errors import EduCaseError
from ..forms import FormDefinition, definition_of, get_form_version
from ..models.access import Team
from ..models.documents import Document
from ..models.episodes import Episode, EpisodeDocument, EpisodeInstance, WorkItem
from . import audit, episode_templates, episodes
from .casefile import names_in
from .inbox import process_names

if TYPE_CHECKING:
    from ..context import Context


@dataclass(frozen=True)
class Provenance:
    """Where a copied work item came from. The source's titles are None when its episode is not one
    the reader may see (the copy is theirs to read; its source is not)."""

    source_work_item_id: int
    source_title: str | None
    source_episode_id: int | None
    source_episode_title: str | None
    copied_by: str
    copied_at: datetime


@dataclass(frozen=True)
class ItemSummary:
    item: WorkItemView
    form_title: str
    provenance: Provenance | None


@dataclass(frozen=True)
class CaseLink:
    instance_id: int
    process_name: str
    state: str
    started_at: datetime
    linked_by: str
    linked_at: datetime


@dataclass(frozen=True)
class EpisodePage:
    episode: EpisodeView
    items: list[ItemSummary]
    notes: list[NoteView]
    cases: list[CaseLink]
    documents: list[LinkedDocument]
    forms: list[tuple[str, str]]  # (ref, title) of the forms its template offers for new work items
    documents_to_file: list[tuple[int, str]]  # documents of its cases not filed on it yet
    people: dict[str, str] = field(default_factory=dict)

    def name_of(self, username: str | None) -> str:
        return self.people.get(username, username) if username else ""


@dataclass(frozen=True)
class ItemPage:
    episode: EpisodeView
    item: WorkItemView
    form: FormDefinition  # the version it was made on
    provenance: Provenance | None
    people: dict[str, str] = field(default_factory=dict)

    def name_of(self, username: str | None) -> str:
        return self.people.get(username, username) if username else ""


@dataclass(frozen=True)
class TemplateChoices:
    """What an administrator picks from when defining an episode template."""

    teams: list[tuple[str, str]]  # (slug, name)
    processes: list[tuple[str, str]]  # (process id, name) of the deployed processes
    forms: list[tuple[str, str]]  # (ref, title) of the forms in the library


@dataclass(frozen=True)
class NewItem:
    episode: EpisodeView
    form: FormDefinition
    data: dict[str, Any]  # the fields bound to the subject, filled in


def episode_page(ctx: Context, principal: Principal, episode_id: int) -> EpisodePage:
    """An episode and everything it holds (the view is audited)."""
    detail = episodes.get_episode(ctx, principal, episode_id)
    with ctx.db.transaction() as session:
        sources = _sources(session, principal, [i for i in detail.work_items if i.copied_from_work_item_id])
        processes = dict(process_names(session))
        cases = [
            CaseLink(
                c.instance_id,
                processes.get(c.process_id, c.process_id),
                c.state,
                c.started_at,
                c.linked_by,
                c.linked_at,
            )
            for c in detail.instances
        ]
        shown = [
            detail.episode.owner,
            *(n.author for n in detail.notes),
            *(i.updated_by for i in detail.work_items),
        ]
        shown += [i.copied_by for i in detail.work_items if i.copied_by] + [c.linked_by for c in cases]
        return EpisodePage(
            episode=detail.episode,
            items=[
                ItemSummary(i, _form_title(ctx, i.form_ref), sources.get(i.id)) for i in detail.work_items
            ],
            notes=detail.notes,
            cases=cases,
            documents=detail.documents,
            forms=[(ref, _form_title(ctx, ref)) for ref in detail.default_form_refs],
            documents_to_file=_documents_to_file(session, episode_id),
            people=names_in(session, shown),
        )


def work_item_page(ctx: Context, principal: Principal, episode_id: int, work_item_id: int) -> ItemPage:
    """One work item of an episode, with the form version it was made on (the view is audited)."""
    item = episodes.get_work_item(ctx, principal, work_item_id)
    require(item.episode_id == episode_id, "work item")
    with ctx.db.transaction() as session:
        episode, template = visible_episode(session, principal, episode_id)
        form = definition_of(get_form_version(session, item.form_version_id))
        provenance = _sources(session, principal, [item]).get(item.id)
        shown = [item.created_by, item.updated_by, item.copied_by or ""]
        return ItemPage(
            episode_view(episode, template, subject_of(session, episode, today_in(ctx))),
            item,
            form,
            provenance,
            names_in(session, shown),
        )


def new_item(ctx: Context, principal: Principal, episode_id: int, form_ref: str) -> NewItem:
    """The form of a new work item on an open episode (one of its template's forms), with the fields
    bound to the subject filled in."""
    with ctx.db.transaction() as session:
        episode, template = visible_episode(session, principal, episode_id, for_change=True)
        require(form_ref in template.default_form_refs, "form")
        form = ctx.forms.get(form_ref)
        subject = subject_of(session, episode, today_in(ctx))
        data = bind({}, bindings_of(form.schema, form_ref), subject).data
        audit.record(session, principal, "view", "episode", episode_id, {"new_work_item": form_ref})
        return NewItem(episode_view(episode, template, subject), form, data)


def document(ctx: Context, principal: Principal, episode_id: int, document_id: int) -> tuple[str, str]:
    """The title and HTML of a document filed on an episode the person may see (the view is audited)."""
    with ctx.db.transaction() as session:
        visible_episode(session, principal, episode_id)
        row = session.execute(
            select(Document.title, Document.html)
            .join(EpisodeDocument, EpisodeDocument.document_id == Document.id)
            .where(EpisodeDocument.episode_id == episode_id, Document.id == document_id)
        ).first()
        require(row is not None, "document")
        assert row is not None
        audit.record(session, principal, "view", "document", document_id, {"episode_id": episode_id})
        return row.title, row.html


def templates_to_open(ctx: Context, principal: Principal) -> list[TemplateView]:
    """The kinds of episode this person may open: their teams' (managers: every team's), in use."""
    return [
        t for t in episode_templates.list_templates(ctx, principal) if may_open_episode(principal, t.team)
    ]


def template_choices(ctx: Context, principal: Principal) -> TemplateChoices:
    """The teams, deployed processes and library forms a template may name (administrators only)."""
    require_role(principal.is_admin, "define episode templates")
    with ctx.db.transaction() as session:
        teams = [
            (row[0], row[1]) for row in session.execute(select(Team.slug, Team.name).order_by(Team.name))
        ]
        processes = process_names(session)
    forms = [(ref, _form_title(ctx, ref)) for ref in ctx.forms.refs()]
    return TemplateChoices(teams, processes, sorted(forms, key=lambda form: form[1].lower()))


# --- helpers ------------------------------------------------------------------------------------------


def _sources(session: Session, principal: Principal, copies: list[WorkItemView]) -> dict[int, Provenance]:
    """Provenance of each copied work item, by its id."""
    ids = {i.copied_from_work_item_id for i in copies if i.copied_from_work_item_id}
    rows = session.execute(
        select(WorkItem.id, WorkItem.title, Episode.id, Episode.title, Episode.team, Episode.owner)
        .join(Episode, Episode.id == WorkItem.episode_id)
        .where(WorkItem.id.in_(ids))
    ).all()
    found = {row[0]: row for row in rows}
    people = names_in(session, [i.copied_by for i in copies if i.copied_by])
    provenance = {}
    for item in (i for i in copies if i.copied_from_work_item_id):
        row = found.get(item.copied_from_work_item_id or -1)
        visible = row is not None and may_see_episode(principal, team=row[4], owner=row[5])
        provenance[item.id] = Provenance(
            source_work_item_id=item.copied_from_work_item_id or 0,
            source_title=row[1] if visible and row else None,
            source_episode_id=row[2] if visible and row else None,
            source_episode_title=row[3] if visible and row else None,
            copied_by=people.get(item.copied_by or "", item.copied_by or ""),
            copied_at=item.copied_at or item.created_at,
        )
    return provenance


def _documents_to_file(session: Session, episode_id: int) -> list[tuple[int, str]]:
    """Documents issued by the episode's cases that are not filed on it yet."""
    filed = select(EpisodeDocument.document_id).where(EpisodeDocument.episode_id == episode_id)
    rows = session.execute(
        select(Document.id, Document.title)
        .join(EpisodeInstance, EpisodeInstance.instance_id == Document.instance_id)
        .where(EpisodeInstance.episode_id == episode_id, Document.id.not_in(filed))
        .order_by(Document.created_at, Document.id)
    )
    return [(row[0], row[1]) for row in rows]


def _form_title(ctx: Context, ref: str) -> str:
    try:
        return ctx.forms.get(ref).title
    except EduCaseError:  # a form since removed from the library: its file name says what it was
        return ref
