"""A synthetic LA for demonstrations and benchmarks: establishments, pupils with valid UPNs,
enrolments (some dual-registered at a PRU), shared flags, then a school year of marks
(:mod:`.demo_marks`) and the cases alert rules must find (:mod:`.demo_cases`).

Everything is drawn from one seeded generator, so the same seed gives the same LA. Rows are plain
tuples with ids, ready for :func:`engine.attendance.bulk.insert_rows`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np

from ..calendar import SchoolCalendar
from . import demo_cases, demo_marks
from .demo_names import FORENAMES, PLACES, PRIMARY_STYLES, SECONDARY_STYLES, STREETS, SURNAMES
from .identifiers import make_upn
from .layout import school_year_of, year_start

LA_NUMBER = 881
PUPILS_PER_PRIMARY = 300
PUPILS_PER_SECONDARY = 1000
PUPILS_PER_PRU = 100_000

FLAG_RATES = {"EHCP": 0.03, "SEN_SUPPORT": 0.13, "CLA": 0.007, "CIN": 0.02, "CP": 0.005, "YOUNG_CARER": 0.01}
FLAG_OWNERS = {
    "EHCP": ("SEND service", []),
    "SEN_SUPPORT": ("school", []),
    "CLA": ("Children's Social Care", ["virtual_school", "ewo", "managers"]),
    "CIN": ("Children's Social Care", ["ewo", "managers"]),
    "CP": ("Children's Social Care", ["safeguarding", "managers"]),
    "YOUNG_CARER": ("Early Help", ["ewo"]),
}


@dataclass
class DemoLA:
    """A generated LA, as rows ready to insert. ``marks[i]`` belongs to ``enrolments[i]``."""

    school_year: int
    as_of: date
    establishments: list[tuple[Any, ...]] = field(default_factory=list)
    pupils: list[tuple[Any, ...]] = field(default_factory=list)
    enrolments: list[tuple[Any, ...]] = field(default_factory=list)
    marks: np.ndarray = field(default_factory=lambda: np.zeros((0, 732), dtype=np.uint8))
    flags: list[tuple[Any, ...]] = field(default_factory=list)
    timetables: list[tuple[Any, ...]] = field(default_factory=list)
    placements: list[tuple[Any, ...]] = field(default_factory=list)
    exclusions: list[tuple[Any, ...]] = field(default_factory=list)
    cases: list[dict[str, str]] = field(default_factory=list)


ESTABLISHMENT_COLUMNS = ("id", "laestab", "urn", "name", "phase", "type", "is_alternative_provision")
PUPIL_COLUMNS = ("id", "upn", "upn_temporary", "uln", "forename", "surname", "date_of_birth", "sex", "address",
                 "postcode")  # fmt: skip
ENROLMENT_COLUMNS = ("id", "pupil_id", "establishment_id", "registration", "year_group", "start_date", "end_date",
                     "deletion_ground")  # fmt: skip
FLAG_COLUMNS = ("pupil_id", "flag", "set_by_service", "visible_to", "start_date")


@dataclass
class _School:
    id: int
    number: int
    phase: str
    weight: float


def build(
    calendar: SchoolCalendar, n_pupils: int, seed: int, as_of: date, first_ids: dict[str, int]
) -> DemoLA:
    """Generate the LA; ``first_ids`` gives the first free id of each table (establishment, pupil, enrolment)."""
    rng, rnd = np.random.default_rng(seed), random.Random(seed)
    la = DemoLA(school_year_of(as_of), as_of)
    schools = _establishments(la, n_pupils, rnd, first_ids["establishment"])
    _pupils(la, schools, n_pupils, rng, rnd, first_ids)
    la.marks = demo_marks.generate(calendar, la, rng)
    demo_cases.plant(calendar, la, schools_by_phase(schools), rnd, first_ids)
    return la


def schools_by_phase(schools: list[_School]) -> dict[str, list[int]]:
    """Establishment ids by phase (``primary``, ``secondary``, ``pru``, ``ap``)."""
    found: dict[str, list[int]] = {}
    for school in schools:
        found.setdefault(school.phase, []).append(school.id)
    return found


def _establishments(la: DemoLA, n_pupils: int, rnd: random.Random, first_id: int) -> list[_School]:
    counts = {
        "primary": max(2, round(n_pupils * 7 / 12 / PUPILS_PER_PRIMARY)),
        "secondary": max(1, round(n_pupils * 5 / 12 / PUPILS_PER_SECONDARY)),
        "pru": max(1, round(n_pupils / PUPILS_PER_PRU)),
        "ap": 1,
    }
    names = {
        "primary": [f"{p} {s}" for s in PRIMARY_STYLES for p in PLACES],
        "secondary": [f"{p} {s}" for s in SECONDARY_STYLES for p in PLACES],
    }
    for options in names.values():
        rnd.shuffle(options)
    schools: list[_School] = []
    first_number = {"primary": 2001, "secondary": 4001, "pru": 1100, "ap": 1150}
    for phase, count in counts.items():
        for i in range(count):
            school = _School(
                first_id + len(schools), first_number[phase] + i, phase, rnd.lognormvariate(0, 0.35)
            )
            schools.append(school)
            la.establishments.append(_establishment_row(school, i, names.get(phase, [])))
    return schools


def _establishment_row(school: _School, i: int, names: list[str]) -> tuple[Any, ...]:
    phase, kind, ap = {
        "primary": ("primary", "community", False),
        "secondary": ("secondary", "academy", False),
        "pru": ("not_applicable", "pru", True),
        "ap": ("not_applicable", "ap_other", True),
    }[school.phase]
    if school.phase == "pru":
        name = f"{PLACES[i % len(PLACES)]} Pupil Referral Unit"
    elif school.phase == "ap":
        name = "Bridges Alternative Provision"
    else:
        name = names[i % len(names)] + (f" ({i // len(names) + 1})" if i >= len(names) else "")
    laestab = f"{LA_NUMBER}{school.number:04d}"
    return (school.id, laestab, f"{100000 + school.id:06d}", name, phase, kind, ap)


def _pupils(
    la: DemoLA,
    schools: list[_School],
    n: int,
    rng: np.random.Generator,
    rnd: random.Random,
    ids: dict[str, int],
) -> None:
    primaries = [s for s in schools if s.phase == "primary"]
    secondaries = [s for s in schools if s.phase == "secondary"]
    year_groups = rng.integers(0, 12, n)  # 0 = reception .. 11 = year 11
    serials: dict[tuple[int, int], int] = {}
    start_of_year = year_start(la.school_year)
    for i in range(n):
        yg = int(year_groups[i])
        school = rnd.choices(
            primaries if yg <= 6 else secondaries, weights=_weights(primaries if yg <= 6 else secondaries)
        )[0]
        entry_year = la.school_year - yg  # reception entry, when the UPN was issued
        issuer = school if yg <= 6 else rnd.choice(primaries)
        upn = _upn(serials, issuer, primaries, entry_year, temporary=rnd.random() < 0.002)
        pupil_id = ids["pupil"] + i
        born = date(la.school_year - 5 - yg, 9, 1) + timedelta(days=rnd.randrange(365))
        sex = rnd.choice("MF")
        la.pupils.append((
            pupil_id, upn, upn[-1].isalpha(), None, rnd.choice(FORENAMES), rnd.choice(SURNAMES), born, sex,
            f"{rnd.randrange(1, 200)} {rnd.choice(STREETS)}\n{PLACES[school.id % len(PLACES)]}",
            f"EX{rnd.randrange(1, 30)} {rnd.randrange(1, 10)}{rnd.choice('ABDEFGHJLNPQRSTUWXYZ')}{rnd.choice('ABDEFGHJLNPQRSTUWXYZ')}",
        ))  # fmt: skip
        start = date(la.school_year - (yg if yg <= 6 else yg - 7), 9, 3)
        end, ground = None, None
        roll = rnd.random()
        if roll < 0.02:  # joined during this school year
            start = start_of_year + timedelta(days=rnd.randrange(30, 200))
        elif roll < 0.03:  # left during this school year
            end, ground = (
                start_of_year + timedelta(days=rnd.randrange(60, 250)),
                rnd.choice(["moved_away", "registered_elsewhere"]),
            )
        enrolment_id = ids["enrolment"] + len(la.enrolments)
        year_label = "R" if yg == 0 else str(yg)
        la.enrolments.append((enrolment_id, pupil_id, school.id, "single", year_label, start, end, ground))
        _flags(la, pupil_id, rnd, start_of_year)


def _weights(schools: list[_School]) -> list[float]:
    return [s.weight for s in schools]


def _upn(
    serials: dict[tuple[int, int, bool], int],
    issuer: _School,
    primaries: list[_School],
    year: int,
    temporary: bool,
) -> str:
    """The next UPN issued by ``issuer`` in ``year`` (the next primary's when its serials run out)."""
    limit, school = (99 if temporary else 999), issuer
    for step in range(1, len(primaries) + 1):
        if serials.get((school.number, year, temporary), 0) < limit:
            break
        school = primaries[(primaries.index(issuer) + step) % len(primaries)]
    serial = serials[(school.number, year, temporary)] = serials.get((school.number, year, temporary), 0) + 1
    if temporary:
        return make_upn(LA_NUMBER, school.number, year, serial, "T")
    return make_upn(LA_NUMBER, school.number, year, serial)


def _flags(la: DemoLA, pupil_id: int, rnd: random.Random, start_of_year: date) -> None:
    for flag, rate in FLAG_RATES.items():
        if rnd.random() < rate:
            service, visible_to = FLAG_OWNERS[flag]
            la.flags.append(
                (pupil_id, flag, service, visible_to, start_of_year - timedelta(days=rnd.randrange(30, 900)))
            )
