"""Kinds about runs of marks: a consecutive run of codes, and a code left unresolved too long.

**Runs.** Along the timeline's school-day sessions (weekends, holidays and LA closure days are not
on it), a session *extends* a run when it carries one of the rule's codes and *breaks* it when it
carries any other code, except ``#`` (planned whole-school closure). A session with no mark neither
extends nor breaks: it is a closure of that establishment, or a mark not received yet. So a run over a
closure day continues, and a present (or any other) mark ends it. Unit ``sessions`` counts sessions;
unit ``school_days`` counts days on which *both* sessions carry one of the codes, and a day breaks the
run when either session carries another code (``#`` and no mark again neutral). A run is *ongoing*
while nothing has broken it up to the horizon and the pupil is still on roll.

Found for thousands of enrolments at once: with ``E`` the running count of extending sessions, a run's
length at position j is ``E[j] - max(E at breaks up to j)``; both are cumulative numpy operations.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...attendance.codes import BY_CODE
from ...calendar import CalendarError
from .base import NEUTRAL, Chunk, Episode, Frame, KindSpec, Param, code_table, codes_text, day_text, mark_list

UNITS = ("sessions", "school_days")


def _reverse_min(values: np.ndarray) -> np.ndarray:
    return np.minimum.accumulate(values[:, ::-1], axis=1)[:, ::-1]


def runs_reaching(ext: np.ndarray, brk: np.ndarray, length: int) -> tuple[np.ndarray, ...]:
    """Every run that reaches ``length``: ``(row, first, reach, end, broken)`` position arrays, where
    ``reach`` is the position of its ``length``-th extending session, ``end`` its last, and ``broken``
    whether a breaking session follows it."""
    candidates = np.nonzero(np.count_nonzero(ext, axis=1) >= length)[0]  # enough sessions at all
    ext, brk = ext[candidates], brk[candidates]
    extended = np.cumsum(ext, axis=1, dtype=np.int16)
    at_breaks = np.maximum.accumulate(np.where(brk, extended, np.int16(0)), axis=1)
    reach = ext & ((extended - at_breaks) == length)
    rows = np.nonzero(reach.any(axis=1))[0]
    if len(rows) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty, empty, np.zeros(0, dtype=bool)
    ext, brk, reach = ext[rows], brk[rows], reach[rows]
    width = ext.shape[1]
    index = np.arange(width, dtype=np.int32)
    last_break = np.maximum.accumulate(np.where(brk, index, -1), axis=1)
    next_break = _reverse_min(np.where(brk, index, width))
    previous_ext = np.maximum.accumulate(np.where(ext, index, -1), axis=1)
    next_ext = _reverse_min(np.where(ext, index, width))
    r, at = np.nonzero(reach)
    first = next_ext[r, last_break[r, at] + 1]
    following = next_break[r, at]
    end = previous_ext[r, following - 1]
    return candidates[rows[r]], first, at, end, following < width


def consecutive(params: dict[str, Any], chunk: Chunk, frame: Frame) -> list[Episode]:
    """Runs of at least ``length`` consecutive sessions (or school days) carrying ``codes``."""
    member = code_table(params["codes"])
    ext = member[chunk.sessions]
    brk = ~ext & ~chunk.shared("neutral", lambda: NEUTRAL[chunk.sessions])
    by_day = params["unit"] == "school_days"
    if by_day:
        ext, brk = ext[:, 0::2] & ext[:, 1::2], brk[:, 0::2] | brk[:, 1::2]
    rows, first, reach, end, broken = runs_reaching(ext, brk, params["length"])
    per_day = 1 if by_day else 2
    reached_day, end_day = reach // per_day, end // per_day
    on_roll = chunk.last_on_roll[rows] >= frame.timeline.last
    ongoing = ~broken & on_roll
    last_day = np.where(ongoing, frame.timeline.last, end_day)
    keep = np.nonzero(frame.span.alertable(reached_day, last_day))[0]
    found = []
    for k in keep:
        where = (
            int(rows[k]),
            int(first[k]),
            int(end[k]),
            int(reached_day[k]),
            int(last_day[k]),
            bool(ongoing[k]),
        )
        found.append(_run_episode(params, chunk, frame, *where, member))
    return found


def _run_episode(
    params: dict[str, Any], chunk: Chunk, frame: Frame, row: int, first: int, end: int, reached: int,
    last: int, ongoing: bool, member: np.ndarray,
) -> Episode:  # fmt: skip
    timeline, marks = frame.timeline, chunk.sessions[row]
    by_day = params["unit"] == "school_days"
    if by_day:
        days = [d for d in range(first, end + 1) if member[marks[2 * d]] and member[marks[2 * d + 1]]]
        positions = [p for d in days for p in (2 * d, 2 * d + 1)]
        length, first_position = len(days), 2 * first
    else:
        positions = [p for p in range(first, end + 1) if member[marks[p]]]
        length, first_position = len(positions), first
    start_day, start_session = timeline.session(first_position)
    unit = "school days" if by_day else "sessions"
    summary = (
        f"{length} consecutive {unit} of {codes_text(params['codes'])} from {day_text(start_day)}"
        + (" (AM)" if not by_day and start_session == "AM" else " (PM)" if not by_day else "")
        + (", continuing" if ongoing else f" to {day_text(timeline.session(positions[-1])[0])}")
    )
    key = f"run:{start_day.isoformat()}" + ("" if by_day else f":{start_session}")
    facts = {
        "codes": params["codes"], "unit": params["unit"], "length_required": params["length"],
        "run_length": length, "first_session": [start_day.isoformat(), start_session],
        "first_absence_date": start_day.isoformat(),
        "ongoing": ongoing, "marks": mark_list(timeline, marks, positions),
    }  # fmt: skip
    return Episode(
        int(chunk.enrolment_ids[row]), int(chunk.pupil_ids[row]), int(chunk.establishment_ids[row]), key,
        start_day, timeline.days[reached], timeline.days[last], ongoing, facts, summary,
    )  # fmt: skip


# --- a code left unresolved ------------------------------------------------------------------------


def unresolved(params: dict[str, Any], chunk: Chunk, frame: Frame) -> list[Episode]:
    """Sessions still coded ``code`` (N: reason not yet provided) more than ``school_days`` school
    days after the day they were marked, counted on the establishment's own calendar.

    Consecutive such sessions (only neutral sessions between them) are one episode; the stored marks
    are the truth, so an N corrected to I is resolved and no longer found. Only this school year's
    marks are looked at.
    """
    timeline, span = frame.timeline, frame.span
    marks = chunk.sessions[:, 2 * timeline.first_current :]
    coded = marks == BY_CODE[params["code"]].byte
    # On the LA's calendar first (an establishment's closures only make fewer school days).
    newest_day = span.last - params["school_days"] - 1 - timeline.first_current
    if newest_day < 0:
        return []
    candidates = np.nonzero(coded[:, : 2 * (newest_day + 1)].any(axis=1))[0]
    found: list[Episode] = []
    for row in candidates:
        for run in _coded_runs(marks[row], np.nonzero(coded[row])[0]):
            episode = _unresolved_episode(params, chunk, frame, int(row), run)
            if episode is not None:
                found.append(episode)
    return found


def _coded_runs(marks: np.ndarray, positions: np.ndarray) -> list[list[int]]:
    runs: list[list[int]] = []
    for position in positions.tolist():
        if runs and NEUTRAL[marks[runs[-1][-1] + 1 : position]].all():
            runs[-1].append(position)
        else:
            runs.append([position])
    return runs


def _unresolved_episode(
    params: dict[str, Any], chunk: Chunk, frame: Frame, row: int, run: list[int]
) -> Episode | None:
    timeline, limit = frame.timeline, params["school_days"]
    offset = 2 * timeline.first_current
    start_day, start_session = timeline.session(run[0] + offset)
    calendar = frame.calendar_of(int(chunk.establishment_ids[row]))
    try:
        reached = calendar.add_school_days(start_day, limit + 1)
    except CalendarError:  # beyond the loaded terms: not reached
        return None
    last_on_roll = int(chunk.last_on_roll[row])
    if last_on_roll < 0:
        return None
    on_roll = last_on_roll >= timeline.last
    last = frame.horizon_day if on_roll else timeline.days[last_on_roll]
    if last < reached or not frame.span.alertable_dates(timeline, reached, last):
        return None
    waited = calendar.school_days_between(start_day, last)
    facts = {
        "code": params["code"], "school_days_allowed": limit, "school_days_unresolved": waited,
        "oldest": [start_day.isoformat(), start_session],
        "marks": mark_list(timeline, chunk.sessions[row], [p + offset for p in run]),
    }  # fmt: skip
    summary = (
        f"{len(run)} session(s) coded {params['code']} since {day_text(start_day)} ({start_session}) "
        f"still unresolved after {waited} school days (allowed: {limit})"
    )
    return Episode(
        int(chunk.enrolment_ids[row]), int(chunk.pupil_ids[row]), int(chunk.establishment_ids[row]),
        f"unresolved:{start_day.isoformat()}:{start_session}", start_day, reached, last, on_roll, facts,
        summary,
    )  # fmt: skip


KINDS = (
    KindSpec(
        "consecutive_codes", "marks",
        "A run of at least `length` consecutive sessions (or school days) each carrying one of `codes`.",
        (
            Param("codes", "codes", "codes that make up the run"),
            Param("length", "int", "consecutive sessions or school days needed", minimum=1, maximum=400),
            Param("unit", "choice", "sessions, or school days with both sessions coded", default="sessions",
                  choices=UNITS),
        ),
        consecutive, tail_weeks=lambda _params: 13,
    ),
    KindSpec(
        "unresolved_code", "marks",
        "A session still coded `code` more than `school_days` school days after it was marked.",
        (
            Param("code", "code", "the provisional code", default="N"),
            Param("school_days", "int", "school days allowed to resolve it", default=5, minimum=0, maximum=190),
        ),
        unresolved,
    ),
)  # fmt: skip
