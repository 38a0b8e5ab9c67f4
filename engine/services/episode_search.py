"""Finding episodes and what they are about: the episode list (mine, my teams', everyone's for
managers) with filters and pages, the episodes a work item may be copied into, and the pupils and
establishments a new episode can be about.

Every query goes through ``engine.access.restrict_episodes``; school users find nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session

from ..access import Principal, require, restrict_episodes
from ..episodes.binding import PUPIL, Subject
from ..episodes.lookup import today_in, visible_episode
from ..episodes.views import EpisodeView, episode_view
from ..models.episodes import Episode, EpisodeState, EpisodeTemplate, SubjectKind, WorkItem
from ..models.people import Enrolment, Establishment, Pupil
from . import audit

if TYPE_CHECKING:
    from ..context import Context

PAGE_SIZE = 25
TARGETS_SHOWN = 50
SUBJECTS_SHOWN = 20


class Scope(StrEnum):
    MINE = "mine"  # episodes I own
    TEAMS = "team"  # episodes of my teams (and mine)
    ALL = "all"  # every episode I may see (managers: all)


@dataclass(frozen=True)
class EpisodeFilters:
    scope: Scope = Scope.MINE
    state: str = EpisodeState.OPEN  # open / closed / "" for both
    template: str = ""
    text: str = ""  # part of a name or title, a UPN or a LAESTAB
    page: int = 1


@dataclass(frozen=True)
class EpisodeList:
    filters: EpisodeFilters
    episodes: list[EpisodeView]
    has_next: bool
    templates: list[tuple[str, str]] = field(default_factory=list)  # (slug, name) for the filter


@dataclass(frozen=True)
class CopyTargets:
    """Episodes a work item may be copied into: open, visible, other than its own."""

    source_episode: EpisodeView
    episodes: list[EpisodeView]
    text: str
    on_roll_at: Subject | None  # "episodes of pupils on roll at this establishment"
    chosen: list[EpisodeView] = field(default_factory=list)  # chosen earlier, still open and visible


@dataclass(frozen=True)
class SubjectChoice:
    kind: str  # pupil / establishment
    id: int
    label: str
    reference: str | None  # UPN or LAESTAB
    detail: str | None  # date of birth and current school; an establishment's type


def find_episodes(ctx: Context, principal: Principal, filters: EpisodeFilters) -> EpisodeList:
    """One page of the episodes ``principal`` may see that match ``filters``, newest first."""
    filters = replace(filters, page=max(1, filters.page))
    query = restrict_episodes(principal, _listing())
    if filters.scope == Scope.MINE:
        query = query.where(Episode.owner == principal.username)
    elif filters.scope == Scope.TEAMS:
        query = query.where(Episode.team.in_(sorted(principal.teams)) | (Episode.owner == principal.username))
    if filters.state in (EpisodeState.OPEN, EpisodeState.CLOSED):
        query = query.where(Episode.state == filters.state)
    if filters.template:
        query = query.where(EpisodeTemplate.slug == filters.template)
    if filters.text.strip():
        query = query.where(_matching(filters.text))
    query = query.order_by(Episode.opened_on.desc(), Episode.id.desc())
    with ctx.db.transaction() as session:
        rows = session.execute(query.limit(PAGE_SIZE + 1).offset((filters.page - 1) * PAGE_SIZE)).all()
        templates = [
            (t.slug, t.name) for t in session.scalars(select(EpisodeTemplate).order_by(EpisodeTemplate.name))
        ]
        details = {"scope": filters.scope.value, "state": filters.state, "found": min(len(rows), PAGE_SIZE)}
        audit.record(session, principal, "list_episodes", "episodes", "search", details)
        episodes = [listed(*row) for row in rows[:PAGE_SIZE]]
    return EpisodeList(filters, episodes, len(rows) > PAGE_SIZE, templates)


def copy_targets(
    ctx: Context,
    principal: Principal,
    work_item_id: int,
    *,
    text: str = "",
    on_roll_at: int | None = None,
    chosen: list[int] | None = None,
) -> CopyTargets:
    """Open episodes (other than the work item's own) that ``principal`` may see and copy into: those
    matching ``text``, or about pupils on the roll of establishment ``on_roll_at`` today (without
    either: their own open episodes); and those of ``chosen`` still open and visible."""
    with ctx.db.transaction() as session:
        source = _source_episode(session, principal, work_item_id)
        query = restrict_episodes(principal, _listing()).where(
            Episode.state == EpisodeState.OPEN, Episode.id != source.id
        )
        school = None
        if on_roll_at is not None:
            school = _establishment(session, on_roll_at)
            query = query.where(Episode.pupil_id.in_(_pupils_on_roll(on_roll_at, today_in(ctx))))
        if text.strip():
            query = query.where(_matching(text))
        if on_roll_at is None and not text.strip():
            query = query.where(Episode.owner == principal.username)  # a start: one's own open episodes
        query = query.order_by(func.coalesce(Pupil.surname, Establishment.name), Episode.opened_on.desc())
        rows = session.execute(query.limit(TARGETS_SHOWN)).all()
        picked = restrict_episodes(principal, _listing()).where(
            Episode.id.in_(chosen or []), Episode.state == EpisodeState.OPEN, Episode.id != source.id
        )
        picked_rows = session.execute(picked.order_by(Episode.id)).all()
        source_row = session.execute(_listing().where(Episode.id == source.id)).one()
        details = {"work_item_id": work_item_id, "on_roll_at": on_roll_at, "found": len(rows)}
        audit.record(session, principal, "list_episodes", "copy_targets", source.id, details)
        return CopyTargets(
            listed(*source_row),
            [listed(*row) for row in rows],
            text,
            school,
            [listed(*row) for row in picked_rows],
        )


def find_subjects(ctx: Context, principal: Principal, kind: str, text: str) -> list[SubjectChoice]:
    """Pupils (name or UPN) or establishments (name or LAESTAB) a new episode could be about."""
    require(not principal.is_school, "page")
    words = text.strip().lower().split()[:4]
    if not words:
        return []
    today = today_in(ctx)
    with ctx.db.transaction() as session:
        found: list[SubjectChoice] = []
        if kind in (SubjectKind.PUPIL, SubjectKind.EITHER):
            found += _pupils(session, words, today)
        if kind in (SubjectKind.ESTABLISHMENT, SubjectKind.EITHER):
            found += _establishments(session, words)
        audit.record(session, principal, "search", "episode_subject", kind, {"found": len(found)})
        return found


# --- helpers ------------------------------------------------------------------------------------------


def _listing() -> Select[Any]:
    return (
        select(Episode, EpisodeTemplate, Pupil, Establishment)
        .join(EpisodeTemplate, EpisodeTemplate.id == Episode.template_id)
        .outerjoin(Pupil, Pupil.id == Episode.pupil_id)
        .outerjoin(Establishment, Establishment.id == Episode.establishment_id)
    )


def listed(
    episode: Episode, template: EpisodeTemplate, pupil: Pupil | None, establishment: Establishment | None
) -> EpisodeView:
    """An episode read by :func:`_listing`, as a view."""
    if pupil is not None:
        return episode_view(episode, template, Subject(PUPIL, pupil.id, pupil.full_name, pupil.upn))
    assert establishment is not None
    subject = Subject(SubjectKind.ESTABLISHMENT, establishment.id, establishment.name, establishment.laestab)
    return episode_view(episode, template, subject)


def _matching(text: str) -> Any:
    """Every word is found in the title, the pupil's names or the establishment's name, or is the UPN
    or the LAESTAB."""
    conditions = []
    for word in text.strip().lower().split()[:4]:
        conditions.append(
            or_(
                *(
                    func.lower(column).contains(word, autoescape=True)
                    for column in (
                        Episode.title,
                        Pupil.forename,
                        Pupil.surname,
                        Pupil.preferred_forename,
                        Establishment.name,
                    )
                ),
                func.lower(Pupil.upn) == word,
                Establishment.laestab == word,
            )
        )
    return and_(*conditions)


def _source_episode(session: Session, principal: Principal, work_item_id: int) -> Episode:
    item = session.get(WorkItem, work_item_id)
    episode, _ = visible_episode(session, principal, item.episode_id if item is not None else -1)
    return episode


def _establishment(session: Session, establishment_id: int) -> Subject:
    row = session.get(Establishment, establishment_id)
    require(row is not None, "establishment")
    assert row is not None
    return Subject(SubjectKind.ESTABLISHMENT, row.id, row.name, row.laestab)


def _pupils_on_roll(establishment_id: int, today: date) -> Select[Any]:
    return select(Enrolment.pupil_id).where(
        Enrolment.establishment_id == establishment_id,
        Enrolment.start_date <= today,
        (Enrolment.end_date.is_(None)) | (Enrolment.end_date >= today),
    )


def _pupils(session: Session, words: list[str], today: date) -> list[SubjectChoice]:
    conditions = [
        or_(
            func.lower(Pupil.forename).contains(word, autoescape=True),
            func.lower(Pupil.surname).contains(word, autoescape=True),
            func.lower(func.coalesce(Pupil.preferred_forename, "")).contains(word, autoescape=True),
            func.lower(func.coalesce(Pupil.upn, "")) == word,
        )
        for word in words
    ]
    pupils = session.scalars(
        select(Pupil).where(and_(*conditions)).order_by(Pupil.surname, Pupil.forename).limit(SUBJECTS_SHOWN)
    ).all()
    schools = _current_schools(session, [p.id for p in pupils], today)
    return [
        SubjectChoice(
            PUPIL,
            p.id,
            p.full_name,
            p.upn,
            f"Born {p.date_of_birth:%d %B %Y}" + (f", {schools[p.id]}" if p.id in schools else ""),
        )
        for p in pupils
    ]


def _current_schools(session: Session, pupil_ids: list[int], today: date) -> dict[int, str]:
    rows = session.execute(
        select(Enrolment.pupil_id, Establishment.name)
        .join(Establishment, Establishment.id == Enrolment.establishment_id)
        .where(
            Enrolment.pupil_id.in_(pupil_ids),
            Enrolment.start_date <= today,
            (Enrolment.end_date.is_(None)) | (Enrolment.end_date >= today),
        )
        .order_by(Enrolment.start_date)
    )
    return {pupil_id: name for pupil_id, name in rows}


def _establishments(session: Session, words: list[str]) -> list[SubjectChoice]:
    conditions = [
        or_(func.lower(Establishment.name).contains(word, autoescape=True), Establishment.laestab == word)
        for word in words
    ]
    rows = session.scalars(
        select(Establishment).where(and_(*conditions)).order_by(Establishment.name).limit(SUBJECTS_SHOWN)
    )
    return [SubjectChoice(SubjectKind.ESTABLISHMENT, e.id, e.name, e.laestab, None) for e in rows]
