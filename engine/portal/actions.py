"""What each portal action asks, and what it fills in from the school's roll.

A school starts an action about one pupil on its roll. The details that identify the pupil and the
school are filled in from the LA's records and shown read-only (the school cannot send a case about
another school, or a pupil under someone else's name); the rest of the form is the school's to fill.
On submission the read-only answers are put back from the records, whatever the browser sent.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

Path = tuple[str, ...]


@dataclass(frozen=True)
class School:
    """The school user's establishment."""

    id: int
    laestab: str
    urn: str | None
    name: str


@dataclass(frozen=True)
class RollPupil:
    """A pupil on a school's roll, with their enrolment there."""

    id: int
    upn: str | None
    forename: str
    surname: str
    preferred_forename: str | None
    date_of_birth: date
    year_group: str | None
    registration: str
    start_date: date
    end_date: date | None

    @property
    def name(self) -> str:
        """The name the pupil uses (preferred forename and surname)."""
        return f"{self.preferred_forename or self.forename} {self.surname}"


@dataclass(frozen=True)
class Action:
    """One thing a school can send about a pupil.

    ``form_ref`` None: the start form of ``process_id``'s latest version. ``fixed``: the answers filled
    in from the records that the school may not change. ``hidden``: questions of the form that are not
    the school's (a note the LA's process writes). ``empty``: lists a school answers by listing nothing
    (a form cannot send an empty list: "no earlier suspensions" is no entry at all).
    """

    key: str
    process_id: str | None
    form_ref: str | None
    prefill: Callable[[RollPupil, School, date], dict[str, Any]]
    fixed: tuple[Path, ...]
    hidden: tuple[Path, ...] = ()
    empty: tuple[str, ...] = ()


def _referral(pupil: RollPupil, school: School, today: date) -> dict[str, Any]:
    return {
        "pupil": {
            "upn": pupil.upn,
            "name": pupil.name,
            "date_of_birth": pupil.date_of_birth.isoformat(),
            "year_group": pupil.year_group,
        },
        "school": {"name": school.name, "laestab": school.laestab},
    }


def _exclusion(pupil: RollPupil, school: School, today: date) -> dict[str, Any]:
    return {
        "pupil": {
            "upn": pupil.upn,
            "name": pupil.name,
            "dob": pupil.date_of_birth.isoformat(),
            "school_laestab": school.laestab,
            "school_name": school.name,
        }
    }


def _ap_request(pupil: RollPupil, school: School, today: date) -> dict[str, Any]:
    return {
        "pupil": {
            "first_name": pupil.forename,
            "last_name": pupil.surname,
            "date_of_birth": pupil.date_of_birth.isoformat(),
            "upn": pupil.upn,
            "year_group": pupil.year_group,
        },
        "home_school": {"name": school.name, "urn": school.urn},
    }


def _deletion(pupil: RollPupil, school: School, today: date) -> dict[str, Any]:
    return {
        "pupil": {"name": pupil.name, "upn": pupil.upn, "date_of_birth": pupil.date_of_birth.isoformat()},
        "school": {"name": school.name, "laestab": school.laestab},
    }


REFERRAL = Action(
    "referral",
    "absence_referral",
    None,
    _referral,
    (
        ("pupil", "upn"),
        ("pupil", "name"),
        ("pupil", "date_of_birth"),
        ("school", "name"),
        ("school", "laestab"),
    ),
)
EXCLUSION = Action(
    "exclusion",
    "exclusion_review",
    None,
    _exclusion,
    tuple(("pupil", name) for name in ("upn", "name", "dob", "school_laestab", "school_name")),
    empty=("suspensions_this_year", "suspensions_this_term"),
)
AP_REQUEST = Action(
    "ap_request",
    "ap_placement",
    "ap_placement-request.schema.json",  # the form of the process's first task, which the school fills
    _ap_request,
    (
        ("placement_ref",),
        *(("pupil", name) for name in ("first_name", "last_name", "date_of_birth", "upn")),
        ("home_school", "name"),
        ("home_school", "urn"),
    ),
    hidden=(("request_problem",),),
)
DELETION = Action(
    "deletion",
    "cme_enquiry",  # started only for the grounds that leave the child's education unknown
    "portal-deletion-return.schema.json",
    _deletion,
    (
        ("pupil", "name"),
        ("pupil", "upn"),
        ("pupil", "date_of_birth"),
        ("school", "name"),
        ("school", "laestab"),
    ),
)
ACTIONS = {action.key: action for action in (REFERRAL, EXCLUSION, AP_REQUEST, DELETION)}


def prefilled(
    action: Action, pupil: RollPupil, school: School, today: date, extra: dict[str, Any] | None = None
) -> tuple[dict[str, Any], list[Path]]:
    """The answers filled in for ``pupil`` (and ``extra`` ones the service worked out, such as a new
    reference), without empty ones, and the paths fixed among them (a value the records do not have,
    such as a missing UPN, is left for the school to give)."""
    data = _without_empty({**action.prefill(pupil, school, today), **(extra or {})})
    return data, [path for path in action.fixed if value_at(data, path) is not None]


def read_only(
    ui_schema: dict[str, Any] | None, paths: list[Path], hidden: tuple[Path, ...] = ()
) -> dict[str, Any]:
    """A copy of ``ui_schema`` showing each of ``paths`` read-only, and not showing ``hidden``."""
    ui = copy.deepcopy(ui_schema) if ui_schema else {}
    for path, setting in [
        *((p, ("ui:readonly", True)) for p in paths),
        *((p, ("ui:widget", "hidden")) for p in hidden),
    ]:
        node = ui
        for key in path:
            child = node.get(key)
            node[key] = child = child if isinstance(child, dict) else {}
            node = child
        node[setting[0]] = setting[1]
    return ui


def completed(action: Action, answers: dict[str, Any]) -> dict[str, Any]:
    """``answers`` with the lists the school left empty given as empty lists."""
    return {**{name: [] for name in action.empty}, **answers}


def forced(data: dict[str, Any], fixed_from: dict[str, Any], paths: list[Path]) -> dict[str, Any]:
    """A copy of ``data`` with each of ``paths`` set from ``fixed_from``."""
    result = copy.deepcopy(data)
    for path in paths:
        node = result
        for key in path[:-1]:
            child = node.get(key)
            node[key] = child = child if isinstance(child, dict) else {}
            node = child
        node[path[-1]] = value_at(fixed_from, path)
    return result


def value_at(data: Any, path: Path) -> Any:
    for key in path:
        data = data.get(key) if isinstance(data, dict) else None
    return data


def _without_empty(data: dict[str, Any]) -> dict[str, Any]:
    cleaned: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            value = _without_empty(value)
        if value not in (None, "", {}):
            cleaned[key] = value
    return cleaned
