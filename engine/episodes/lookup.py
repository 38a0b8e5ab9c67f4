"""Finding the episode someone asks for, as the episode services need it: visible to them (or "not
found"), open when they want to change it, with its subject."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import clock
from engine.access import Principal, may_see_episode, require
from engine.errors import Conflict
from engine.models.episodes import Episode, EpisodeState, EpisodeTemplate

from .binding import Subject
from .subjects import load_subject

if TYPE_CHECKING:
    from engine.context import Context


def today_in(ctx: Context) -> date:
    """Today in the local authority's time zone."""
    return clock.now().astimezone(ZoneInfo(ctx.settings.timezone)).date()


def visible_episode(
    session: Session, principal: Principal, episode_id: int, *, for_change: bool = False
) -> tuple[Episode, EpisodeTemplate]:
    """The episode and its template. NotFound when it does not exist or this person may not see it
    (the two are not told apart); Conflict when a change is asked of a closed episode."""
    row = session.execute(
        select(Episode, EpisodeTemplate)
        .join(EpisodeTemplate, EpisodeTemplate.id == Episode.template_id)
        .where(Episode.id == episode_id)
    ).first()
    require(row is not None and may_see_episode(principal, team=row[0].team, owner=row[0].owner), "episode")
    assert row is not None
    if for_change:
        require_open(row[0])
    return row[0], row[1]


def visible_episodes(session: Session, principal: Principal, episode_ids: list[int]) -> list[Episode]:
    """Every one of ``episode_ids``, in that order, or NotFound naming none of them when any one does
    not exist or may not be seen."""
    rows = {e.id: e for e in session.scalars(select(Episode).where(Episode.id.in_(episode_ids)))}
    visible = all(
        i in rows and may_see_episode(principal, team=rows[i].team, owner=rows[i].owner) for i in episode_ids
    )
    require(visible, "episode")
    return [rows[i] for i in episode_ids]


def require_open(episode: Episode) -> None:
    """A closed episode is read-only until it is reopened."""
    if episode.state != EpisodeState.OPEN:
        raise Conflict(
            f"The episode '{episode.title}' is closed: reopen it before changing it.", episode_id=episode.id
        )


def subject_of(session: Session, episode: Episode, today: date) -> Subject:
    """The pupil or establishment the episode is about, with its bound values as of ``today``."""
    return load_subject(
        session, pupil_id=episode.pupil_id, establishment_id=episode.establishment_id, today=today
    )
