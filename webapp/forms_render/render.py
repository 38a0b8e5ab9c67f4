"""Rendering a form as GOV.UK Design System HTML on the server: each question with the govuk-frontend
macro that asks it, the answers given so far, an error summary linking to each field with a problem,
and the message by the field itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from engine.errors import FieldError

from .answers import DATE_PARTS, DATETIME_PARTS, date_parts, datetime_parts, number_text, option_key
from .components import component, template
from .params import (
    DATE_WIDTHS,
    field_path,
    label,
    legend,
    lower_first,
    multiline,
    summary_value,
    text,
)
from .parse import ACTION_FIELD, ParsedForm, RawAnswer, value_at
from .questions import Path, Question, build_form, item_title
from .readonly import summary_rows
from .schema import Schema, UiSchema, ui_value

DATE_EXAMPLE = "For example, 27 3 2007"
DATETIME_EXAMPLE = "For example, 27 3 2007 and 14:30 or 2:30pm"
_INPUT_TYPES = {"email": "email", "url": "url"}
_NUMBER_MODES = {"integer": "numeric", "number": "decimal"}


@dataclass(frozen=True)
class RenderedForm:
    """A rendered form. Put ``error_summary`` at the top of the page's main content (above the h1)
    and ``fields`` inside the ``<form>``; ``str(rendered)`` / ``{{ rendered }}`` gives both."""

    fields: Markup
    error_summary: Markup
    title: str
    description: str
    errors: tuple[FieldError, ...] = ()

    @property
    def has_errors(self) -> bool:
        """Whether there is anything to correct (prefix the page title with "Error: ")."""
        return bool(self.errors)

    def __html__(self) -> str:
        return str(self.error_summary + self.fields)

    def __str__(self) -> str:
        return self.__html__()


def render_form(
    schema: Schema,
    ui_schema: UiSchema | None = None,
    data: dict[str, Any] | None = None,
    errors: Iterable[FieldError] = (),
    *,
    parsed: ParsedForm | None = None,
    action_url: str = "",
) -> RenderedForm:
    """The form's HTML, showing ``data`` and ``errors``.

    After a POST pass ``parsed`` (from :func:`parse_form`): answers that could not be read are shown
    as they were typed, and an "Add another" adds an empty item with the focus on it. ``action_url``
    is where the form posts (the page itself by default); "Add another" and "Remove" post there too.
    """
    root = build_form(schema, ui_schema)
    given = list(errors)
    renderer = _Renderer(
        data if data is not None else (parsed.data if parsed else {}), given, parsed, action_url
    )
    fields = renderer.render(root)
    if renderer.has_repeating:
        # Enter in a text box presses the form's first submit button: make it "Continue", not "Remove".
        fields = template("default_button.html", name=ACTION_FIELD) + fields
    summary = renderer.error_summary()
    return RenderedForm(fields, summary, root.label, root.hint, tuple(given))


class _Renderer:
    """Renders one form; remembers, in page order, which errors each question showed."""

    def __init__(
        self, data: Any, errors: list[FieldError], parsed: ParsedForm | None, action_url: str
    ) -> None:
        self.data = data
        self.errors = [(field_path(error.path), error.message) for error in errors]
        self.raw: dict[Path, RawAnswer] = parsed.raw if parsed else {}
        action = parsed.action if parsed else None
        self.adding = action.path if action and action.verb == "add" else None
        self.focus: Path | None = None
        self.action_url = action_url
        self.defaults = parsed is None  # a form shown for the first time starts from the schema's defaults
        self.has_repeating = False
        self.shown: list[tuple[Path, str | None, list[int]]] = []  # question, anchor, errors shown
        self._claimed: set[int] = set()

    # --- errors -------------------------------------------------------------------------------

    def claim(self, question: Question, anchor: str | None, *, leaf: bool) -> str | None:
        """The message to show by ``question``: errors at its path (and, for a single field, below)."""
        mine = [
            index
            for index, (path, _) in enumerate(self.errors)
            if index not in self._claimed
            and (path == question.path or (leaf and path[: len(question.path)] == question.path))
        ]
        self._claimed.update(mine)
        self.shown.append((question.path, anchor, mine))
        return self.errors[mine[0]][1] if mine else None

    def error_summary(self) -> Markup:
        """The GOV.UK error summary: one link per field with a problem, in the order of the page."""
        items = [self._summary_item(anchor, mine[0]) for _, anchor, mine in self.shown if mine]
        for index, (path, _) in enumerate(self.errors):
            if index not in self._claimed:  # not shown by any field: link to the nearest part shown
                anchors = [a for p, a, _ in self.shown if p == path[: len(p)] and a]
                items.append(self._summary_item(anchors[-1] if anchors else None, index))
        if not items:
            return Markup("")
        return component("error-summary", {"titleText": "There is a problem", "errorList": items})

    def _summary_item(self, anchor: str | None, index: int) -> dict[str, Any]:
        return {"text": self.errors[index][1], **({"href": f"#{anchor}"} if anchor else {})}

    # --- questions ----------------------------------------------------------------------------

    def render(self, question: Question) -> Markup:
        """The HTML asking ``question`` (nothing for a hidden one)."""
        if question.hidden:
            return Markup("")
        if question.readonly:
            return self._readonly(question)
        method = getattr(self, _METHODS.get(question.kind, "_input"))
        html: Markup = method(question)
        return html

    def _children(self, question: Question) -> Markup:
        return Markup("\n").join(self.render(child) for child in question.children)

    def _value(self, question: Question) -> Any:
        value = value_at(self.data, question.path)
        if value is None and self.defaults and question.kind not in ("fieldset", "repeating"):
            return question.schema.get("default")
        return value

    def _autofocus(self, question: Question) -> dict[str, Any]:
        """``autofocus`` for the first field of an item just added (so the person lands in it)."""
        if self.focus is None or question.path[: len(self.focus)] != self.focus:
            return {}
        self.focus = None
        return {"autofocus": {"value": True, "optional": True}}

    def _common(self, question: Question, anchor: str | None = None, *, leaf: bool = True) -> dict[str, Any]:
        error = self.claim(question, anchor if anchor is not None else question.id, leaf=leaf)
        return {
            "hint": {"text": question.hint} if question.hint else None,
            "errorMessage": {"text": error} if error else None,
        }

    def _input(self, question: Question) -> Markup:
        raw = self.raw.get(question.path)
        value = self._value(question)
        number = question.kind in _NUMBER_MODES
        params = {
            **self._common(question),
            "id": question.id,
            "name": question.name,
            "label": label(question),
            "value": raw.value if raw else (number_text(value) if number else text(value)),
            "type": _INPUT_TYPES.get(question.kind, "text"),
            "inputmode": _NUMBER_MODES.get(question.kind),
            "spellcheck": False if number or question.kind in _INPUT_TYPES else None,
            "autocomplete": ui_value(question.ui, "autocomplete")
            or ("email" if question.kind == "email" else None),
            "classes": "govuk-input--width-10" if number else ui_value(question.ui, "classes"),
            "attributes": self._autofocus(question),
        }
        return component("input", params)

    def _textarea(self, question: Question) -> Markup:
        limit = question.schema.get("maxLength")
        params = {
            **self._common(question),
            "id": question.id,
            "name": question.name,
            "label": label(question),
            "value": multiline(self._value(question)),
            "rows": ui_value(question.ui, "rows", 5),
            "attributes": self._autofocus(question),
        }
        if isinstance(limit, int):
            return component("character-count", {**params, "maxlength": limit})
        return component("textarea", params)

    def _date(self, question: Question) -> Markup:
        raw = self.raw.get(question.path)
        timed = question.kind == "datetime"
        names = DATETIME_PARTS if timed else DATE_PARTS
        typed = raw.value if raw and isinstance(raw.value, dict) else None
        shown = typed or (datetime_parts if timed else date_parts)(self._value(question))
        bad = raw.bad_parts if raw else ()
        common = self._common(question, f"{question.id}-{bad[0] if bad else 'day'}")
        if common["errorMessage"] and not bad:
            bad = names
        example = DATETIME_EXAMPLE if timed else DATE_EXAMPLE
        focus = self._autofocus(question)
        items = [
            {
                "name": part,
                "label": part.capitalize(),
                "value": shown.get(part, ""),
                "classes": " ".join([DATE_WIDTHS[part], *(["govuk-input--error"] if part in bad else [])]),
                "inputmode": "text" if part == "time" else None,
                "autocomplete": f"bday-{part}" if ui_value(question.ui, "autocomplete") == "bday" else None,
                "attributes": focus if part == "day" else {},
            }
            for part in names
        ]
        return component(
            "date-input",
            {
                **common,
                "id": question.id,
                "namePrefix": question.name,
                "fieldset": {"legend": legend(question, "s")},
                "hint": {"text": " ".join(filter(None, [question.hint, example]))},
                "items": items,
            },
        )

    def _choices(self, question: Question, selected: list[str]) -> list[dict[str, Any]]:
        focus = self._autofocus(question)
        items = []
        for position, option in enumerate(question.options):
            key = option_key(option.value)
            revealed = question.reveals.get(key, [])
            item: dict[str, Any] = {
                "value": key,
                "text": option.label,
                "attributes": focus if position == 0 else {},
            }
            if key in selected:
                item["checked"] = True
            if revealed:
                item["conditional"] = {"html": Markup("\n").join(self.render(q) for q in revealed)}
            items.append(item)
        return items

    def _radios(self, question: Question) -> Markup:
        raw = self.raw.get(question.path)
        value = self._value(question)
        selected = [option_key(value)] if value is not None else [str(raw.value)] if raw else []
        common = self._common(question)  # before the revealed questions, so errors keep page order
        items = self._choices(question, selected)
        inline = (question.kind == "yesno" and not question.reveals) or ui_value(question.ui, "inline")
        return component(
            "radios",
            {
                **common,
                "idPrefix": question.id,
                "name": question.name,
                "fieldset": {"legend": legend(question, "s")},
                "items": items,
                "classes": "govuk-radios--inline" if inline else None,
            },
        )

    def _checkboxes(self, question: Question) -> Markup:
        value = self._value(question)
        selected = [option_key(v) for v in value] if isinstance(value, list) else []
        common = self._common(question)
        params = {
            **common,
            "idPrefix": question.id,
            "name": question.name,
            "fieldset": {"legend": legend(question, "s")},
            "items": self._choices(question, selected),
        }
        return component("checkboxes", params)

    def _checkbox(self, question: Question) -> Markup:
        common = self._common(question)
        revealed = question.reveals.get("true", [])
        item: dict[str, Any] = {
            "value": "true",
            "text": question.label,
            "checked": self._value(question) is True,
            "hint": common.pop("hint"),
            "attributes": self._autofocus(question),
        }
        if revealed:
            item["conditional"] = {"html": Markup("\n").join(self.render(q) for q in revealed)}
        return component(
            "checkboxes", {**common, "idPrefix": question.id, "name": question.name, "items": [item]}
        )

    def _select(self, question: Question) -> Markup:
        raw = self.raw.get(question.path)
        value = self._value(question)
        params = {
            **self._common(question),
            "id": question.id,
            "name": question.name,
            "label": label(question),
            "value": option_key(value) if value is not None else (raw.value if raw else ""),
            "items": [{"value": "", "text": "Select an option"}]
            + [{"value": option_key(o.value), "text": o.label} for o in question.options],
            "attributes": self._autofocus(question),
        }
        return component("select", params)

    def _fieldset(self, question: Question) -> Markup:
        error = self.claim(question, question.id or None, leaf=False)
        body = self._children(question)
        if not question.path:
            return body
        size = "s" if isinstance(question.path[-1], int) or len(question.path) > 1 else "m"
        return template("fieldset.html", question=question, legend_size=size, error=error, body=body)

    def _repeating(self, question: Question) -> Markup:
        self.has_repeating = True
        error = self.claim(question, question.id, leaf=False)
        value = self._value(question)
        count = len(value) if isinstance(value, list) else 0
        if self.adding == question.path:
            self.focus = (*question.path, count)
            count += 1
        least = _whole(question.schema.get("minItems")) or 0
        most = _whole(question.schema.get("maxItems"))
        count = max(count, least, 1)
        items = [question.item(index) for index in range(count)]
        return template(
            "repeating.html",
            question=question,
            items=[(item, self.render(item)) for item in items],
            error=error,
            removable=count > max(least, 1) and ui_value(question.ui, "removable", True) is not False,
            addable=(most is None or count < most) and ui_value(question.ui, "addable", True) is not False,
            add_label=ui_value(question.ui, "addLabel") or f"Add another {lower_first(item_title(question))}",
            action_field=ACTION_FIELD,
            action_url=self.action_url,
        )

    def _readonly(self, question: Question) -> Markup:
        self.claim(question, None, leaf=True)
        rows = [
            {"key": {"text": key}, "value": summary_value(answer)}
            for key, answer in summary_rows(question, self.data)
        ]
        return component(
            "summary-list", {"rows": rows, "classes": "govuk-summary-list--no-border educase-readonly"}
        )


_METHODS = {
    "textarea": "_textarea",
    "date": "_date",
    "datetime": "_date",
    "radios": "_radios",
    "yesno": "_radios",
    "select": "_select",
    "checkboxes": "_checkboxes",
    "checkbox": "_checkbox",
    "fieldset": "_fieldset",
    "repeating": "_repeating",
}


def _whole(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
