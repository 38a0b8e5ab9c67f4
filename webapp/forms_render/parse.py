"""Reading a submitted form (the browser's fields, a werkzeug ``MultiDict``) back into the JSON answers
its schema describes: numbers as numbers, ticked boxes as booleans or lists, the date input's boxes as
``YYYY-MM-DD``, repeating sections as lists, nested objects as objects. An empty box means "not
answered": the property is left out.

Answers that cannot be read (a date that does not exist, letters in a number) become field errors with
the typed text kept, so the page can show both again. Pressing "Add another" or "Remove" is an action
(the ``_action`` button), not a submission: re-render the form, do not validate or save it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any, Final, Literal, Protocol

from engine.errors import FieldError
from engine.forms import validate_form_data

from .answers import DATE_PARTS, DATETIME_PARTS, Problem, option_key, read_date, read_datetime, read_number
from .questions import Path, Question, build_form
from .schema import Schema, UiSchema

ACTION_FIELD: Final = "_action"
_TEXT_KINDS = frozenset({"text", "email", "url", "textarea"})
_CHOICE_KINDS = frozenset({"radios", "select", "yesno"})


class _Missing:
    """No answer: the property is left out of the data."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()


class FormInput(Protocol):
    """What a submitted form offers (werkzeug's ``MultiDict`` has it)."""

    def get(self, key: str, default: Any = None) -> Any: ...

    def getlist(self, key: str) -> list[Any]: ...

    def keys(self) -> Iterable[str]: ...


@dataclass(frozen=True)
class RawAnswer:
    """What was typed for an answer that could not be read, and which date boxes were wrong."""

    value: str | dict[str, str]
    bad_parts: tuple[str, ...] = ()


@dataclass(frozen=True)
class FormAction:
    """A button that changes the form rather than submitting it: "Add another" adds an item to the
    repeating section at ``path``; "Remove" removes item ``index`` of it."""

    verb: Literal["add", "remove"]
    path: Path
    index: int | None = None


@dataclass
class ParsedForm:
    """A submitted form, read: the answers, the answers that could not be read (as errors, with what
    was typed in ``raw``), and the add/remove action pressed, if any."""

    data: dict[str, Any]
    errors: list[FieldError] = field(default_factory=list)
    raw: dict[Path, RawAnswer] = field(default_factory=dict)
    action: FormAction | None = None


def parse_form(
    schema: Schema, ui_schema: UiSchema | None, form: FormInput, *, current: dict[str, Any] | None = None
) -> ParsedForm:
    """The answers posted in ``form`` for the form that ``schema`` and ``ui_schema`` describe.

    Read-only and hidden answers are never taken from the browser: they keep their value in
    ``current`` (the answers the form was shown with), except inside repeating sections, where
    they are left out.
    """
    reader = _Reader(form, current or {}, read_action(form.get(ACTION_FIELD)))
    data = reader.read(build_form(schema, ui_schema))
    errors = [FieldError(_dotted(path), message) for path, message in reader.errors.items()]
    return ParsedForm(data if isinstance(data, dict) else {}, errors, reader.raw, reader.action)


def check_submission(schema: Schema, parsed: ParsedForm, *, form_ref: str = "") -> list[FieldError]:
    """Every problem with a submission: answers that could not be read, then the schema's own checks
    (leaving out those about an answer that could not be read, which already has its message)."""
    unreadable = [error.path for error in parsed.errors]
    checked = [
        error
        for error in validate_form_data(schema, parsed.data, form_ref=form_ref)
        if not any(error.path == path or error.path.startswith(f"{path}.") for path in unreadable)
    ]
    return [*parsed.errors, *checked]


def read_action(text: Any) -> FormAction | None:
    """``add:parents`` or ``remove:parents.1`` as a :class:`FormAction` (None for anything else)."""
    match = re.fullmatch(r"(add|remove):(.+)", text) if isinstance(text, str) else None
    if not match:
        return None
    path = tuple(int(part) if part.isdigit() else part for part in match[2].split("."))
    if match[1] == "add":
        return FormAction("add", path)
    if len(path) > 1 and isinstance(path[-1], int):
        return FormAction("remove", path[:-1], path[-1])
    return None


def value_at(data: Any, path: Path) -> Any:
    """The answer at ``path`` in ``data`` (None when there is none)."""
    for part in path:
        if isinstance(part, int) and isinstance(data, list) and 0 <= part < len(data):
            data = data[part]
        elif isinstance(part, str) and isinstance(data, dict):
            data = data.get(part)
        else:
            return None
    return data


def _dotted(path: Path) -> str:
    return ".".join(str(part) for part in path)


class _Reader:
    """Reads one submission; collects errors and raw answers by path."""

    def __init__(self, form: FormInput, current: dict[str, Any], action: FormAction | None) -> None:
        self.form = form
        self.current = current
        self.action = action
        self.errors: dict[Path, str] = {}
        self.raw: dict[Path, RawAnswer] = {}
        names = form.keys()
        self._names = [str(key) for key in names]

    def read(self, question: Question) -> Any:
        """The answer to ``question`` (MISSING when it was not answered)."""
        if question.readonly or question.hidden:
            repeated = any(isinstance(part, int) for part in question.path)
            kept = value_at(self.current, question.path)
            return MISSING if repeated or kept is None else kept
        if question.kind == "fieldset":
            return self._object(question)
        if question.kind == "repeating":
            return self._repeating(question)
        if question.kind == "checkboxes":
            return self._checkboxes(question)
        if question.kind == "checkbox":
            ticked = self.form.get(question.name) == "true"
            return True if ticked else MISSING if question.absent_when_unticked else False
        text = str(self.form.get(question.name) or "").replace("\r\n", "\n").strip()
        if question.kind in _TEXT_KINDS:
            return text or MISSING
        if question.kind in _CHOICE_KINDS:
            return self._choice(question, text) if text else MISSING
        if question.kind in ("date", "datetime"):
            return self._date(question)
        return self._number(question, text) if text else MISSING

    def _object(self, question: Question) -> Any:
        answers: dict[str, Any] = {}
        for child in question.children:
            self._answer(answers, child)
            for key, revealed in child.reveals.items():
                for inner in revealed if self._chosen(child, key) else []:
                    self._answer(answers, inner)
        if question.path and self._blank(answers, question.path):
            return MISSING
        return answers

    def _answer(self, answers: dict[str, Any], question: Question) -> None:
        value = self.read(question)
        if value is not MISSING:
            answers[str(question.path[-1])] = value

    def _chosen(self, controller: Question, key: str) -> bool:
        if controller.kind == "checkboxes":
            return key in self.form.getlist(controller.name)
        return bool(self.form.get(controller.name) == key)

    def _repeating(self, question: Question) -> Any:
        items: list[Any] = []
        pattern = re.compile(rf"{re.escape(question.name)}\.(\d+)(?:[.-]|$)")
        indices = sorted({int(m[1]) for name in self._names if (m := pattern.match(name))})
        for index in indices:
            path = (*question.path, index)
            action = self.action
            removed = action == FormAction("remove", question.path, index)
            value = MISSING if removed else self.read(question.item(index))
            if removed or self._blank(value, path):
                self._discard(path)
                continue
            self._rename(path, (*question.path, len(items)))
            items.append(value)
        return items or MISSING

    def _checkboxes(self, question: Question) -> Any:
        ticked = [str(key) for key in self.form.getlist(question.name) if key]
        chosen = [o.value for o in question.options if option_key(o.value) in ticked]
        if len(chosen) < len(set(ticked)):
            self._problem(question, Problem("must be chosen from the list"), ", ".join(ticked))
            return MISSING
        return chosen or MISSING

    def _choice(self, question: Question, text: str) -> Any:
        for option in question.options:
            if option_key(option.value) == text:
                return option.value
        self._problem(question, Problem("must be one of the options listed"), text)
        return MISSING

    def _number(self, question: Question, text: str) -> Any:
        number = read_number(text, integer=question.kind == "integer")
        if isinstance(number, Problem):
            self._problem(question, number, text)
            return MISSING
        return number

    def _date(self, question: Question) -> Any:
        names = DATE_PARTS if question.kind == "date" else DATETIME_PARTS
        parts = {part: str(self.form.get(f"{question.name}-{part}") or "").strip() for part in names}
        answer = read_date(parts) if question.kind == "date" else read_datetime(parts)
        if isinstance(answer, Problem):
            self._problem(question, answer, parts)
            return MISSING
        if answer is None:
            return MISSING
        return answer if isinstance(answer, str) else answer.isoformat()

    def _problem(self, question: Question, problem: Problem, typed: str | dict[str, str]) -> None:
        self.errors[question.path] = f"{question.label} {problem.message}"
        self.raw[question.path] = RawAnswer(typed, problem.parts)

    def _blank(self, value: Any, path: Path) -> bool:
        """Nothing answered (unticked boxes aside) and nothing typed that could not be read."""
        if any(key[: len(path)] == path for key in self.raw):
            return False
        if isinstance(value, dict):
            return all(self._blank(inner, path) for inner in value.values())
        return value is MISSING or value is False or value == []

    def _discard(self, prefix: Path) -> None:
        self.errors = {p: m for p, m in self.errors.items() if p[: len(prefix)] != prefix}
        self.raw = {p: r for p, r in self.raw.items() if p[: len(prefix)] != prefix}

    def _rename(self, old: Path, new: Path) -> None:
        """Items after a removed or blank one move up: so do their errors, raw answers and actions."""
        if old == new:
            return

        def moved(path: Path) -> Path:
            return new + path[len(old) :] if path[: len(old)] == old else path

        self.errors = {moved(p): m for p, m in self.errors.items()}
        self.raw = {moved(p): r for p, r in self.raw.items()}
        if self.action is not None:
            self.action = replace(self.action, path=moved(self.action.path))
