"""Converting answers between their JSON form and what a browser shows and posts back: option keys,
numbers, the GOV.UK date input's day/month/year boxes (and a time box for date-times), and the text
shown for a read-only answer.

Date-times are entered as UK local time (Europe/London) and stored with their UTC offset, as
JSON Schema's ``date-time`` format requires.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any, Final
from zoneinfo import ZoneInfo

UK_TIME = ZoneInfo("Europe/London")
DATE_PARTS: Final = ("day", "month", "year")
DATETIME_PARTS: Final = ("day", "month", "year", "time")
_MONTH_NAMES = ("january", "february", "march", "april", "may", "june", "july", "august", "september",
                "october", "november", "december")  # fmt: skip
_MONTHS = {
    name: number
    for number, full in enumerate(_MONTH_NAMES, 1)
    for name in (full, full[:3], "sept" if full == "september" else full[:3])
}
_INTEGER = re.compile(r"[+-]?\d+")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")
_TIME_12 = re.compile(r"(\d{1,2})(?:[:.](\d{2}))?\s*([ap])\.?\s*m\.?")
_TIME_24 = re.compile(r"(\d{1,2})[:.](\d{2})|(\d{2})(\d{2})")


@dataclass(frozen=True)
class Problem:
    """Why some typed answer cannot be read: the end of a sentence that starts with the question's
    label (``"must be a real date"``), and which boxes of a date input to highlight."""

    message: str
    parts: tuple[str, ...] = ()


def option_key(value: Any) -> str:
    """The string a radio, checkbox or select option posts for ``value`` (the value itself for text)."""
    return value if isinstance(value, str) else json.dumps(value)


# --- numbers ------------------------------------------------------------------------------------


def read_number(text: str, *, integer: bool) -> int | float | Problem:
    """A typed number; commas and spaces between digits are allowed, as people write them."""
    compact = re.sub(r"(?<=\d)[,\s](?=\d)", "", text)
    if integer:
        return int(compact) if _INTEGER.fullmatch(compact) else Problem("must be a whole number")
    if not _NUMBER.fullmatch(compact):
        return Problem("must be a number")
    return float(compact) if "." in compact else int(compact)


def number_text(value: Any) -> str:
    """How a stored number shows in its box."""
    return "" if value is None else str(value)


# --- dates and times ----------------------------------------------------------------------------


def date_parts(value: Any) -> dict[str, str]:
    """The day, month and year boxes for a stored ``YYYY-MM-DD`` (empty if it is not one)."""
    try:
        day = date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        day = None
    return {"day": str(day.day), "month": str(day.month), "year": str(day.year)} if day else {}


def datetime_parts(value: Any) -> dict[str, str]:
    """The boxes for a stored date-time, in UK local time (a value without an offset is UTC)."""
    moment = _as_datetime(value)
    if moment is None:
        return {}
    local = moment.astimezone(UK_TIME)
    return {**date_parts(local.date().isoformat()), "time": local.strftime("%H:%M")}


def read_date(parts: dict[str, str]) -> date | Problem | None:
    """The date typed into day/month/year boxes: None when all are empty, a Problem when it is not one.

    Months may be typed as numbers or names ("3", "Mar", "March").
    """
    texts = {part: parts.get(part, "").strip() for part in DATE_PARTS}
    if not any(texts.values()):
        return None
    missing = tuple(part for part in DATE_PARTS if not texts[part])
    if missing:
        return Problem(f"must include {_and(missing)}", missing)
    day, year = _digits(texts["day"], 2), _digits(texts["year"], 4, exactly=True)
    month = _digits(texts["month"], 2) or _MONTHS.get(texts["month"].lower().rstrip("."))
    wrong = tuple(
        part
        for part, number, top in (("day", day, 31), ("month", month, 12), ("year", year, 9999))
        if not number or number > top
    )
    if wrong:
        return Problem("must be a real date", wrong)
    try:
        return date(int(year or 0), int(month or 0), int(day or 0))
    except ValueError:
        return Problem("must be a real date", ("day",))


def read_datetime(parts: dict[str, str]) -> str | Problem | None:
    """The date-time typed into the boxes, as ISO 8601 with the UK offset of that moment."""
    if not any(parts.get(part, "").strip() for part in DATETIME_PARTS):
        return None
    day = read_date(parts)
    clock = parts.get("time", "").strip()
    if day is None or (isinstance(day, Problem) and "must include" in day.message):
        missing = (day.parts if isinstance(day, Problem) else DATE_PARTS) + (() if clock else ("time",))
        return Problem(f"must include {_and(missing)}", missing)
    if isinstance(day, Problem):
        return day
    if not clock:
        return Problem("must include a time", ("time",))
    moment = read_time(clock)
    if moment is None:
        return Problem("must be a real time", ("time",))
    return datetime.combine(day, moment, tzinfo=UK_TIME).isoformat(timespec="seconds")


def read_time(text: str) -> time | None:
    """A time of day as people type it: ``14:30``, ``14.30``, ``1430``, ``2:30pm``, ``2pm``, ``midday``."""
    text = text.strip().lower()
    if text in ("midday", "noon", "12 noon"):
        return time(12, 0)
    if text == "midnight":
        return time(0, 0)
    if match := _TIME_12.fullmatch(text):
        hour, minute = int(match[1]), int(match[2] or 0)
        if not 1 <= hour <= 12 or minute > 59:
            return None
        return time(hour % 12 + (12 if match[3] == "p" else 0), minute)
    if match := _TIME_24.fullmatch(text):
        hour, minute = int(match[1] or match[3]), int(match[2] or match[4])
        return time(hour, minute) if hour <= 23 and minute <= 59 else None
    return None


def _as_datetime(value: Any) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None
    if moment is not None and moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment


def _digits(text: str, most: int, *, exactly: bool = False) -> int | None:
    ok = text.isascii() and text.isdigit() and (len(text) == most if exactly else len(text) <= most)
    return int(text) if ok else None


def _and(parts: tuple[str, ...]) -> str:
    """("day", "year") → "a day and year"; ("time",) → "a time"."""
    words = list(parts)
    listed = words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]
    return f"a {listed}"


# --- read-only answers --------------------------------------------------------------------------


def date_text(value: Any) -> str:
    """``2024-09-02`` → ``2 September 2024`` (the GOV.UK style); other text unchanged."""
    parts = date_parts(value)
    if not parts:
        return str(value)
    return f"{parts['day']} {date(2000, int(parts['month']), 1):%B} {parts['year']}"


def datetime_text(value: Any) -> str:
    """A stored date-time in UK local time: ``2 September 2024 at 9:30am``."""
    moment = _as_datetime(value)
    if moment is None:
        return str(value)
    local = moment.astimezone(UK_TIME)
    hour = local.hour % 12 or 12
    clock = f"{hour}{local:%p}" if local.minute == 0 else f"{hour}:{local:%M%p}"
    if local.hour == 12 and local.minute == 0:
        clock = "midday"
    elif local.hour == 0 and local.minute == 0:
        clock = "midnight"
    return f"{date_text(local.date().isoformat())} at {clock.lower()}"
