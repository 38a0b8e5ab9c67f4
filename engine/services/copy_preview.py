"""What a copy of a work item will do, before it is made, and what it did, afterwards: for each target
episode, the fields re-bound to its pupil or establishment (with their new values), the answers left
behind and why, and what the copy will still need before it can be final.

The copy itself is :func:`engine.services.episodes.copy_work_item`; the preview runs the same pure
:func:`engine.episodes.copying.copy_data` on the same form version, and writes nothing but the audit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from ..access import Principal, require
from ..episodes.binding import bindings_of, dotted, get_at
from ..episodes.copying import copy_data
from ..episodes.labels import field_label
from ..episodes.lookup import require_open, subject_of, today_in, visible_episode, visible_episodes
from ..episodes.views import EpisodeView, WorkItemView, episode_view, work_item_view
from ..errors import FieldError, InvalidInput, NotFound
from ..forms import get_form_version, validate_form_data
from ..forms.validation import schemas_at
from ..models.episodes import Episode, EpisodeTemplate, WorkItem
from . import audit

if TYPE_CHECKING:
    from ..context import Context

MAX_TARGETS = 200


@dataclass(frozen=True)
class BoundField:
    path: str
    label: str
    value: Any
    is_date: bool = False  # a date (YYYY-MM-DD) for the page to write as people read dates


@dataclass(frozen=True)
class LeftBehind:
    path: str
    label: str
    reason: str


@dataclass(frozen=True)
class TargetCopy:
    """One target: its episode, and (after the copy) the work item made there."""

    episode: EpisodeView
    rebound: list[BoundField]
    dropped: list[LeftBehind]
    problems: list[FieldError] = field(default_factory=list)
    work_item: WorkItemView | None = None


@dataclass(frozen=True)
class CopyPlan:
    source: WorkItemView
    source_episode: EpisodeView
    form_title: str
    targets: list[TargetCopy]


def preview_copy(ctx: Context, principal: Principal, work_item_id: int, target_ids: list[int]) -> CopyPlan:
    """What copying the work item into each of ``target_ids`` would do (nothing is copied)."""
    targets = list(dict.fromkeys(target_ids))
    if not targets:
        raise InvalidInput("Choose at least one episode to copy into.", field="target")
    if len(targets) > MAX_TARGETS:
        raise InvalidInput(f"Copy into at most {MAX_TARGETS} episodes at a time.", field="target")
    today = today_in(ctx)
    with ctx.db.transaction() as session:
        source, source_episode = _visible_item(session, principal, work_item_id)
        source_schema = get_form_version(session, source.form_version_id).schema
        form = ctx.forms.get(source.form_ref)
        planned = []
        for episode in visible_episodes(session, principal, targets):
            require_open(episode)
            copied = copy_data(
                source.data,
                source_schema,
                form.schema,
                subject_of(session, episode, today),
                source_ref=source.form_ref,
                target_ref=form.ref,
            )
            planned.append(
                TargetCopy(
                    _episode(session, episode, today),
                    _bound(form.schema, copied.data, copied.rebound),
                    [
                        LeftBehind(d.path, field_label(source_schema, d.path), d.reason)
                        for d in copied.dropped
                    ],
                    validate_form_data(form.schema, copied.data, form_ref=form.ref),
                )
            )
        audit.record(session, principal, "preview_copy", "work_item", source.id, {"targets": targets})
        return CopyPlan(_item(session, source), _episode(session, source_episode, today), form.title, planned)


def copy_outcome(ctx: Context, principal: Principal, work_item_id: int, copy_ids: list[int]) -> CopyPlan:
    """The copies of a work item just made (``copy_ids``), as the person who made them reads them."""
    today = today_in(ctx)
    with ctx.db.transaction() as session:
        source, source_episode = _visible_item(session, principal, work_item_id)
        done = []
        for copy_id in list(dict.fromkeys(copy_ids))[:MAX_TARGETS]:
            item, episode = _visible_item(session, principal, copy_id)
            require(item.copied_from_work_item_id == source.id, "work item")
            version = get_form_version(session, item.form_version_id)
            bound = [dotted(path) for path in bindings_of(version.schema, item.form_ref)]
            done.append(
                TargetCopy(
                    _episode(session, episode, today),
                    _bound(
                        version.schema,
                        item.data,
                        [p for p in bound if get_at(item.data, tuple(p.split(".")))],
                    ),
                    [
                        LeftBehind(d["path"], field_label(version.schema, d["path"]), d["reason"])
                        for d in item.dropped_fields
                    ],
                    validate_form_data(version.schema, item.data, form_ref=item.form_ref)
                    if item.draft
                    else [],
                    _item(session, item),
                )
            )
        audit.record(session, principal, "view", "work_item", source.id, {"copies": copy_ids[:MAX_TARGETS]})
        form_title = get_form_version(session, source.form_version_id).schema.get("title") or source.form_ref
        return CopyPlan(
            _item(session, source), _episode(session, source_episode, today), str(form_title), done
        )


# --- helpers ------------------------------------------------------------------------------------------


def _visible_item(session: Session, principal: Principal, work_item_id: int) -> tuple[WorkItem, Episode]:
    item = session.get(WorkItem, work_item_id)
    try:
        episode, _ = visible_episode(session, principal, item.episode_id if item is not None else -1)
    except NotFound:
        raise NotFound("There is no such work item.")
    assert item is not None
    return item, episode


def _bound(schema: dict[str, Any], data: dict[str, Any], paths: list[str]) -> list[BoundField]:
    return [
        BoundField(p, field_label(schema, p), get_at(data, tuple(p.split("."))), _is_date(schema, p))
        for p in paths
    ]


def _is_date(schema: dict[str, Any], path: str) -> bool:
    return any(s.get("format") == "date" for s in schemas_at(schema, path.split(".")))


def _episode(session: Session, episode: Episode, today: date) -> EpisodeView:
    template = session.get(EpisodeTemplate, episode.template_id)
    assert template is not None
    return episode_view(episode, template, subject_of(session, episode, today))


def _item(session: Session, item: WorkItem) -> WorkItemView:
    number = get_form_version(session, item.form_version_id).version
    return work_item_view(item, number)
