"""Episodes: pieces of LA casework about one pupil or one establishment ("EP involvement 2025/26",
"Consultation with Oak Primary"), with the kinds of episode a team uses (templates), the work items
(form submissions) they hold, notes, and links to process instances and documents.

A work item copied from another episode keeps its provenance (``copied_from_work_item_id``,
``copied_by``, ``copied_at``) and the fields the copy could not keep (``dropped_fields``); its data is
its own from then on.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base
from .types import UtcDateTime


class SubjectKind:
    """What an episode (or the episodes of a template) is about."""

    PUPIL = "pupil"
    ESTABLISHMENT = "establishment"
    EITHER = "either"  # templates only: each episode is about one or the other

    ALL = (PUPIL, ESTABLISHMENT, EITHER)


class EpisodeState:
    OPEN = "open"
    CLOSED = "closed"


class EpisodeTemplate(Base):
    """A kind of episode a team uses: its forms, its icon and the process it starts when opened."""

    __tablename__ = "episode_template"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    team: Mapped[str] = mapped_column(String(100))
    icon: Mapped[str] = mapped_column(String(40))
    subject_kind: Mapped[str] = mapped_column(String(20))  # pupil / establishment / either
    default_form_refs: Mapped[list[Any]]
    start_process_id: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Episode(Base):
    """One piece of casework about exactly one pupil or one establishment."""

    __tablename__ = "episode"
    __table_args__ = (
        CheckConstraint("(pupil_id IS NULL) <> (establishment_id IS NULL)", name="one_subject"),
        Index("ix_episode_team_state", "team", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("episode_template.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    pupil_id: Mapped[int | None] = mapped_column(ForeignKey("pupil.id"), index=True)
    establishment_id: Mapped[int | None] = mapped_column(ForeignKey("establishment.id"), index=True)
    owner: Mapped[str] = mapped_column(String(100), index=True)
    team: Mapped[str] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(20))  # open / closed
    opened_on: Mapped[date] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date)
    closing_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_by: Mapped[str] = mapped_column(String(100))

    @property
    def subject_kind(self) -> str:
        return SubjectKind.PUPIL if self.pupil_id is not None else SubjectKind.ESTABLISHMENT


class WorkItem(Base):
    """A form submission held by an episode (a report section, a consultation record...).

    ``draft`` items are saved unvalidated; final items satisfy their form version. ``lock_version``
    stops two people's edits silently overwriting each other.
    """

    __tablename__ = "work_item"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("episode.id"), index=True)
    form_ref: Mapped[str] = mapped_column(String(200))
    form_version_id: Mapped[int] = mapped_column(ForeignKey("form_version.id"))
    title: Mapped[str] = mapped_column(String(300))
    data: Mapped[dict[str, Any]]
    draft: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    copied_from_work_item_id: Mapped[int | None] = mapped_column(ForeignKey("work_item.id"), index=True)
    copied_by: Mapped[str | None] = mapped_column(String(100))
    copied_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    dropped_fields: Mapped[list[Any]]  # [{"path": "a.b", "reason": "..."}], empty unless copied
    lock_version: Mapped[int] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": lock_version}


class EpisodeNote(Base):
    """A dated note on an episode (append-only)."""

    __tablename__ = "episode_note"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("episode.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(UtcDateTime)


class EpisodeInstance(Base):
    """A process instance that belongs to an episode (started with it or linked later)."""

    __tablename__ = "episode_instance"
    __table_args__ = (Index("ix_episode_instance_instance", "instance_id"),)

    episode_id: Mapped[int] = mapped_column(ForeignKey("episode.id"), primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), primary_key=True)
    linked_by: Mapped[str] = mapped_column(String(100))
    linked_at: Mapped[datetime] = mapped_column(UtcDateTime)


class EpisodeDocument(Base):
    """A document (issued by a process) filed on an episode."""

    __tablename__ = "episode_document"
    __table_args__ = (Index("ix_episode_document_document", "document_id"),)

    episode_id: Mapped[int] = mapped_column(ForeignKey("episode.id"), primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"), primary_key=True)
    linked_by: Mapped[str] = mapped_column(String(100))
    linked_at: Mapped[datetime] = mapped_column(UtcDateTime)
