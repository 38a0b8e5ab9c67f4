"""Notes on an episode, and the cases (process instances) and documents filed on it.

Re-exported by :mod:`engine.services.episodes`. A case or document is filed only by someone who may
see both the episode and the case (for a document: the case that issued it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import clock
from ..access import Principal, establishments_of, may_see_instance, require
from ..episodes.lookup import visible_episode
from ..episodes.views import LinkedDocument, LinkedInstance, NoteView, note_view
from ..errors import InvalidInput, NotFound
from ..models.documents import Document
from ..models.episodes import EpisodeDocument, EpisodeInstance, EpisodeNote
from ..models.workflow import HumanTask, HumanTaskTeam, ProcessInstance
from . import audit

if TYPE_CHECKING:
    from ..context import Context

MAX_NOTE_LENGTH = 20_000
PI = ProcessInstance.__table__


def add_note(ctx: Context, principal: Principal, episode_id: int, text: str) -> NoteView:
    """A dated note on an open episode."""
    if not (text or "").strip() or len(text) > MAX_NOTE_LENGTH:
        raise InvalidInput(f"Write the note (at most {MAX_NOTE_LENGTH:,} characters).", field="text")
    with ctx.db.transaction() as session:
        episode, _ = visible_episode(session, principal, episode_id, for_change=True)
        note = EpisodeNote(
            episode_id=episode.id, text=text.strip(), author=principal.username, at=clock.now()
        )
        session.add(note)
        session.flush()
        audit.record(session, principal, "add_note", "episode", episode.id, {"note_id": note.id})
        return note_view(note)


def link_instance(ctx: Context, principal: Principal, episode_id: int, instance_id: int) -> None:
    """File a case (process instance) this person can see on an open episode; linking twice is harmless."""
    with ctx.db.transaction() as session:
        episode, _ = visible_episode(session, principal, episode_id, for_change=True)
        _require_visible_instance(session, principal, instance_id)
        if session.get(EpisodeInstance, (episode.id, instance_id)) is None:
            session.add(
                EpisodeInstance(
                    episode_id=episode.id,
                    instance_id=instance_id,
                    linked_by=principal.username,
                    linked_at=clock.now(),
                )
            )
            audit.record(
                session, principal, "link_instance", "episode", episode.id, {"instance_id": instance_id}
            )


def link_document(ctx: Context, principal: Principal, episode_id: int, document_id: int) -> None:
    """File a document issued by a case this person can see on an open episode."""
    with ctx.db.transaction() as session:
        episode, _ = visible_episode(session, principal, episode_id, for_change=True)
        instance_id = session.scalar(select(Document.instance_id).where(Document.id == document_id))
        if instance_id is None:
            raise NotFound("There is no such document.")
        _require_visible_instance(session, principal, instance_id, what="document")
        if session.get(EpisodeDocument, (episode.id, document_id)) is None:
            session.add(
                EpisodeDocument(
                    episode_id=episode.id,
                    document_id=document_id,
                    linked_by=principal.username,
                    linked_at=clock.now(),
                )
            )
            audit.record(
                session, principal, "link_document", "episode", episode.id, {"document_id": document_id}
            )


def notes_of(session: Session, episode_id: int) -> list[NoteView]:
    """The notes of one episode, oldest first (for a caller that has checked access)."""
    query = select(EpisodeNote).where(EpisodeNote.episode_id == episode_id).order_by(EpisodeNote.id)
    return [note_view(note) for note in session.scalars(query)]


def instances_of(session: Session, episode_id: int) -> list[LinkedInstance]:
    """The cases filed on one episode, in the order they were filed."""
    rows = session.execute(
        select(
            PI.c.id,
            PI.c.process_id,
            PI.c.state,
            PI.c.started_at,
            EpisodeInstance.linked_by,
            EpisodeInstance.linked_at,
        )
        .join(EpisodeInstance, EpisodeInstance.instance_id == PI.c.id)
        .where(EpisodeInstance.episode_id == episode_id)
        .order_by(EpisodeInstance.linked_at, PI.c.id)
    )
    return [LinkedInstance(*row) for row in rows]


def documents_of(session: Session, episode_id: int) -> list[LinkedDocument]:
    """The documents filed on one episode, in the order they were filed."""
    rows = session.execute(
        select(
            Document.id,
            Document.reference,
            Document.title,
            Document.created_at,
            EpisodeDocument.linked_by,
            EpisodeDocument.linked_at,
        )
        .join(EpisodeDocument, EpisodeDocument.document_id == Document.id)
        .where(EpisodeDocument.episode_id == episode_id)
        .order_by(EpisodeDocument.linked_at, Document.id)
    )
    return [LinkedDocument(*row) for row in rows]


# --- helpers ------------------------------------------------------------------------------------------


def _require_visible_instance(
    session: Session, principal: Principal, instance_id: int, what: str = "case"
) -> None:
    found = session.scalar(select(PI.c.id).where(PI.c.id == instance_id))
    teams = session.scalars(
        select(HumanTaskTeam.team)
        .join(HumanTask, HumanTask.id == HumanTaskTeam.task_id)
        .where(HumanTask.instance_id == instance_id)
    ).all()
    assignees = session.scalars(
        select(HumanTask.assignee).where(
            HumanTask.instance_id == instance_id, HumanTask.assignee.is_not(None)
        )
    ).all()
    establishments = establishments_of(session, instance_id)
    visible = may_see_instance(
        principal, establishments=establishments, task_teams=teams, assignees=assignees
    )
    require(found is not None and visible, what)
