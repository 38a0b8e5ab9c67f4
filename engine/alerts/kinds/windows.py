"""Kinds that count sessions over a period: codes in a rolling window of school weeks (the penalty
threshold), an absence rate over the school year or a window (persistent and severe absence), and a
cumulative count of codes over the school year (the sickness return).

Each computes, for every enrolment and every school day of the year up to the horizon, whether the
condition holds at the end of that day, from running totals of flagged sessions (numpy cumulative
sums, so a day's window count is one subtraction). Episodes are the stretches of days on which it
holds: for a window, a new stretch whose window shares a day with the previous stretch continues it
(so a new alert needs a window of entirely new days); for the school year, all stretches are one
episode (one alert per enrolment and year, updated while the condition holds).
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import numpy as np

from ...attendance.codes import CATEGORY_TABLE, Category
from ..timeline import cut_after, intervals, merge
from .base import Chunk, Episode, Frame, KindSpec, Param, code_table, codes_text, day_text, mark_list

_CATEGORIES = np.frombuffer(CATEGORY_TABLE, dtype=np.uint8)
POSSIBLE = (_CATEGORIES >= Category.PRESENT) & (_CATEGORIES <= Category.UNAUTHORISED)
ABSENT = (_CATEGORIES == Category.AUTHORISED) | (_CATEGORIES == Category.UNAUTHORISED)
AUTHORISED = _CATEGORIES == Category.AUTHORISED
UNAUTHORISED = _CATEGORIES == Category.UNAUTHORISED


def day_totals(sessions: np.ndarray, table: np.ndarray) -> np.ndarray:
    """Running totals of the sessions ``table`` flags at the end of each day, with a leading column
    of zeros: column ``i + 1`` counts days ``0..i``.

    A day's two code bytes are read as one 16-bit number and looked up in a table of 65,536 day
    counts (0, 1 or 2): one look-up per day instead of two per session.
    """
    pairs = np.ascontiguousarray(sessions).view("<u2")
    totals = np.zeros((sessions.shape[0], pairs.shape[1] + 1), dtype=np.int16)
    np.cumsum(_pair_table(table)[pairs], axis=1, out=totals[:, 1:])
    return totals


_PAIR_TABLES: dict[bytes, np.ndarray] = {}


def _pair_table(table: np.ndarray) -> np.ndarray:
    key = table.tobytes()
    if key not in _PAIR_TABLES:
        counts = table.astype(np.int8)
        _PAIR_TABLES[key] = (counts[np.arange(65536) & 0xFF] + counts[np.arange(65536) >> 8]).astype(np.int8)
    return _PAIR_TABLES[key]


class _Days:
    """The evaluated days (this school year's, up to the horizon) and their windows."""

    def __init__(self, frame: Frame, weeks: int) -> None:
        timeline = frame.timeline
        self.weeks = weeks
        self.first, self.last = timeline.first_current, frame.span.last
        self.count = self.last - self.first + 1
        self.ends = np.arange(self.first + 1, self.last + 2)  # totals column after each day
        if weeks:
            self.starts = timeline.window_starts(weeks)[self.first : self.last + 1]
        else:  # the school year so far
            self.starts = np.full(self.count, self.first)

    def sums(self, sessions: np.ndarray, table: np.ndarray) -> np.ndarray:
        """Sessions flagged by ``table`` in each day's window (rows x days)."""
        if self.weeks:
            totals = day_totals(sessions, table)
            return totals[:, self.ends] - totals[:, self.starts]
        return day_totals(sessions[:, 2 * self.first :], table)[:, 1 : self.count + 1]

    def shared_sums(self, chunk: Chunk, key: Any, table: np.ndarray) -> np.ndarray:
        """:meth:`sums` over the whole chunk, computed once for all the rules that need it."""
        return chunk.shared(("sums", key, self.weeks, self.last), lambda: self.sums(chunk.sessions, table))


def _episodes(holds: np.ndarray, chunk: Chunk, days: _Days, whole_year: bool) -> list[tuple[int, int, int]]:
    """``(row, first, last)`` local day indices of the alertable episodes."""
    holds = cut_after(holds, chunk.last_on_roll - days.first)
    candidates = np.nonzero(holds.any(axis=1))[0]
    rows, starts, ends = intervals(holds[candidates])
    joins = np.ones(len(rows), dtype=bool)
    if not whole_year:  # a window that shares a day with the previous stretch continues it
        joins[1:] = (days.starts[starts[1:]] - days.first) <= ends[:-1]
    rows, starts, ends = merge(rows, starts, ends, joins)
    return [(int(candidates[r]), int(s), int(e)) for r, s, e in zip(rows, starts, ends, strict=True)]


def _alertable(found: list[tuple[int, int, int]], frame: Frame, days: _Days) -> list[tuple[int, int, int]]:
    if not found:
        return []
    array = np.array(found, dtype=np.int64)
    keep = frame.span.alertable(array[:, 1] + days.first, array[:, 2] + days.first)
    return [found[i] for i in np.nonzero(keep)[0]]


def _episode(chunk: Chunk, frame: Frame, days: _Days, row: int, first: int, last: int, key: str,
             facts: dict[str, Any], summary: str) -> Episode:  # fmt: skip
    timeline = frame.timeline
    ongoing = days.first + last == frame.span.last
    start = timeline.days[days.first + first]
    return Episode(
        int(chunk.enrolment_ids[row]), int(chunk.pupil_ids[row]), int(chunk.establishment_ids[row]),
        key.format(start=start.isoformat(), year=timeline.school_year), start, start,
        timeline.days[days.first + last], ongoing, {**facts, "ongoing": ongoing}, summary,
    )  # fmt: skip


def _window_of(days: _Days, frame: Frame, local_day: int) -> tuple[int, int]:
    """Session positions ``[from, to)`` of a day's window."""
    return 2 * int(days.starts[local_day]), 2 * (days.first + local_day + 1)


# --- codes in a rolling window of school weeks -------------------------------------------------------


def codes_in_weeks(params: dict[str, Any], chunk: Chunk, frame: Frame) -> list[Episode]:
    """At least ``count`` sessions carrying ``codes`` within the ``weeks`` most recent school weeks."""
    days = _Days(frame, params["weeks"])
    if days.count <= 0:
        return []
    member = code_table(params["codes"])
    holds = days.shared_sums(chunk, tuple(params["codes"]), member) >= params["count"]
    found = _alertable(_episodes(holds, chunk, days, whole_year=False), frame, days)
    out = []
    for row, first, last in found:
        begin, end = _window_of(days, frame, last)
        marks = chunk.sessions[row]
        positions = begin + np.nonzero(member[marks[begin:end]])[0]
        window = (frame.timeline.days[begin // 2], frame.timeline.days[end // 2 - 1])
        facts = {
            "codes": params["codes"], "count_required": params["count"], "weeks": params["weeks"],
            "count": len(positions), "window": [window[0].isoformat(), window[1].isoformat()],
            "marks": mark_list(frame.timeline, marks, positions),
        }  # fmt: skip
        summary = (
            f"{len(positions)} sessions of {codes_text(params['codes'])} in the {params['weeks']} school "
            f"weeks from {day_text(window[0])} to {day_text(window[1])} (threshold {params['count']})"
        )
        out.append(_episode(chunk, frame, days, row, first, last, "window:{start}", facts, summary))
    return out


# --- absence rate ----------------------------------------------------------------------------------


def absence_rate(params: dict[str, Any], chunk: Chunk, frame: Frame) -> list[Episode]:
    """Absence rate (authorised + unauthorised over possible sessions, DfE) at least / below
    ``percent`` over the school year so far (``weeks`` 0) or the ``weeks`` most recent school weeks,
    once there are ``min_possible`` possible sessions. Compared exactly, in integers."""
    days = _Days(frame, params["weeks"])
    if days.count <= 0:
        return []
    possible = days.shared_sums(chunk, "possible", POSSIBLE).astype(np.int32)
    absent = days.shared_sums(chunk, "absent", ABSENT).astype(np.int32)
    threshold = Fraction(str(params["percent"]))
    scaled, limit = absent * (100 * threshold.denominator), possible * threshold.numerator
    meets = scaled >= limit if params["op"] == "at_least" else scaled < limit
    holds = meets & (possible >= max(1, params["min_possible_sessions"]))
    found = _alertable(_episodes(holds, chunk, days, whole_year=not params["weeks"]), frame, days)
    if not found:
        return []
    rows, lasts = (np.array(column, dtype=np.int64) for column in list(zip(*found, strict=True))[::2])
    chosen, picked = chunk.sessions[rows], np.arange(len(rows))
    counts = {
        "possible": possible[rows, lasts], "absent": absent[rows, lasts],
        "authorised": days.sums(chosen, AUTHORISED)[picked, lasts],
        "unauthorised": days.sums(chosen, UNAUTHORISED)[picked, lasts],
    }  # fmt: skip
    return [
        _rate_episode(params, chunk, frame, days, row, first, last, {k: int(v[i]) for k, v in counts.items()})
        for i, (row, first, last) in enumerate(found)
    ]


def _rate_episode(params: dict[str, Any], chunk: Chunk, frame: Frame, days: _Days, row: int, first: int,
                  last: int, counts: dict[str, int]) -> Episode:  # fmt: skip
    begin, end = _window_of(days, frame, last)
    possible, absent = counts["possible"], counts["absent"]
    period = (frame.timeline.days[begin // 2], frame.timeline.days[end // 2 - 1])
    rate = round(100 * absent / possible, 2) if possible else None
    facts = {
        "op": params["op"], "percent": params["percent"], "weeks": params["weeks"], "rate": rate, **counts,
        "period": [period[0].isoformat(), period[1].isoformat()],
    }  # fmt: skip
    sign = ">=" if params["op"] == "at_least" else "<"
    summary = (
        f"absence {rate} % ({absent} of {possible} possible sessions) from {day_text(period[0])} to "
        f"{day_text(period[1])}: {sign} {params['percent']} %"
    )
    key = "window:{start}" if params["weeks"] else "year:{year}"
    return _episode(chunk, frame, days, row, first, last, key, facts, summary)


# --- cumulative codes over the school year ---------------------------------------------------------


def cumulative(params: dict[str, Any], chunk: Chunk, frame: Frame) -> list[Episode]:
    """``amount`` sessions (or school days, a half day counting 0.5) carrying ``codes`` this school
    year, consecutive or not."""
    days = _Days(frame, 0)
    if days.count <= 0:
        return []
    by_day = params["unit"] == "school_days"
    needed = math.ceil(params["amount"] * (2 if by_day else 1))
    member = code_table(params["codes"])
    holds = days.shared_sums(chunk, tuple(params["codes"]), member) >= needed
    found = _alertable(_episodes(holds, chunk, days, whole_year=True), frame, days)
    out = []
    for row, first, last in found:
        begin, end = _window_of(days, frame, last)
        marks = chunk.sessions[row]
        positions = begin + np.nonzero(member[marks[begin:end]])[0]
        amount = len(positions) / 2 if by_day else len(positions)
        unit = "school days" if by_day else "sessions"
        facts = {
            "codes": params["codes"], "unit": params["unit"], "amount_required": params["amount"],
            "sessions": len(positions), "school_days": len(positions) / 2,
            "marks": mark_list(frame.timeline, marks, positions),
        }  # fmt: skip
        summary = (
            f"{amount:g} {unit} of {codes_text(params['codes'])} this school year"
            + (" (a half day counts 0.5)" if by_day else "")
            + f", threshold {params['amount']:g}"
        )
        out.append(_episode(chunk, frame, days, row, first, last, "year:{year}", facts, summary))
    return out


def _weeks(params: dict[str, Any]) -> int:
    return int(params.get("weeks") or 0)


KINDS = (
    KindSpec(
        "codes_in_school_weeks", "marks",
        "At least `count` sessions carrying `codes` within the `weeks` most recent school weeks (weeks "
        "without a school day do not count; the window may reach into the previous term or year).",
        (
            Param("codes", "codes", "codes counted"),
            Param("count", "int", "sessions needed", minimum=1, maximum=800),
            Param("weeks", "int", "school weeks in the window", minimum=1, maximum=39),
        ),
        codes_in_weeks, tail_weeks=_weeks,
    ),
    KindSpec(
        "absence_rate", "marks",
        "Absence rate (authorised + unauthorised absence over possible sessions) at least or below "
        "`percent`, over the school year so far (`weeks` 0) or the `weeks` most recent school weeks.",
        (
            Param("op", "choice", "at_least or below", default="at_least", choices=("at_least", "below")),
            Param("percent", "number", "threshold in percent", minimum=0, maximum=100),
            Param("weeks", "int", "0: the school year so far; otherwise a rolling window", default=0,
                  minimum=0, maximum=39),
            Param("min_possible_sessions", "int", "possible sessions needed before the rate is judged",
                  default=0, minimum=0, maximum=800),
        ),
        absence_rate, tail_weeks=_weeks,
    ),
    KindSpec(
        "cumulative_codes", "marks",
        "At least `amount` sessions (or school days, a half day counting 0.5) carrying `codes` this "
        "school year, consecutive or not.",
        (
            Param("codes", "codes", "codes counted"),
            Param("amount", "number", "sessions or school days needed", minimum=0.5, maximum=400),
            Param("unit", "choice", "sessions or school_days", default="school_days",
                  choices=("sessions", "school_days")),
        ),
        cumulative,
    ),
)  # fmt: skip
