"""What the episode services give back: plain, frozen records (never ORM rows), for pages and the API."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from engine.errors import FieldError
from engine.models.episodes import Episode, EpisodeNote, EpisodeTemplate, WorkItem

from .binding import Subject
from .copying import DroppedField


@dataclass(frozen=True)
class TemplateView:
    id: int
    slug: str
    name: str
    description: str | None
    team: str
    icon: str
    subject_kind: str  # pupil / establishment / either
    default_form_refs: list[str]
    start_process_id: str | None
    active: bool


@dataclass(frozen=True)
class EpisodeView:
    id: int
    title: str
    template_slug: str
    template_name: str
    icon: str
    subject_kind: str  # pupil / establishment
    pupil_id: int | None
    establishment_id: int | None
    subject_label: str  # the pupil's or the establishment's name
    subject_reference: str | None  # UPN or LAESTAB
    owner: str
    team: str
    state: str  # open / closed
    opened_on: date
    closed_on: date | None
    closing_reason: str | None


@dataclass(frozen=True)
class WorkItemView:
    id: int
    episode_id: int
    form_ref: str
    form_version_id: int
    form_version: int
    title: str
    data: dict[str, Any]
    draft: bool
    created_by: str
    created_at: datetime
    updated_by: str
    updated_at: datetime
    copied_from_work_item_id: int | None
    copied_by: str | None
    copied_at: datetime | None
    dropped_fields: list[dict[str, str]]
    lock_version: int  # give it back to update_work_item to refuse overwriting someone else's change


@dataclass(frozen=True)
class NoteView:
    id: int
    text: str
    author: str
    at: datetime


@dataclass(frozen=True)
class LinkedInstance:
    instance_id: int
    process_id: str
    state: str
    started_at: datetime
    linked_by: str
    linked_at: datetime


@dataclass(frozen=True)
class LinkedDocument:
    document_id: int
    reference: str
    title: str
    created_at: datetime
    linked_by: str
    linked_at: datetime


@dataclass(frozen=True)
class EpisodeDetail:
    """An episode with everything it holds, oldest first."""

    episode: EpisodeView
    work_items: list[WorkItemView]
    notes: list[NoteView]
    instances: list[LinkedInstance]
    documents: list[LinkedDocument]
    default_form_refs: list[str]  # the forms its template offers for new work items


@dataclass(frozen=True)
class CopyResult:
    """One target of a copy: the new work item, what was re-bound, left out, and still to answer."""

    target_episode_id: int
    work_item_id: int
    form_version: int
    draft: bool  # the source was a draft, or the copy does not (yet) satisfy the form
    rebound: list[str]
    dropped: list[DroppedField]
    problems: list[FieldError] = field(default_factory=list)


@dataclass(frozen=True)
class CopyReport:
    source_work_item_id: int
    form_ref: str
    copies: list[CopyResult]

    @property
    def work_item_ids(self) -> list[int]:
        return [c.work_item_id for c in self.copies]


def template_view(row: EpisodeTemplate) -> TemplateView:
    return TemplateView(
        id=row.id,
        slug=row.slug,
        name=row.name,
        description=row.description,
        team=row.team,
        icon=row.icon,
        subject_kind=row.subject_kind,
        default_form_refs=list(row.default_form_refs),
        start_process_id=row.start_process_id,
        active=row.active,
    )


def episode_view(row: Episode, template: EpisodeTemplate, subject: Subject) -> EpisodeView:
    return EpisodeView(
        id=row.id,
        title=row.title,
        template_slug=template.slug,
        template_name=template.name,
        icon=template.icon,
        subject_kind=row.subject_kind,
        pupil_id=row.pupil_id,
        establishment_id=row.establishment_id,
        subject_label=subject.label,
        subject_reference=subject.reference,
        owner=row.owner,
        team=row.team,
        state=row.state,
        opened_on=row.opened_on,
        closed_on=row.closed_on,
        closing_reason=row.closing_reason,
    )


def work_item_view(row: WorkItem, form_version: int) -> WorkItemView:
    return WorkItemView(
        id=row.id,
        episode_id=row.episode_id,
        form_ref=row.form_ref,
        form_version_id=row.form_version_id,
        form_version=form_version,
        title=row.title,
        data=copy.deepcopy(row.data),  # the caller's to change: never the row's own dict
        draft=row.draft,
        created_by=row.created_by,
        created_at=row.created_at,
        updated_by=row.updated_by,
        updated_at=row.updated_at,
        copied_from_work_item_id=row.copied_from_work_item_id,
        copied_by=row.copied_by,
        copied_at=row.copied_at,
        dropped_fields=list(row.dropped_fields),
        lock_version=row.lock_version,
    )


def note_view(row: EpisodeNote) -> NoteView:
    return NoteView(id=row.id, text=row.text, author=row.author, at=row.at)
