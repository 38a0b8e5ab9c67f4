"""Pieces of GOV.UK component parameters that the renderer builds for every kind of question:
labels and legends (with "(optional)"), values as a box shows them, summary list values."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup, escape

from .questions import Path, Question

DATE_WIDTHS = {
    "day": "govuk-input--width-2",
    "month": "govuk-input--width-2",
    "year": "govuk-input--width-4",
    "time": "govuk-input--width-5",
}


def label(question: Question) -> dict[str, str]:
    """The ``label`` parameter of a question's input."""
    return {"text": question_text(question), "classes": "govuk-label--s"}


def legend(question: Question, size: str) -> dict[str, str]:
    """The fieldset ``legend`` of a question asked with several inputs (radios, date boxes)."""
    return {"text": question_text(question), "classes": f"govuk-fieldset__legend--{size}"}


def question_text(question: Question) -> str:
    return f"{question.label} (optional)" if question.is_optional else question.label


def text(value: Any) -> str:
    """A stored value as a text box shows it."""
    return "" if value is None else str(value)


def multiline(value: Any) -> Markup:
    """Text for a textarea with its line breaks as character references: the GOV.UK macros indent
    the HTML they nest (a textarea revealed by a radio, say), which would indent the text itself."""
    return escape(text(value)).replace("\r", Markup("&#13;")).replace("\n", Markup("&#10;"))


def lower_first(text: str) -> str:
    """``Parent`` → ``parent``, but ``EHCP plan`` stays as it is."""
    return text[:1].lower() + text[1:] if text[1:2].islower() else text


def field_path(dotted: str) -> Path:
    """``parents.0.name`` → ``("parents", 0, "name")``."""
    return tuple(int(part) if part.isdigit() else part for part in dotted.split(".")) if dotted else ()


def summary_value(answer: str | list[str]) -> dict[str, Any]:
    """The ``value`` of a summary list row: text, or one line per answer of a list."""
    if isinstance(answer, str):
        return {"text": answer}
    lines = Markup("").join(Markup("<li>%s</li>") % line for line in answer)
    return {"html": Markup('<ul class="govuk-list">%s</ul>') % lines}
