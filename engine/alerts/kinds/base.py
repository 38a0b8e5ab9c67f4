"""What every kind of rule shares: its parameters, the enrolments it looks at, the episodes it finds."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any

import numpy as np

from ...attendance.codes import BY_CODE, CATEGORY_TABLE, Category
from ...calendar import SchoolCalendar
from ..timeline import Span, Timeline

REQUIRED = object()


@dataclass(frozen=True)
class Param:
    """One parameter of a kind. ``type``: ``codes`` (a list of 2024 codes), ``code``, ``int``,
    ``number``, ``choice`` (one of ``choices``) or ``choices`` (a list of them)."""

    name: str
    type: str
    help: str
    default: Any = REQUIRED
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()

    @property
    def required(self) -> bool:
        return self.default is REQUIRED


@dataclass
class Episode:
    """One stretch of time during which a rule's condition held for one enrolment (or pupil).

    ``start``: when the condition's story began (a run's first session, the first day a window held);
    ``reached``: the day the condition was first met; ``last``: the last day it held (the horizon when
    ``ongoing``). ``key`` names the episode stably (``run:2026-07-07:AM``, ``year:2025``,
    ``placement:12``); ``facts`` are the exact marks or records that make it true.
    """

    enrolment_id: int | None
    pupil_id: int
    establishment_id: int | None
    key: str
    start: date
    reached: date
    last: date
    ongoing: bool
    facts: dict[str, Any]
    summary: str
    scope_flags: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Chunk:
    """Some enrolments' marks on a timeline: ``sessions[i]`` are enrolment ``enrolment_ids[i]``'s code
    bytes at the timeline's sessions; ``last_on_roll[i]`` is the index of its last day on roll."""

    enrolment_ids: np.ndarray
    pupil_ids: np.ndarray
    establishment_ids: np.ndarray
    last_on_roll: np.ndarray
    sessions: np.ndarray
    #: Work shared by the rules that look at this chunk (running totals of the same codes...).
    memo: dict[Any, Any] = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return len(self.enrolment_ids)

    def shared(self, key: Any, compute: Callable[[], Any]) -> Any:
        """``compute()``, once per chunk for each ``key``."""
        if key not in self.memo:
            self.memo[key] = compute()
        return self.memo[key]

    def take(self, rows: np.ndarray) -> Chunk:
        """The enrolments selected by a boolean mask or index array."""
        return Chunk(
            self.enrolment_ids[rows], self.pupil_ids[rows], self.establishment_ids[rows],
            self.last_on_roll[rows], self.sessions[rows],
        )  # fmt: skip


@dataclass(frozen=True)
class KindSpec:
    """A kind of rule: ``family`` ``marks`` kinds scan chunks of the mark store, ``records`` kinds read
    timetables, placements and exclusions. ``continuous`` kinds match a new episode to an earlier alert
    whose period it continues (a run seen again after the year's tail was dropped), not only by key."""

    name: str
    family: str
    description: str
    params: tuple[Param, ...]
    evaluate: Callable[..., list[Episode]]
    continuous: bool = True
    tail_weeks: Callable[[dict[str, Any]], int] = lambda _params: 0


@dataclass(frozen=True)
class Frame:
    """Where an evaluation looks: the timeline, the span of days it raises alerts for, and each
    establishment's own calendar (the LA's plus its closures) for counting school days exactly."""

    timeline: Timeline
    span: Span
    calendar_of: Callable[[int | None], SchoolCalendar]

    @property
    def horizon_day(self) -> date:
        """The last school day on the timeline (the evaluation date, or the school day before it)."""
        return self.timeline.days[self.span.last]


def code_table(codes: Iterable[str]) -> np.ndarray:
    """A 256-entry boolean look-up: True for the bytes of ``codes``."""
    table = np.zeros(256, dtype=bool)
    for code in codes:
        table[BY_CODE[code].byte] = True
    return table


#: Sessions a run neither extends nor breaks: no mark (not received, or not a school day for this
#: establishment) and ``#`` (planned whole-school closure).
NEUTRAL = code_table(["#"])
NEUTRAL[0] = True

#: Sessions where the pupil attended: present, or approved educational activity (K, B, V, P, W).
ATTENDED = np.array(
    [CATEGORY_TABLE[b] in (Category.PRESENT, Category.EDUCATIONAL_ACTIVITY) for b in range(256)], dtype=bool
)


def mark_list(
    timeline: Timeline, row: np.ndarray, positions: Iterable[int] | np.ndarray
) -> list[tuple[str, ...]]:
    """``[date, session, code]`` for each session position: the exact marks behind an alert."""
    where = np.asarray(positions, dtype=np.int64)
    return timeline.marks_at(where, row[where])


def codes_text(codes: Iterable[str]) -> str:
    """``G, N, O or U``."""
    items = list(codes)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


def day_text(day: date) -> str:
    """``7 Jul 2026``."""
    return _day_text(day)


@lru_cache(maxsize=4096)
def _day_text(day: date) -> str:
    return f"{day.day} {day.strftime('%b %Y')}"
