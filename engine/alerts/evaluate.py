"""Run rules over the mark store and the records: which episodes each rule finds in a span of days.

Pure: the caller supplies the population (enrolments, establishments, flags), batches of mark strings
(streamed from the store, so memory stays bounded whatever the LA's size) and the records. Every
``marks`` rule sees each batch once, gathered onto the timeline's school-day sessions; ``records``
rules run once. Scope (phase, establishment type, flag) is applied before a rule looks at anything.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

import numpy as np

from ..calendar import SchoolCalendar
from . import timeline as timelines
from .kinds import Chunk, Episode, Frame
from .kinds.records import Records
from .rules import Rule
from .timeline import Span, Timeline

BATCH_ROWS = 25_000
NEVER = date.max.toordinal()


@dataclass(frozen=True)
class EstablishmentInfo:
    laestab: str
    name: str
    phase: str
    type: str


@dataclass
class Population:
    """Every enrolment (arrays sorted by id), establishments, and the flags active at the horizon
    (``pupil_id -> [{"flag": "CLA", "visible_to": [...]}]``)."""

    enrolment_ids: np.ndarray
    pupil_ids: np.ndarray
    establishment_ids: np.ndarray
    end_ordinals: np.ndarray  # date.toordinal() of the end date; NEVER when still on roll
    establishments: dict[int, EstablishmentInfo] = field(default_factory=dict)
    flags: dict[int, list[dict[str, Any]]] = field(default_factory=dict)

    @classmethod
    def of(cls, rows: Iterable[tuple[int, int, int, date | None]], **extra: Any) -> Population:
        """From ``(enrolment_id, pupil_id, establishment_id, end_date)`` rows, in any order."""
        columns = list(zip(*rows, strict=True)) or [(), (), (), ()]
        ends = [NEVER if e is None else e.toordinal() for e in columns[3]]
        arrays = [np.array(c, dtype=np.int64) for c in (*columns[:3], ends)]
        order = np.argsort(arrays[0], kind="stable")
        return cls(*(a[order] for a in arrays), **extra)


@dataclass(frozen=True)
class MarkBatch:
    """Mark strings of some enrolments: this school year's, and the previous year's when needed."""

    enrolment_ids: np.ndarray
    current: np.ndarray
    previous: np.ndarray | None = None


def tail_weeks(rules: list[Rule], calendar: SchoolCalendar, first_day: date, horizon: date) -> int:
    """School weeks of the previous year the evaluation needs: only when its first day (less the
    catch-up) lies within the longest look-back of its rules from the start of the year."""
    needed = max((r.spec.tail_weeks(r.params) for r in rules if r.spec.family == "marks"), default=0)
    if not needed:
        return 0
    base = timelines.build(calendar, horizon)
    first = base.index_on_or_after(first_day) - max((r.catch_up_school_days for r in rules), default=0)
    return needed if timelines.school_weeks_until(base, max(first, 0)) <= needed else 0


def frame_for(calendar: SchoolCalendar, first_day: date, horizon: date, tail: int, catch_up: int,
              calendar_of: Callable[[int | None], SchoolCalendar]) -> Frame | None:  # fmt: skip
    """The frame of an evaluation from ``first_day`` to ``horizon``; None when no school day of the
    year falls between them."""
    timeline = timelines.build(calendar, horizon, tail)
    first, last = max(timeline.index_on_or_after(first_day), timeline.first_current), timeline.last
    if last < timeline.first_current or first > last:
        return None
    return Frame(timeline, Span(first, last, catch_up), calendar_of)


def chunk_of(batch: MarkBatch, population: Population, timeline: Timeline) -> Chunk:
    """A batch gathered onto the timeline's sessions, with each enrolment's pupil and establishment."""
    rows = np.searchsorted(population.enrolment_ids, batch.enrolment_ids)
    rows = np.minimum(rows, max(len(population.enrolment_ids) - 1, 0))
    known = population.enrolment_ids[rows] == batch.enrolment_ids if len(rows) else np.zeros(0, dtype=bool)
    rows, current = rows[known], batch.current[known]
    width = 2 * len(timeline.days)
    sessions = np.zeros((len(rows), width), dtype=np.uint8)
    sessions[:, 2 * timeline.first_current :] = current[:, timeline.current_offsets]
    if batch.previous is not None and timeline.first_current:
        sessions[:, : 2 * timeline.first_current] = batch.previous[known][:, timeline.previous_offsets]
    last_on_roll = np.searchsorted(timeline.ordinals, population.end_ordinals[rows], side="right") - 1
    return Chunk(population.enrolment_ids[rows], population.pupil_ids[rows],
                 population.establishment_ids[rows], last_on_roll, sessions)  # fmt: skip


class _Scopes:
    """Each rule's scope as arrays of allowed establishments and pupils (None: no restriction)."""

    def __init__(self, rules: list[Rule], population: Population) -> None:
        self.allowed: dict[str, tuple[np.ndarray | None, np.ndarray | None]] = {}
        for rule in rules:
            scope, establishments, pupils = rule.scope, None, None
            if scope.phases or scope.establishment_types:
                establishments = np.array(sorted(
                    i for i, e in population.establishments.items()
                    if (not scope.phases or e.phase in scope.phases)
                    and (not scope.establishment_types or e.type in scope.establishment_types)
                ), dtype=np.int64)  # fmt: skip
            if scope.flags:
                pupils = np.array(sorted(p for p, flags in population.flags.items()
                                         if any(f["flag"] in scope.flags for f in flags)), dtype=np.int64)  # fmt: skip
            self.allowed[rule.id] = (establishments, pupils)

    def mask(self, rule: Rule, establishment_ids: np.ndarray, pupil_ids: np.ndarray) -> np.ndarray | None:
        establishments, pupils = self.allowed[rule.id]
        if establishments is None and pupils is None:
            return None
        mask = np.ones(len(establishment_ids), dtype=bool)
        if establishments is not None:
            mask &= np.isin(establishment_ids, establishments)
        if pupils is not None:
            mask &= np.isin(pupil_ids, pupils)
        return mask


def evaluate_rules(
    rules: list[Rule],
    frame: Frame,
    population: Population,
    batches: Iterable[MarkBatch],
    records: Records | None = None,
) -> dict[str, list[Episode]]:
    """Every rule's alertable episodes in the frame's span."""
    scopes = _Scopes(rules, population)
    found: dict[str, list[Episode]] = {rule.id: [] for rule in rules}
    frames = {rule.id: replace(frame, span=replace(frame.span, catch_up=rule.catch_up_school_days))
              for rule in rules}  # fmt: skip
    mark_rules = [r for r in rules if r.spec.family == "marks"]
    for batch in batches if mark_rules else ():
        chunk = chunk_of(batch, population, frame.timeline)
        for rule in mark_rules:
            mask = scopes.mask(rule, chunk.establishment_ids, chunk.pupil_ids)
            part = chunk if mask is None else chunk.take(mask)
            if len(part):
                found[rule.id] += rule.spec.evaluate(rule.params, part, frames[rule.id])
    for rule in rules:
        if rule.spec.family == "records" and records is not None:
            episodes = rule.spec.evaluate(rule.params, records, frames[rule.id])
            found[rule.id] = _in_scope(rule, scopes, episodes)
    for rule in rules:
        if rule.scope.flags:
            for episode in found[rule.id]:
                episode.scope_flags = [f for f in population.flags.get(episode.pupil_id, [])
                                       if f["flag"] in rule.scope.flags]  # fmt: skip
    return found


def _in_scope(rule: Rule, scopes: _Scopes, episodes: list[Episode]) -> list[Episode]:
    if not episodes:
        return episodes
    establishments = np.array([e.establishment_id or -1 for e in episodes], dtype=np.int64)
    pupils = np.array([e.pupil_id for e in episodes], dtype=np.int64)
    mask = scopes.mask(rule, establishments, pupils)
    return episodes if mask is None else [e for e, keep in zip(episodes, mask, strict=True) if keep]


def batches_of(marks: dict[int, bytes], previous: dict[int, bytes] | None = None,
               rows: int = BATCH_ROWS) -> Iterable[MarkBatch]:  # fmt: skip
    """Batches from mark strings in memory (tests, small jobs)."""
    ids = sorted(marks)
    for i in range(0, len(ids), rows):
        part = ids[i : i + rows]
        yield batch_from(part, [marks[e] for e in part], previous)


def batch_from(ids: list[int], strings: list[bytes], previous: dict[int, bytes] | None) -> MarkBatch:
    """One batch from parallel lists of enrolment ids and mark strings."""
    current = np.frombuffer(b"".join(strings), dtype=np.uint8).reshape(len(strings), -1)
    before = None
    if previous is not None:
        empty = bytes(current.shape[1])
        joined = b"".join(previous.get(e, empty) for e in ids)
        before = np.frombuffer(joined, dtype=np.uint8).reshape(len(ids), -1)
    return MarkBatch(np.array(ids, dtype=np.int64), current, before)
