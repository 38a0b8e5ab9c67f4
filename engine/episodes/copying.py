"""Carrying a work item's data into another episode (pure: no database).

The copy keeps what the target form still declares, leaves out what was bound to the source's subject
and binds the target's subject instead, and keeps only the target pupil's entries in arrays marked
``x-educase-pupil-items``. Every value left behind is listed, with why, so a person can check the copy.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from engine.forms import filter_data

from .binding import PUPIL, Subject, bind, bindings_of, dotted, get_at, pupil_item_arrays, remove_at

NOT_IN_FORM = "not in the form the copy was made on"


@dataclass(frozen=True)
class DroppedField:
    """A value the copy did not keep: ``path`` is dotted, ``*`` standing for any entry of a list."""

    path: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "reason": self.reason}


@dataclass(frozen=True)
class CopiedData:
    data: dict[str, Any]
    rebound: list[str]
    dropped: list[DroppedField]


def copy_data(
    data: dict[str, Any],
    source_schema: dict[str, Any],
    target_schema: dict[str, Any],
    target: Subject,
    *,
    source_ref: str = "",
    target_ref: str = "",
) -> CopiedData:
    """``data`` (made on ``source_schema``) as it goes into an episode about ``target`` on ``target_schema``.

    The result shares nothing with ``data``: later changes to either leave the other as it was.
    """
    own = copy.deepcopy(data)
    source_bindings = bindings_of(source_schema, source_ref)
    carried = {path: name for path, name in sorted(source_bindings.items()) if remove_at(own, path)}
    dropped = _keep_target_pupils_entries(own, pupil_item_arrays(source_schema), target)
    kept = filter_data(target_schema, own)
    dropped += [DroppedField(path, NOT_IN_FORM) for path in sorted(leaf_paths(own) - leaf_paths(kept))]
    target_bindings = bindings_of(target_schema, target_ref)
    bound = bind(kept, target_bindings, target)
    dropped += [
        DroppedField(dotted(path), _not_rebound(name, target))
        for path, name in carried.items()
        if dotted(path) not in bound.filled
    ]
    names = {dotted(path): name for path, name in target_bindings.items()}
    dropped += [
        DroppedField(path, f"the form binds it to {names[path]}; the episode is about {_a(target.kind)}")
        for path in bound.left_out
    ]
    return CopiedData(bound.data, bound.filled, sorted(dropped, key=lambda d: d.path))


def _not_rebound(binding: str, target: Subject) -> str:
    about = binding.split(".")[0]
    if about != target.kind:
        return f"about the source's {about} ({binding}); the target episode is about {_a(target.kind)}"
    return f"about the source's {about} ({binding}); the target has no value for it"


def _keep_target_pupils_entries(
    data: dict[str, Any], arrays: dict[tuple[str, ...], str], target: Subject
) -> list[DroppedField]:
    """In a pupil's episode, an array of per-pupil entries keeps only that pupil's entries."""
    dropped = []
    upn = target.reference if target.kind == PUPIL else None
    for path, key in sorted(arrays.items()) if target.kind == PUPIL else ():
        entries = get_at(data, path)
        if not isinstance(entries, list):
            continue
        mine = [e for e in entries if isinstance(e, dict) and upn is not None and e.get(key) == upn]
        if len(mine) < len(entries):
            others = len(entries) - len(mine)
            reason = f"{others} {'entry' if others == 1 else 'entries'} about other pupils"
            dropped.append(DroppedField(f"{dotted(path)}.*", reason))
            entries[:] = mine
    return dropped


def leaf_paths(value: Any, prefix: tuple[str, ...] = ()) -> set[str]:
    """The dotted paths of every answer in ``value`` (``*`` for list entries; empty containers count)."""
    if isinstance(value, dict) and value:
        return set().union(*(leaf_paths(v, (*prefix, str(k))) for k, v in value.items()))
    if isinstance(value, list) and value:
        return set().union(*(leaf_paths(v, (*prefix, "*")) for v in value))
    return {dotted(prefix)} if prefix else set()


def _a(kind: str) -> str:
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"
