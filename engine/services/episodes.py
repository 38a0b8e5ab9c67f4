"""Use cases on episodes: open, close, reopen, rename, show and list them.

The rest of the episode API is re-exported here, so that callers need this one module: work items
and copying them between episodes (:mod:`engine.services.work_items`), notes and the cases and
documents filed on an episode (:mod:`engine.services.episode_links`). Templates are in
:mod:`engine.services.episode_templates`.

Every function takes the acting :class:`Principal`, owns its transaction, asks :mod:`engine.access`
(an episode one may not see is "not found", whatever the reason) and writes the audit trail. A closed
episode is read-only until it is reopened.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from .. import clock
from ..access import Principal, may_open_episode, require_role, restrict_episodes
from ..episodes.binding import PUPIL, Subject
from ..episodes.lookup import subject_of, today_in, visible_episode
from ..episodes.subjects import load_subject, start_data
from ..episodes.views import EpisodeDetail, EpisodeView, episode_view
from ..errors import Conflict, InvalidInput, NotFound
from ..models.access import UserAccount
from ..models.episodes import Episode, EpisodeInstance, EpisodeState, EpisodeTemplate, SubjectKind
from ..models.people import Establishment, Pupil
from . import audit
from .episode_links import add_note, documents_of, instances_of, link_document, link_instance, notes_of
from .instances import latest_version_id, start_in_session
from .work_items import add_work_item, copy_work_item, get_work_item, update_work_item, work_items_of

if TYPE_CHECKING:
    from ..context import Context


def open_episode(
    ctx: Context,
    principal: Principal,
    template_slug: str,
    *,
    pupil_id: int | None = None,
    establishment_id: int | None = None,
    title: str | None = None,
    owner: str | None = None,
    team: str | None = None,
    opened_on: date | None = None,
    start_data: dict[str, Any] | None = None,
) -> EpisodeView:
    """Open an episode about one pupil or one establishment, owned by ``owner`` (by default the person
    opening it), for the template's team; start the template's process, if it names one, with the
    subject's details (``pupil``, ``school``) merged with ``start_data``."""
    today = today_in(ctx)
    with ctx.db.transaction() as session:
        template = _active_template(session, template_slug)
        subject = load_subject(session, pupil_id=pupil_id, establishment_id=establishment_id, today=today)
        if template.subject_kind not in (subject.kind, SubjectKind.EITHER):
            raise InvalidInput(
                f"'{template.name}' episodes are about {_a(template.subject_kind)}, not {_a(subject.kind)}."
            )
        team = team or template.team
        require_role(may_open_episode(principal, team), f"open episodes for the {team} team")
        episode = Episode(
            template_id=template.id,
            title=_title(title, template, opened_on or today),
            pupil_id=pupil_id,
            establishment_id=establishment_id,
            owner=_owner(session, principal, owner),
            team=team,
            state=EpisodeState.OPEN,
            opened_on=opened_on or today,
            created_at=clock.now(),
            created_by=principal.username,
        )
        session.add(episode)
        session.flush()
        details: dict[str, Any] = {"template": template.slug, "subject": f"{subject.kind}:{subject.id}"}
        if template.start_process_id:
            details["instance_id"] = _start_process(
                ctx, session, principal, episode, template.start_process_id, subject, start_data or {}
            )
        audit.record(session, principal, "open", "episode", episode.id, details)
        return episode_view(episode, template, subject)


def close_episode(
    ctx: Context, principal: Principal, episode_id: int, *, closed_on: date | None = None, reason: str = ""
) -> EpisodeView:
    """Close an open episode on ``closed_on`` (today by default)."""
    closed_on = closed_on or today_in(ctx)
    with ctx.db.transaction() as session:
        episode, template = visible_episode(session, principal, episode_id, for_change=True)
        if closed_on < episode.opened_on:
            raise InvalidInput(
                f"An episode cannot close before it opened ({episode.opened_on:%d %B %Y}).", field="closed_on"
            )
        episode.state, episode.closed_on, episode.closing_reason = (
            EpisodeState.CLOSED,
            closed_on,
            reason or None,
        )
        audit.record(session, principal, "close", "episode", episode.id, {"reason": reason or None})
        return episode_view(episode, template, subject_of(session, episode, closed_on))


def reopen_episode(ctx: Context, principal: Principal, episode_id: int) -> EpisodeView:
    with ctx.db.transaction() as session:
        episode, template = visible_episode(session, principal, episode_id)
        if episode.state == EpisodeState.OPEN:
            raise Conflict(f"Episode '{episode.title}' is already open.")
        episode.state, episode.closed_on, episode.closing_reason = EpisodeState.OPEN, None, None
        audit.record(session, principal, "reopen", "episode", episode.id)
        return episode_view(episode, template, subject_of(session, episode, today_in(ctx)))


def update_episode(
    ctx: Context, principal: Principal, episode_id: int, *, title: str | None = None, owner: str | None = None
) -> EpisodeView:
    """Rename an episode or give it to another owner."""
    with ctx.db.transaction() as session:
        episode, template = visible_episode(session, principal, episode_id, for_change=True)
        if title is not None:
            episode.title = _title(title, template, episode.opened_on)
        if owner is not None:
            episode.owner = _owner(session, principal, owner)
        audit.record(session, principal, "update", "episode", episode.id, {"title": title, "owner": owner})
        return episode_view(episode, template, subject_of(session, episode, today_in(ctx)))


def get_episode(ctx: Context, principal: Principal, episode_id: int) -> EpisodeDetail:
    """An episode with its work items, notes, cases and documents (the view is audited)."""
    with ctx.db.transaction() as session:
        episode, template = visible_episode(session, principal, episode_id)
        audit.record(session, principal, "view", "episode", episode.id)
        return EpisodeDetail(
            episode=episode_view(episode, template, subject_of(session, episode, today_in(ctx))),
            work_items=work_items_of(session, episode.id),
            notes=notes_of(session, episode.id),
            instances=instances_of(session, episode.id),
            documents=documents_of(session, episode.id),
            default_form_refs=list(template.default_form_refs),
        )


def list_episodes(
    ctx: Context,
    principal: Principal,
    *,
    pupil_id: int | None = None,
    establishment_id: int | None = None,
    team: str | None = None,
    owner: str | None = None,
    state: str | None = None,
) -> list[EpisodeView]:
    """The episodes this person may see, newest first, narrowed by subject, team, owner or state."""
    query = restrict_episodes(principal, _listing())
    filters = {"pupil": pupil_id, "establishment": establishment_id, "team": team, "owner": owner}
    columns = {
        "pupil": Episode.pupil_id,
        "establishment": Episode.establishment_id,
        "team": Episode.team,
        "owner": Episode.owner,
    }
    for name, value in filters.items():
        query = query.where(columns[name] == value) if value is not None else query
    if state is not None:
        query = query.where(Episode.state == state)
    with ctx.db.transaction() as session:
        rows = session.execute(query.order_by(Episode.opened_on.desc(), Episode.id.desc())).all()
        about = next(((k, v) for k, v in filters.items() if v is not None), ("episodes", "all"))
        audit.record(
            session, principal, "list_episodes", about[0], about[1], {"state": state, "found": len(rows)}
        )
        return [episode_view(e, t, _listed_subject(e, p, s)) for e, t, p, s in rows]


# --- helpers ------------------------------------------------------------------------------------------


def _active_template(session: Session, slug: str) -> EpisodeTemplate:
    template = session.scalar(select(EpisodeTemplate).where(EpisodeTemplate.slug == slug))
    if template is None or not template.active:
        raise NotFound(f"There is no episode template '{slug}' in use.")
    return template


def _owner(session: Session, principal: Principal, owner: str | None) -> str:
    """The person opening the episode, or another active account's username."""
    if owner is None or owner == principal.username:
        return principal.username
    account = session.scalar(select(UserAccount).where(UserAccount.username == owner))
    if account is None or not account.active or account.establishment is not None:
        raise InvalidInput(f"'{owner}' is not an active member of the LA's staff.", field="owner")
    return owner


def _title(title: str | None, template: EpisodeTemplate, opened_on: date) -> str:
    """The given title, or the template's name and the school year ("EP involvement 2025/26")."""
    if title is not None and not title.strip():
        raise InvalidInput("Give the episode a title.", field="title")
    if title is not None:
        return title.strip()[:300]
    year = opened_on.year if opened_on.month >= 9 else opened_on.year - 1
    return f"{template.name} {year}/{(year + 1) % 100:02d}"


def _start_process(
    ctx: Context,
    session: Session,
    principal: Principal,
    episode: Episode,
    process_id: str,
    subject: Subject,
    extra: dict[str, Any],
) -> int:
    """Start the template's process about the episode's subject and file it on the episode."""
    data = start_data(subject, extra, episode_id=episode.id)
    version_id = latest_version_id(ctx, session, process_id)
    opened = start_in_session(ctx, session, version_id, data, subject.reference, principal.username)
    link = EpisodeInstance(
        episode_id=episode.id, instance_id=opened.row.id, linked_by=principal.username, linked_at=clock.now()
    )
    session.add(link)
    return opened.row.id


def _listing() -> Select[Any]:
    return (
        select(Episode, EpisodeTemplate, Pupil, Establishment)
        .join(EpisodeTemplate, EpisodeTemplate.id == Episode.template_id)
        .outerjoin(Pupil, Pupil.id == Episode.pupil_id)
        .outerjoin(Establishment, Establishment.id == Episode.establishment_id)
    )


def _listed_subject(episode: Episode, pupil: Pupil | None, establishment: Establishment | None) -> Subject:
    if pupil is not None:
        return Subject(PUPIL, pupil.id, pupil.full_name, pupil.upn)
    assert establishment is not None
    return Subject(SubjectKind.ESTABLISHMENT, establishment.id, establishment.name, establishment.laestab)


def _a(kind: str) -> str:
    return {"pupil": "a pupil", "establishment": "an establishment", "either": "a pupil or an establishment"}[
        kind
    ]


__all__ = [
    "add_note",
    "add_work_item",
    "close_episode",
    "copy_work_item",
    "get_episode",
    "get_work_item",
    "link_document",
    "link_instance",
    "list_episodes",
    "open_episode",
    "reopen_episode",
    "update_episode",
    "update_work_item",
]
