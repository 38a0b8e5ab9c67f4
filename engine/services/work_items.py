"""Work items: the form submissions an episode holds (an EP report section, a consultation record),
and copying one into other episodes. Re-exported by :mod:`engine.services.episodes`.

A work item is made on the latest version of its form and keeps that version: later saves are checked
against the version it was made on. Fields bound to the subject (``x-educase-bind``, see
:mod:`engine.episodes.binding`) take the subject's values on every save. A draft is saved unchecked;
a final item satisfies its form.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from .. import clock
from ..access import Principal
from ..episodes.binding import Subject, bind, bindings_of
from ..episodes.copying import copy_data
from ..episodes.lookup import require_open, subject_of, today_in, visible_episode, visible_episodes
from ..episodes.views import CopyReport, CopyResult, WorkItemView, work_item_view
from ..errors import Conflict, InvalidInput, NotFound
from ..forms import (
    get_form_version,
    raise_if_invalid,
    register_form_version,
    submitted_data,
    validate_form_data,
)
from ..models.episodes import Episode, WorkItem
from ..models.forms import FormVersion
from . import audit

if TYPE_CHECKING:
    from ..context import Context


def add_work_item(
    ctx: Context,
    principal: Principal,
    episode_id: int,
    form_ref: str,
    data: dict[str, Any],
    *,
    title: str | None = None,
    draft: bool = False,
) -> WorkItemView:
    """Save a submission of form ``form_ref`` (its latest version) on an open episode."""
    today = today_in(ctx)
    with ctx.db.transaction() as session:
        episode, _ = visible_episode(session, principal, episode_id, for_change=True)
        form = ctx.forms.get(form_ref)
        now = clock.now()
        version = register_form_version(session, form, now=now)
        clean = _prepared(form.schema, form_ref, data, subject_of(session, episode, today), draft=draft)
        item = WorkItem(
            episode_id=episode.id,
            form_ref=form_ref,
            form_version_id=version.id,
            title=_title(title, form.title),
            data=clean,
            draft=draft,
            created_by=principal.username,
            created_at=now,
            updated_by=principal.username,
            updated_at=now,
            dropped_fields=[],
        )
        session.add(item)
        session.flush()
        details = {"episode_id": episode.id, "form": form_ref, "version": version.version, "draft": draft}
        audit.record(session, principal, "create", "work_item", item.id, details)
        return work_item_view(item, version.version)


def update_work_item(
    ctx: Context,
    principal: Principal,
    work_item_id: int,
    data: dict[str, Any],
    *,
    title: str | None = None,
    draft: bool | None = None,
    lock_version: int | None = None,
) -> WorkItemView:
    """Replace a work item's answers (checked against the form version it was made on, unless it stays
    or becomes a draft). Give the ``lock_version`` you read to refuse overwriting a colleague's change."""
    today = today_in(ctx)
    with ctx.db.transaction() as session:
        item, episode = _visible_item(session, principal, work_item_id)
        require_open(episode)
        if lock_version is not None and lock_version != item.lock_version:
            raise _changed_meanwhile(item)
        version = get_form_version(session, item.form_version_id)
        item.draft = item.draft if draft is None else draft
        item.data = _prepared(
            version.schema, item.form_ref, data, subject_of(session, episode, today), draft=item.draft
        )
        item.title = _title(title, item.title)
        item.updated_by, item.updated_at = principal.username, clock.now()
        try:
            session.flush()
        except StaleDataError:
            raise Conflict(
                f"Work item {work_item_id} was changed by someone else as you saved; reload it and try again.",
                work_item_id=work_item_id,
            )
        audit.record(session, principal, "update", "work_item", item.id, {"draft": item.draft})
        return work_item_view(item, version.version)


def get_work_item(ctx: Context, principal: Principal, work_item_id: int) -> WorkItemView:
    """One work item with its provenance (the view is audited)."""
    with ctx.db.transaction() as session:
        item, _ = _visible_item(session, principal, work_item_id)
        audit.record(session, principal, "view", "work_item", item.id)
        return work_item_view(item, get_form_version(session, item.form_version_id).version)


def copy_work_item(
    ctx: Context,
    principal: Principal,
    work_item_id: int,
    target_episode_ids: list[int],
    *,
    form_ref: str | None = None,
) -> CopyReport:
    """Copy a work item into each of ``target_episode_ids``, all or none.

    Each copy is made on the latest version of the source's form (or of ``form_ref``): it keeps the
    answers that form still has, re-binds the fields bound to the subject to the target's pupil or
    establishment, records where it came from, and lists what it left behind. A copy is a draft when
    the source was, or when it does not satisfy its form yet (``problems`` says why). Any target that
    does not exist or may not be seen makes the whole copy "not found", naming none of them.
    """
    targets = list(dict.fromkeys(target_episode_ids))
    if not targets:
        raise InvalidInput("Choose at least one episode to copy into.", field="target_episode_ids")
    today = today_in(ctx)
    with ctx.db.transaction() as session:
        source, _ = _visible_item(session, principal, work_item_id)
        episodes = visible_episodes(session, principal, targets)
        for episode in episodes:
            require_open(episode)
        source_version = get_form_version(session, source.form_version_id)
        ref = form_ref or source.form_ref
        form = ctx.forms.get(ref)
        version = register_form_version(session, form, now=clock.now())
        copies = [_copy_into(session, principal, source, source_version, version, e, today) for e in episodes]
        audit.record(
            session,
            principal,
            "copied",
            "work_item",
            source.id,
            {"to_work_item_ids": [c.work_item_id for c in copies], "form": ref},
        )
        return CopyReport(source.id, ref, copies)


def work_items_of(session: Session, episode_id: int) -> list[WorkItemView]:
    """The work items of one episode, oldest first (for a caller that has checked access)."""
    rows = session.execute(
        select(WorkItem, FormVersion.version)
        .join(FormVersion, FormVersion.id == WorkItem.form_version_id)
        .where(WorkItem.episode_id == episode_id)
        .order_by(WorkItem.id)
    )
    return [work_item_view(item, number) for item, number in rows]


# --- helpers ------------------------------------------------------------------------------------------


def _copy_into(
    session: Session,
    principal: Principal,
    source: WorkItem,
    source_version: FormVersion,
    version: FormVersion,
    episode: Episode,
    today: date,
) -> CopyResult:
    """One copy of ``source`` on form ``version``, in ``episode``, audited."""
    subject, schema = subject_of(session, episode, today), version.schema
    copied = copy_data(
        source.data,
        source_version.schema,
        schema,
        subject,
        source_ref=source.form_ref,
        target_ref=version.form_ref,
    )
    problems = validate_form_data(schema, copied.data, form_ref=version.form_ref)
    now = clock.now()
    item = WorkItem(
        episode_id=episode.id,
        form_ref=version.form_ref,
        form_version_id=version.id,
        title=source.title,
        data=copied.data,
        draft=source.draft or bool(problems),
        created_by=principal.username,
        created_at=now,
        updated_by=principal.username,
        updated_at=now,
        copied_from_work_item_id=source.id,
        copied_by=principal.username,
        copied_at=now,
        dropped_fields=[d.as_dict() for d in copied.dropped],
    )
    session.add(item)
    session.flush()
    details = {
        "from_work_item_id": source.id,
        "from_episode_id": source.episode_id,
        "episode_id": episode.id,
        "form": version.form_ref,
        "version": version.version,
        "dropped": [d.path for d in copied.dropped],
    }
    audit.record(session, principal, "copy", "work_item", item.id, details)
    return CopyResult(
        episode.id, item.id, version.version, item.draft, copied.rebound, copied.dropped, problems
    )


def _visible_item(session: Session, principal: Principal, work_item_id: int) -> tuple[WorkItem, Episode]:
    """The work item and its episode. A work item in an episode one may not see does not exist: the
    refusal is the same as for an id nobody has used."""
    item = session.get(WorkItem, work_item_id)
    try:
        episode, _ = visible_episode(session, principal, item.episode_id if item is not None else -1)
    except NotFound:
        raise NotFound("There is no such work item.")
    assert item is not None
    return item, episode


def _prepared(
    schema: dict[str, Any], form_ref: str, data: dict[str, Any], subject: Subject, *, draft: bool
) -> dict[str, Any]:
    """What is stored: only the answers the form declares (read-only ones excepted), the bound fields
    set from the subject, and checked against the form unless it is a draft."""
    if not isinstance(data, dict):
        raise InvalidInput("A work item's answers must be a JSON object.")
    bound = bind(submitted_data(schema, data), bindings_of(schema, form_ref), subject).data
    if not draft:
        raise_if_invalid(schema, bound, form_ref)
    return bound


def _title(title: str | None, default: str) -> str:
    chosen = (title or "").strip() or default
    return chosen[:300]


def _changed_meanwhile(item: WorkItem) -> Conflict:
    return Conflict(
        f"'{item.title}' was changed by {item.updated_by} at {item.updated_at:%H:%M on %d %B %Y} since you "
        "opened it; reload it, then make your change again.",
        work_item_id=item.id,
    )
