"""Timer and due-date expressions: turn what modellers write into what SpiffWorkflow can run.

SpiffWorkflow evaluates the text of ``timeDate``, ``timeDuration`` and ``timeCycle`` as a *Python
expression* whose value must be ISO 8601 text (design trap 3). Camunda Modeler and most other tools write
bare ISO 8601 (``P7D``), which Python reads as an unknown variable - or, for ``2026-12-31``, as the number
1983. So bare ISO 8601 is quoted here on import, and anything that could never run (cron, Camunda's JUEL,
text that is neither ISO 8601 nor Python) is refused with a reason a process designer can act on.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

TimerKind = Literal["timeDate", "timeDuration", "timeCycle"]
TIMER_KINDS: tuple[str, ...] = ("timeDate", "timeDuration", "timeCycle")

_DURATION = re.compile(r"P(?!$)(\d+Y)?(\d+M)?(\d+D)?(T(?!$)(\d+H)?(\d+M)?(\d+S)?)?|P\d+W")
_LAST_FRACTION = re.compile(r"[.,]\d+(?=[YMWDHS]$)")
_DATE_SHAPE = re.compile(r"\d{4}-?\d{2}-?\d{2}(T[\d:.,]+(Z|[+-][\d:]+)?)?")
_HAS_OFFSET = re.compile(r"T.*(Z|[+-]\d{2}(:?\d{2})?)$")
_CYCLE = re.compile(r"R(\d*)/([^/]+)(?:/([^/]+))?")
_CRON_FIELD = re.compile(r"[0-9A-Za-z*?/,#-]+")
_CRON_LEADING_FIELD = re.compile(r"[0-9*?/,-]+")
_CAMUNDA_EXPRESSION = re.compile(r"[$#]\{.*\}", re.DOTALL)

_EXAMPLES = {
    "timeDate": "a date such as 2026-03-01T09:00:00Z or an expression such as add_school_days(today(), 15)",
    "timeDuration": "a duration such as P7D (seven days) or PT2H (two hours)",
    "timeCycle": "a repeating interval such as R3/P1D (three times, a day apart) or R/P1D (every day)",
    "due": "a duration such as P7D, a date such as 2026-03-01T09:00:00Z, or an expression",
}


@dataclass(frozen=True)
class TimerCheck:
    """The outcome of checking one expression: what SpiffWorkflow should evaluate, and notes for people."""

    expression: str
    notes: tuple[str, ...] = ()
    unbounded_cycle: bool = False


def normalise_timer_expression(kind: str, text: str) -> str:
    """Return ``text`` as a Python expression SpiffWorkflow can evaluate for a timer of ``kind``.

    ``kind`` is ``"timeDate"``, ``"timeDuration"`` or ``"timeCycle"``. Bare ISO 8601 (``P7D``,
    ``2026-03-01T09:00:00Z``, ``R3/P1D``) comes back as a quoted string literal; expressions that are
    already quoted, call functions or name variables come back unchanged. Raises ``ValueError`` with a
    reason for anything that cannot run: cron, empty text, JUEL, the wrong kind of ISO 8601 value, or text
    that is neither ISO 8601 nor a valid Python expression.
    """
    return check_timer_expression(kind, text).expression


def check_timer_expression(kind: str, text: str | None) -> TimerCheck:
    """Like :func:`normalise_timer_expression`, also reporting notes (such as a missing time zone)."""
    if kind not in TIMER_KINDS:
        raise ValueError(f"unknown timer kind {kind!r}: expected one of {', '.join(TIMER_KINDS)}")
    return _check(kind, text)


def check_due_expression(text: str | None) -> TimerCheck:
    """Check a user task's due date, which may be a duration (from now) or a date, bare or as an expression."""
    return _check("due", text)


def _check(kind: str, text: str | None) -> TimerCheck:
    stripped = (text or "").strip()
    if not stripped:
        raise ValueError(f"no time is given: give {_EXAMPLES[kind]}")
    _refuse_foreign_syntax(stripped, kind)
    bare = _check_bare_iso(kind, stripped)
    if bare is not None:
        return TimerCheck(_quote(stripped), *bare)
    return _check_expression(kind, stripped)


def _refuse_foreign_syntax(text: str, kind: str) -> None:
    if _looks_like_cron(text):
        raise ValueError(
            f"'{text}' is a cron expression, which EduCase timers do not understand: give {_EXAMPLES[kind]}"
        )
    if _CAMUNDA_EXPRESSION.fullmatch(text):
        raise ValueError(
            f"'{text}' is a Camunda (JUEL) expression, which EduCase cannot run: give {_EXAMPLES[kind]}"
        )


def _looks_like_cron(text: str) -> bool:
    if text.startswith("@") and text[1:].isalpha():
        return True  # @daily, @hourly...
    fields = text.split()
    return (
        5 <= len(fields) <= 7
        and all(_CRON_FIELD.fullmatch(field) for field in fields)
        and all(_CRON_LEADING_FIELD.fullmatch(field) for field in fields[:2])
        and any("*" in field or "?" in field for field in fields)
    )


def _check_bare_iso(kind: str, text: str) -> tuple[tuple[str, ...], bool] | None:
    """Notes and unboundedness if ``text`` is valid bare ISO 8601 for ``kind``; None if it is not ISO."""
    shape = _iso_shape(text)
    if shape is None:
        return None
    allowed = {
        "timeDate": ("date",),
        "timeDuration": ("duration",),
        "timeCycle": ("cycle",),
        "due": ("date", "duration"),
    }[kind]
    if shape not in allowed:
        raise ValueError(f"'{text}' is a {_SHAPE_WORDS[shape]}, but this timer needs {_EXAMPLES[kind]}")
    _validate_iso(shape, text)
    notes = (_naive_note(text),) if _is_naive(shape, text) else ()
    return notes, shape == "cycle" and text.startswith("R/")


_SHAPE_WORDS = {"date": "date", "duration": "duration", "cycle": "repeating interval"}


def _iso_shape(text: str) -> str | None:
    if re.match(r"R\d*/", text):
        return "cycle"
    if re.match(r"PT?\d", text):
        return "duration"
    if _DATE_SHAPE.fullmatch(text):
        return "date"
    return None


def _validate_iso(shape: str, text: str) -> None:
    if shape == "duration":
        _validate_duration(text)
    elif shape == "date":
        _validate_date(text)
    else:
        _validate_cycle(text)


def _validate_duration(text: str) -> None:
    if not _DURATION.fullmatch(_LAST_FRACTION.sub("", text)):
        raise ValueError(
            f"'{text}' is not a valid ISO 8601 duration: write for example P7D, PT2H, P1Y2M or P2W "
            "(only the last part may have a fraction)"
        )


def _validate_date(text: str) -> None:
    try:
        datetime.fromisoformat(text)
    except ValueError as error:
        raise ValueError(
            f"'{text}' is not a valid ISO 8601 date ({error}): write for example 2026-03-01T09:00:00Z"
        )


def _validate_cycle(text: str) -> None:
    match = _CYCLE.fullmatch(text)
    if match is None:
        raise ValueError(
            f"'{text}' is not a valid ISO 8601 repeating interval: give {_EXAMPLES['timeCycle']}"
        )
    repetitions, *parts = match.groups()
    if repetitions == "0":
        raise ValueError(
            f"'{text}' repeats zero times, so the timer would never fire: give {_EXAMPLES['timeCycle']}"
        )
    for part in filter(None, parts):
        _validate_iso("duration" if part.startswith("P") else "date", part)
    try:
        TimerEventDefinition.parse_iso_recurring_interval(text)
    except Exception as error:  # SpiffWorkflow raises bare Exception for intervals it cannot use
        raise ValueError(
            f"'{text}' cannot be used as a repeating interval ({error}): give {_EXAMPLES['timeCycle']}"
        )


def _is_naive(shape: str, text: str) -> bool:
    if shape == "date":
        return not _HAS_OFFSET.search(text)
    if shape == "cycle":
        return any(_DATE_SHAPE.fullmatch(part) and not _HAS_OFFSET.search(part) for part in text.split("/"))
    return False


def _naive_note(text: str) -> str:
    return (
        f"'{text}' has no time zone, so it will be read in the server's local time: "
        "add Z (UTC) or an offset such as +01:00"
    )


def _check_expression(kind: str, text: str) -> TimerCheck:
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as error:
        raise ValueError(
            f"'{text}' is neither ISO 8601 nor a valid expression ({error.msg}): give {_EXAMPLES[kind]}"
        )
    if isinstance(tree.body, ast.Constant):
        return _check_literal(kind, text, tree.body.value)
    return TimerCheck(text)


def _check_literal(kind: str, text: str, value: object) -> TimerCheck:
    if not isinstance(value, str):
        raise ValueError(f"{text} is not text: give {_EXAMPLES[kind]}")
    inner = value.strip()
    if not inner:
        raise ValueError(f"no time is given: give {_EXAMPLES[kind]}")
    _refuse_foreign_syntax(inner, kind)
    bare = _check_bare_iso(kind, inner)
    if bare is None:
        raise ValueError(f"{text} is not ISO 8601: give {_EXAMPLES[kind]}")
    return TimerCheck(text, *bare)


def _quote(text: str) -> str:
    return f'"{text}"'
