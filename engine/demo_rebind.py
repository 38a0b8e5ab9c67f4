"""Re-bind the demo's sample cases to the synthetic LA's pupils and schools.

The sample cases come from the process scenarios, which name pupils and schools of their own. In the
demo they must be about pupils who exist, so that a pupil's record lists their cases and the school
user sees their own school's referrals. Each scenario UPN is given one synthetic pupil on roll today
(the same one every time it appears), each scenario school one synthetic secondary school — the first
one named, Riverside Academy (8012000), becomes the demo school user's school — and the names, dates of
birth, year groups and school names beside them are rewritten to match.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select

from .context import Context
from .models.people import Enrolment, Establishment, Pupil

_UPN = re.compile(r"^[A-HJ-NP-RTUWXYZ]\d{11}[0-9A-HJ-NP-RTUWXYZ]$")
_SCHOOL_KEYS = ("laestab", "school_laestab")


@dataclass(frozen=True)
class _Pupil:
    upn: str
    forename: str
    surname: str
    date_of_birth: date
    year_group: str | None


@dataclass(frozen=True)
class _School:
    laestab: str
    name: str


class Rebinder:
    """Keeps one mapping for all the cases, so a pupil or school named twice is re-bound the same way."""

    def __init__(self, ctx: Context, today: date, first_school: str, scenario_first_school: str) -> None:
        with ctx.db.transaction() as session:
            schools = session.execute(
                select(Establishment.id, Establishment.laestab, Establishment.name)
                .where(Establishment.phase == "secondary")
                .order_by(Establishment.laestab)
            ).all()
            on_roll = session.execute(
                select(
                    Enrolment.establishment_id,
                    Pupil.upn,
                    Pupil.forename,
                    Pupil.surname,
                    Pupil.date_of_birth,
                    Enrolment.year_group,
                )
                .join(Pupil, Pupil.id == Enrolment.pupil_id)
                .where(
                    Enrolment.start_date <= today,
                    (Enrolment.end_date.is_(None)) | (Enrolment.end_date >= today),
                    Pupil.upn.is_not(None),
                )
                .order_by(Enrolment.establishment_id, Pupil.id)
            ).all()
        ids = {laestab: id_ for id_, laestab, _ in schools}
        self._free = [_School(laestab, name) for _, laestab, name in schools]
        self._free.sort(key=lambda s: s.laestab != first_school)  # the demo school first
        self._pupils: dict[str, list[_Pupil]] = {s.laestab: [] for s in self._free}
        by_id = {v: k for k, v in ids.items()}
        for school_id, upn, forename, surname, born, year in on_roll:
            if school_id in by_id:
                self._pupils[by_id[school_id]].append(_Pupil(upn, forename, surname, born, year))
        self.schools: dict[str, _School] = {}
        self.pupils: dict[str, _Pupil] = {}
        self._scenario_first = scenario_first_school

    def case(self, case: dict[str, Any]) -> dict[str, Any]:
        """The case with its pupils and schools re-bound (a new dict; the given one is not changed)."""
        laestabs = [v for v in _values(case, _SCHOOL_KEYS) if isinstance(v, str)]
        for laestab in sorted(set(laestabs), key=lambda v: (v != self._scenario_first, laestabs.index(v))):
            self._school(laestab)
        home = self.schools[laestabs[0]] if laestabs else None
        upns = [v for v in _values(case, ("upn",)) if isinstance(v, str)]
        if isinstance(case.get("key"), str) and _UPN.match(case["key"]):
            upns.append(case["key"])
        for upn in upns:
            self._pupil(upn, home)
        return _rewrite(case, self)

    def _school(self, laestab: str) -> _School | None:
        if laestab not in self.schools and self._free:
            self.schools[laestab] = self._free[len(self.schools) % len(self._free)]
        return self.schools.get(laestab)

    def _pupil(self, upn: str, school: _School | None) -> None:
        if upn in self.pupils:
            return
        taken = {p.upn for p in self.pupils.values()}
        candidates = self._pupils.get(school.laestab, []) if school else []
        candidates = candidates or [p for ps in self._pupils.values() for p in ps]
        found = next((p for p in candidates if p.upn not in taken), None)
        if found is not None:
            self.pupils[upn] = found


def _values(value: Any, keys: tuple[str, ...]) -> list[Any]:
    if isinstance(value, dict):
        return [v for k, v in value.items() if k in keys] + [
            x for v in value.values() for x in _values(v, keys)
        ]
    if isinstance(value, list):
        return [x for v in value for x in _values(v, keys)]
    return []


def _rewrite(value: Any, rebinder: Rebinder) -> Any:
    if isinstance(value, list):
        return [_rewrite(v, rebinder) for v in value]
    if isinstance(value, str):
        pupil, school = rebinder.pupils.get(value), rebinder.schools.get(value)
        return pupil.upn if pupil else school.laestab if school else value
    if not isinstance(value, dict):
        return value
    out = {k: _rewrite(v, rebinder) for k, v in value.items()}
    pupil = rebinder.pupils.get(value.get("upn")) if isinstance(value.get("upn"), str) else None
    if pupil is not None:
        _set(out, value, "name", f"{pupil.forename} {pupil.surname}")
        _set(out, value, "pupil_name", f"{pupil.forename} {pupil.surname}")
        _set(out, value, "first_name", pupil.forename)
        _set(out, value, "last_name", pupil.surname)
        _set(out, value, "date_of_birth", pupil.date_of_birth.isoformat())
        _set(out, value, "dob", pupil.date_of_birth.isoformat())
        if pupil.year_group and pupil.year_group.isdigit():
            _set(
                out,
                value,
                "year_group",
                int(pupil.year_group) if isinstance(value.get("year_group"), int) else pupil.year_group,
            )
    school = rebinder.schools.get(value.get("laestab") or value.get("school_laestab") or "")
    if school is not None:
        _set(out, value, "name" if "laestab" in value else "school_name", school.name)
    return out


def _set(out: dict[str, Any], original: dict[str, Any], key: str, new: Any) -> None:
    if key in original:
        out[key] = new
