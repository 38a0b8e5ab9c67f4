"""Kinds that read records rather than scan every mark: hours of education below a threshold, an AP
placement with no attendance, and an exclusion reaching day K without provision.

Each record gives one episode (key ``timetable:ID``, ``placement:ID``, ``exclusion:ID``) with the
period during which its condition holds; marks are read only for the few enrolments concerned.
School days are counted on the establishment's own calendar (the LA's terms plus its closures).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np

from ...attendance.layout import end_offset, offset_of, school_year_of, session_at
from ...calendar import CalendarError, SchoolCalendar
from .base import ATTENDED, Episode, Frame, KindSpec, Param, day_text

SOURCES = ("part_time_timetable", "ap_placement")
EXCLUSION_KINDS = ("suspension", "permanent", "lunchtime")


@dataclass(frozen=True)
class EnrolmentInfo:
    id: int
    pupil_id: int
    establishment_id: int
    start: date
    end: date | None


@dataclass(frozen=True)
class TimetableRecord:
    id: int
    enrolment_id: int
    hours_per_week: float
    start: date
    review: date
    end: date | None = None
    agreed_with_parent: bool = True


@dataclass(frozen=True)
class PlacementRecord:
    id: int
    pupil_id: int
    provider_id: int
    home_enrolment_id: int | None
    proposed_start: date
    actual_start: date | None = None
    end: date | None = None
    hours_per_week: float | None = None
    arranged_by: str = "la"


@dataclass(frozen=True)
class ExclusionRecord:
    id: int
    enrolment_id: int
    kind: str
    start: date
    length_days: float | None


@dataclass
class Records:
    """What the record kinds read: enrolments, timetables, placements, exclusions, this school year's
    mark strings of the enrolments concerned, and establishments' ``(laestab, name)``."""

    enrolments: dict[int, EnrolmentInfo]
    timetables: list[TimetableRecord] = field(default_factory=list)
    placements: list[PlacementRecord] = field(default_factory=list)
    exclusions: list[ExclusionRecord] = field(default_factory=list)
    marks: dict[int, bytes] = field(default_factory=dict)
    establishments: dict[int, tuple[str, str]] = field(default_factory=dict)

    def enrolments_of(self, pupil_id: int) -> list[EnrolmentInfo]:
        """The pupil's enrolments among those loaded."""
        if not hasattr(self, "_by_pupil"):
            self._by_pupil: dict[int, list[EnrolmentInfo]] = {}
            for e in self.enrolments.values():
                self._by_pupil.setdefault(e.pupil_id, []).append(e)
        return self._by_pupil.get(pupil_id, [])


def _period(frame: Frame, start: date, stop: date | None) -> tuple[date, bool] | None:
    """``(last, ongoing)`` of a condition holding from ``start`` to ``stop`` (open-ended: None), or None
    when it is not to be raised in the frame's span."""
    horizon = frame.horizon_day
    last = horizon if stop is None or stop >= horizon else stop
    if start > horizon or last < start or not frame.span.alertable_dates(frame.timeline, start, last):
        return None
    return last, last == horizon and (stop is None or stop >= horizon)


def _earliest(*days: date | None) -> date | None:
    known = [d for d in days if d is not None]
    return min(known) if known else None


def _first_attended(records: Records, enrolment_ids: list[int], first: date, horizon: date) -> date | None:
    """The first day on or after ``first`` (this school year, up to ``horizon``) with an attended session."""
    school_year = school_year_of(horizon)
    begin = offset_of(first, 0) if school_year_of(first) == school_year else 0
    found: list[int] = []
    for enrolment_id in enrolment_ids:
        marks = records.marks.get(enrolment_id)
        if marks:
            hits = np.nonzero(ATTENDED[np.frombuffer(marks, dtype=np.uint8)[begin : end_offset(horizon)]])[0]
            found += [begin + int(hits[0])] if len(hits) else []
    return session_at(school_year, min(found))[0] if found else None


def _name(records: Records, establishment_id: int | None) -> dict[str, str | None]:
    laestab, name = records.establishments.get(establishment_id or -1, (None, None))
    return {"laestab": laestab, "name": name}


# --- hours of education below a threshold ------------------------------------------------------------


def hours_below(params: dict[str, Any], records: Records, frame: Frame) -> list[Episode]:
    """Part-time timetables and AP placements of fewer than ``hours`` a week, while they last."""
    threshold, out = params["hours"], []
    for t in records.timetables if "part_time_timetable" in params["sources"] else []:
        enrolment = records.enrolments.get(t.enrolment_id)
        found = _period(frame, t.start, _earliest(t.end, enrolment and enrolment.end))
        if enrolment is None or t.hours_per_week >= threshold or found is None:
            continue
        overdue = t.review < frame.horizon_day
        facts = {
            "source": "part_time_timetable", "timetable_id": t.id, "hours_per_week": t.hours_per_week,
            "threshold_hours": threshold, "start": t.start.isoformat(), "review_date": t.review.isoformat(),
            "review_overdue": overdue, "agreed_with_parent": t.agreed_with_parent,
        }  # fmt: skip
        summary = (
            f"part-time timetable of {t.hours_per_week:g} hours a week since {day_text(t.start)} "
            f"(under {threshold:g}); review {'overdue since' if overdue else 'due'} {day_text(t.review)}"
        )
        out.append(Episode(enrolment.id, enrolment.pupil_id, enrolment.establishment_id,
                           f"timetable:{t.id}", t.start, t.start, *found, facts, summary))  # fmt: skip
    for p in records.placements if "ap_placement" in params["sources"] else []:
        start = p.actual_start or p.proposed_start
        found = _period(frame, start, p.end)
        if p.hours_per_week is None or p.hours_per_week >= threshold or found is None:
            continue
        enrolment_id, establishment_id = _placement_subject(records, p)
        facts = {
            "source": "ap_placement", "placement_id": p.id, "hours_per_week": p.hours_per_week,
            "threshold_hours": threshold, "start": start.isoformat(), "provider": _name(records, p.provider_id),
        }  # fmt: skip
        summary = (
            f"AP placement of {p.hours_per_week:g} hours a week since {day_text(start)} (under {threshold:g})"
        )
        out.append(Episode(enrolment_id, p.pupil_id, establishment_id, f"placement:{p.id}", start, start,
                           *found, facts, summary))  # fmt: skip
    return out


def _placement_subject(records: Records, p: PlacementRecord) -> tuple[int | None, int | None]:
    """The enrolment an AP alert concerns: the home school's, else the provider's, else the latest."""
    home = records.enrolments.get(p.home_enrolment_id or -1)
    if home is not None:
        return home.id, home.establishment_id
    enrolments = sorted(records.enrolments_of(p.pupil_id), key=lambda e: e.start)
    at_provider = [e for e in enrolments if e.establishment_id == p.provider_id]
    chosen = (at_provider or enrolments or [None])[-1]
    return (chosen.id, chosen.establishment_id) if chosen else (None, p.provider_id)


# --- AP placement with no attendance -----------------------------------------------------------------


def ap_no_attendance(params: dict[str, Any], records: Records, frame: Frame) -> list[Episode]:
    """The proposed start passed ``grace_school_days`` school days ago (the provider's calendar) and no
    attended session (present or approved educational activity) is recorded at the provider."""
    out = []
    for p in records.placements:
        calendar = frame.calendar_of(p.provider_id)
        try:
            reached = calendar.add_school_days(p.proposed_start, params["grace_school_days"])
        except CalendarError:
            continue
        at_provider = [e.id for e in records.enrolments_of(p.pupil_id) if e.establishment_id == p.provider_id]
        attended = _earliest(
            p.actual_start, _first_attended(records, at_provider, p.proposed_start, frame.horizon_day)
        )
        found = _period(frame, reached, _earliest(p.end, attended and attended - timedelta(days=1)))
        if found is None:
            continue
        waited = calendar.school_days_between(p.proposed_start, found[0])
        enrolment_id, establishment_id = _placement_subject(records, p)
        provider = _name(records, p.provider_id)
        facts = {
            "placement_id": p.id, "provider": provider, "arranged_by": p.arranged_by,
            "proposed_start": p.proposed_start.isoformat(), "grace_school_days": params["grace_school_days"],
            "school_days_since_proposed_start": waited, "attended_sessions": 0,
            "provider_enrolments_checked": at_provider,
        }  # fmt: skip
        summary = (
            f"AP placement at {provider['name'] or 'the provider'} was to start {day_text(p.proposed_start)}: "
            f"no attendance recorded after {waited} school days"
        )
        out.append(Episode(enrolment_id, p.pupil_id, establishment_id, f"placement:{p.id}", p.proposed_start,
                           reached, *found, facts, summary))  # fmt: skip
    return out


# --- exclusion reaching day K without provision ---------------------------------------------------------


@dataclass
class _Period:
    start: date
    end: date | None  # None: permanent
    exclusions: list[ExclusionRecord]


def _periods(exclusions: list[ExclusionRecord], calendar: SchoolCalendar) -> Iterator[_Period]:
    """Consecutive school days of exclusion; back-to-back (or overlapping) exclusions are one period.
    A suspension running past the loaded terms ends, as far as we know, after them (``date.max``)."""
    current: _Period | None = None
    for item in sorted(exclusions, key=lambda x: (x.start, x.id)):
        try:
            start = item.start if calendar.is_school_day(item.start) else calendar.next_school_day(item.start)
        except CalendarError:
            continue
        end = (
            None if item.kind == "permanent" else _last_day(calendar, start, math.ceil(item.length_days or 1))
        )
        if current is not None and _joins(calendar, current.end, start):
            current.end = None if current.end is None or end is None else max(current.end, end)
            current.exclusions.append(item)
            continue
        if current is not None:
            yield current
        current = _Period(start, end, [item])
    if current is not None:
        yield current


def _last_day(calendar: SchoolCalendar, start: date, days: int) -> date:
    try:
        return calendar.add_school_days(start, days - 1)
    except CalendarError:
        return date.max


def _joins(calendar: SchoolCalendar, end: date | None, start: date) -> bool:
    """Whether an exclusion starting on ``start`` continues a period ending on ``end``."""
    if end is None or end >= calendar.last_day:
        return True
    return start <= calendar.next_school_day(end)


def exclusion_day(params: dict[str, Any], records: Records, frame: Frame) -> list[Episode]:
    """The ``day``-th consecutive school day of exclusion is reached with no provision recorded: no AP
    placement starting by then, and no attended session at any of the pupil's enrolments since."""
    by_enrolment: dict[int, list[ExclusionRecord]] = {}
    for item in records.exclusions:
        if item.kind in params["kinds"]:
            by_enrolment.setdefault(item.enrolment_id, []).append(item)
    out = []
    for enrolment_id, items in by_enrolment.items():
        enrolment = records.enrolments.get(enrolment_id)
        if enrolment is None:
            continue
        calendar = frame.calendar_of(enrolment.establishment_id)
        for period in _periods(items, calendar):
            episode = _exclusion_episode(params, records, frame, enrolment, calendar, period)
            if episode is not None:
                out.append(episode)
    return out


def _exclusion_episode(params: dict[str, Any], records: Records, frame: Frame, enrolment: EnrolmentInfo,
                       calendar: SchoolCalendar, period: _Period) -> Episode | None:  # fmt: skip
    try:
        day_k = calendar.add_school_days(period.start, params["day"] - 1)
    except CalendarError:
        return None
    if period.end is not None and day_k > period.end:
        return None
    pupil_enrolments = [e.id for e in records.enrolments_of(enrolment.pupil_id)]
    placements = [p.actual_start or p.proposed_start for p in records.placements
                  if p.pupil_id == enrolment.pupil_id and (p.end is None or p.end >= day_k)]  # fmt: skip
    provision = _earliest(*placements, _first_attended(records, pupil_enrolments, day_k, frame.horizon_day))
    permanent = any(x.kind == "permanent" for x in period.exclusions)
    stop = _earliest(
        period.end, None if permanent else enrolment.end, provision and provision - timedelta(days=1)
    )
    found = _period(frame, day_k, stop)
    if found is None or (provision is not None and provision <= day_k):
        return None
    duty = "local authority" if permanent else "school"
    facts = {
        "day": params["day"], "day_reached_on": day_k.isoformat(), "period_start": period.start.isoformat(),
        "period_end": period.end.isoformat() if period.end else None,
        "school_days_excluded": calendar.school_days_between(period.start, found[0]) + 1,
        "exclusions": [{"id": x.id, "kind": x.kind, "start": x.start.isoformat(), "length_days": x.length_days}
                       for x in period.exclusions],
        "provision_recorded": None, "duty_to_provide": duty,
    }  # fmt: skip
    kinds = " and ".join(sorted({x.kind for x in period.exclusions}))
    summary = (
        f"day {params['day']} of exclusion ({kinds} from {day_text(period.start)}) reached on "
        f"{day_text(day_k)} with no provision recorded: the {duty} must provide full-time education"
    )
    return Episode(enrolment.id, enrolment.pupil_id, enrolment.establishment_id,
                   f"exclusion:{period.exclusions[0].id}", period.start, day_k, *found, facts, summary)  # fmt: skip


KINDS = (
    KindSpec(
        "hours_below_threshold", "records",
        "A part-time timetable or AP placement of fewer than `hours` hours a week (a local criterion).",
        (
            Param("hours", "number", "hours a week counted as full time locally", default=25, minimum=0.5,
                  maximum=40),
            Param("sources", "choices", "which records", default=list(SOURCES), choices=SOURCES),
        ),
        hours_below, continuous=False,
    ),
    KindSpec(
        "ap_no_attendance", "records",
        "An AP placement's proposed start passed `grace_school_days` school days ago with no attendance "
        "recorded at the provider.",
        (Param("grace_school_days", "int", "school days after the proposed start", default=2, minimum=0,
               maximum=60),),
        ap_no_attendance, continuous=False,
    ),
    KindSpec(
        "exclusion_without_provision", "records",
        "The `day`-th consecutive school day of exclusion (back-to-back suspensions are one period) with "
        "no provision recorded.",
        (
            Param("day", "int", "school day of the exclusion", default=6, minimum=1, maximum=45),
            Param("kinds", "choices", "exclusion kinds", default=["suspension", "permanent"],
                  choices=EXCLUSION_KINDS),
        ),
        exclusion_day, continuous=False,
    ),
)  # fmt: skip
