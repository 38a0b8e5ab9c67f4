"""Fields bound to an episode's subject.

A form marks a property as bound with ``"x-educase-bind": "<subject>.<value>"``::

    "pupil": {"type": "object", "properties": {
        "name": {"type": "string", "title": "Name", "readOnly": true, "x-educase-bind": "pupil.name"},
        "upn": {"type": "string", "title": "UPN", "readOnly": true, "x-educase-bind": "pupil.upn"}}}

Bound fields are filled from the subject (the pupil or establishment the episode is about) whenever a
work item is saved, and re-bound to the target's subject when it is copied. A field bound to a pupil
value has nothing to hold in an establishment's episode (and the other way round): it is left out.
Properties inside arrays cannot be bound (an array has no single subject).

An array of entries each about one pupil may say which of its item properties holds the pupil's UPN
with ``"x-educase-pupil-items": "upn"``: a copy into a pupil's episode keeps only that pupil's entries.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.errors import FormSchemaError
from engine.forms.validation import schemas_at

BIND = "x-educase-bind"
PUPIL_ITEMS = "x-educase-pupil-items"
PUPIL, ESTABLISHMENT = "pupil", "establishment"

#: Every value a field may be bound to, and what it holds.
BINDINGS = {
    "pupil.name": "the pupil's name as used (preferred forename and surname)",
    "pupil.forename": "the pupil's legal forename",
    "pupil.surname": "the pupil's surname",
    "pupil.upn": "the pupil's UPN",
    "pupil.date_of_birth": "the pupil's date of birth (YYYY-MM-DD)",
    "pupil.year_group": "the pupil's year group at their current school",
    "pupil.school_name": "the name of the pupil's current school",
    "pupil.school_laestab": "the LAESTAB of the pupil's current school",
    "establishment.name": "the establishment's name",
    "establishment.laestab": "the establishment's LAESTAB (DfE number)",
    "establishment.urn": "the establishment's URN",
}
_MAX_DEPTH = 12  # forms nest a few levels; a recursive $ref must not walk for ever

Path = tuple[str, ...]
_ABSENT = object()


@dataclass(frozen=True)
class Subject:
    """Who or what an episode is about, with the values its bound fields take (None: unknown)."""

    kind: str  # pupil / establishment
    id: int
    label: str  # a name to show
    reference: str | None  # UPN or LAESTAB
    values: Mapping[str, str | None] = field(default_factory=dict)


@dataclass(frozen=True)
class Bound:
    """Data after binding: ``filled`` paths took the subject's values; ``left_out`` had a value that
    does not belong to this kind of subject and were removed."""

    data: dict[str, Any]
    filled: list[str]
    left_out: list[str]


def bindings_of(schema: dict[str, Any], form_ref: str = "") -> dict[Path, str]:
    """The bound properties of a form: path (outside arrays) → binding name, e.g. ('pupil', 'upn')."""
    found: dict[Path, str] = {}
    _walk(schema, (), found, 0)
    unknown = sorted({name for name in found.values() if name not in BINDINGS})
    if unknown:
        known = ", ".join(BINDINGS)
        raise FormSchemaError(
            f"The form '{form_ref}' binds fields to {', '.join(map(repr, unknown))}; "
            f"x-educase-bind takes one of: {known}",
            form=form_ref,
        )
    return found


def _walk(root: dict[str, Any], path: Path, found: dict[Path, str], depth: int) -> None:
    if depth > _MAX_DEPTH:
        return
    names = dict.fromkeys(
        name
        for schema in schemas_at(root, path)
        if isinstance(schema.get("properties"), dict)
        for name in schema["properties"]
    )
    for name in names:
        sub = (*path, name)
        schemas = schemas_at(root, sub)
        bound = next((s[BIND] for s in schemas if BIND in s), None)
        if bound is not None:
            found[sub] = str(bound)
        else:
            _walk(root, sub, found, depth + 1)


def pupil_item_arrays(schema: dict[str, Any]) -> dict[Path, str]:
    """Arrays (outside other arrays) whose entries are each about one pupil: path → UPN property."""
    found: dict[Path, str] = {}

    def walk(path: Path, depth: int) -> None:
        names = dict.fromkeys(
            n
            for s in schemas_at(schema, path)
            if isinstance(s.get("properties"), dict)
            for n in s["properties"]
        )
        for name in names if depth <= _MAX_DEPTH else ():
            key = next((s[PUPIL_ITEMS] for s in schemas_at(schema, (*path, name)) if PUPIL_ITEMS in s), None)
            if key is not None:
                found[(*path, name)] = str(key)
            else:
                walk((*path, name), depth + 1)

    walk((), 0)
    return found


def bind(data: dict[str, Any], bindings: Mapping[Path, str], subject: Subject) -> Bound:
    """A copy of ``data`` with every bound field set from ``subject`` (or removed when it has no value
    or belongs to the other kind of subject)."""
    result = copy.deepcopy(data)
    filled: list[str] = []
    left_out: list[str] = []
    for path, name in sorted(bindings.items()):
        value = subject.values.get(name) if name.split(".")[0] == subject.kind else None
        if value is not None:
            set_at(result, path, value)
            filled.append(dotted(path))
        elif remove_at(result, path) and name.split(".")[0] != subject.kind:
            left_out.append(dotted(path))
    return Bound(result, filled, left_out)


def set_at(data: dict[str, Any], path: Path, value: Any) -> None:
    """Set ``data[path]``, making the objects on the way (a non-object in the way is replaced)."""
    node = data
    for key in path[:-1]:
        if not isinstance(node.get(key), dict):
            node[key] = {}
        node = node[key]
    node[path[-1]] = value


def remove_at(data: dict[str, Any], path: Path) -> bool:
    """Remove ``data[path]`` and the empty objects on the way to it; True when something was there."""
    parents = [data]
    for key in path[:-1]:
        child = parents[-1].get(key)
        if not isinstance(child, dict):
            return False
        parents.append(child)
    found = parents[-1].pop(path[-1], _ABSENT) is not _ABSENT
    for depth in range(len(path) - 1, 0, -1):  # an object holding only bound fields goes with them
        if parents[depth]:
            break
        del parents[depth - 1][path[depth - 1]]
    return found


def get_at(data: Any, path: Path) -> Any:
    """``data[path]``, or None when any step is missing."""
    for key in path:
        data = data.get(key) if isinstance(data, dict) else None
    return data


def dotted(path: tuple[str | int, ...]) -> str:
    return ".".join(str(part) for part in path)
