"""Copying a work item into other episodes, in three pages:

1. GET  /episodes/<id>/items/<item>/copy: choose the targets: open episodes one may see, found by
   pupil or establishment (name, UPN, LAESTAB), or "episodes of pupils on roll at this establishment"
   for an establishment's work item. The targets chosen so far travel in the query string (``target``),
   so a second search keeps them.
2. GET  /episodes/<id>/items/<item>/copy/check?target=..: for each target, the fields that will take
   its pupil's or establishment's details, and the answers the copy will leave behind.
3. POST /episodes/<id>/items/<item>/copy: the copy (all targets or none), then
   GET  .../copy/done?copy=..: what was made, with links to each copy.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from engine.access import require
from engine.errors import Conflict, InvalidInput
from engine.services import copy_preview, episode_search, episodes

from ..record_ids import number, numbers
from ..security import current_principal, engine_context
from . import bp

MAX_CHOSEN = copy_preview.MAX_TARGETS


@bp.get("/episodes/<int:episode_id>/items/<int:item_id>/copy")
def copy(episode_id: int, item_id: int) -> ResponseReturnValue:
    chosen = numbers(request.args.getlist("target"))[:MAX_CHOSEN]
    found = episode_search.copy_targets(
        engine_context(),
        current_principal(),
        item_id,
        text=request.args.get("q", "").strip()[:100],
        on_roll_at=number(request.args.get("on_roll_at")),
        chosen=chosen,
    )
    _require_episode(found.source_episode.id, episode_id)
    error = "Choose at least one episode to copy into" if request.args.get("none") else None
    return render_template(
        "episodes/copy_choose.html",
        found=found,
        item_id=item_id,
        chosen=chosen,
        error=error,
        page_title=("Error: " if error else "") + "Copy to other episodes",
    ), 400 if error else 200


@bp.get("/episodes/<int:episode_id>/items/<int:item_id>/copy/check")
def check_copy(episode_id: int, item_id: int) -> ResponseReturnValue:
    chosen = numbers(request.args.getlist("target"))[:MAX_CHOSEN]
    if not chosen:
        return redirect(url_for("episodes.copy", episode_id=episode_id, item_id=item_id, none=1), 303)
    try:
        plan = copy_preview.preview_copy(engine_context(), current_principal(), item_id, chosen)
    except Conflict as refusal:  # a target was closed meanwhile
        flash(refusal.message, "problem")
        return redirect(url_for("episodes.copy", episode_id=episode_id, item_id=item_id, target=chosen), 303)
    _require_episode(plan.source_episode.id, episode_id)
    return render_template(
        "episodes/copy_check.html",
        plan=plan,
        chosen=chosen,
        page_title="Check the copies before you make them",
    )


@bp.post("/episodes/<int:episode_id>/items/<int:item_id>/copy")
def make_copies(episode_id: int, item_id: int) -> ResponseReturnValue:
    chosen = numbers(request.form.getlist("target"))[:MAX_CHOSEN]
    source = episodes.get_work_item(engine_context(), current_principal(), item_id)
    _require_episode(source.episode_id, episode_id)
    try:
        report = episodes.copy_work_item(engine_context(), current_principal(), item_id, chosen)
    except (Conflict, InvalidInput) as refusal:
        flash(f"Nothing was copied. {refusal.message}", "problem")
        return redirect(url_for("episodes.copy", episode_id=episode_id, item_id=item_id, target=chosen), 303)
    done = len(report.copies)
    flash(f"'{source.title}' was copied into {done} episode{'s' if done != 1 else ''}.")
    return redirect(
        url_for("episodes.copies_made", episode_id=episode_id, item_id=item_id, copy=report.work_item_ids),
        303,
    )


@bp.get("/episodes/<int:episode_id>/items/<int:item_id>/copy/done")
def copies_made(episode_id: int, item_id: int) -> ResponseReturnValue:
    made = numbers(request.args.getlist("copy"))[:MAX_CHOSEN]
    plan = copy_preview.copy_outcome(engine_context(), current_principal(), item_id, made)
    _require_episode(plan.source_episode.id, episode_id)
    return render_template("episodes/copy_done.html", plan=plan, page_title="Copies made")


def _require_episode(actual: int, in_url: int) -> None:
    """The work item must be the episode's named in the address (else, for this address, it is not found)."""
    require(actual == in_url, "work item")
