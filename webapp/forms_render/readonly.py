"""Read-only answers (``readOnly`` in the schema or ``ui:readonly``), shown as a GOV.UK summary list
rather than as fields: the person sees the answer but cannot change it."""

from __future__ import annotations

from typing import Any

from .answers import date_text, datetime_text, option_key
from .parse import value_at
from .questions import Question

NOT_GIVEN = "Not given"


def summary_rows(question: Question, data: Any, prefix: str = "") -> list[tuple[str, str | list[str]]]:
    """(label, answer) rows for a read-only question: a list of answers is one row with a line for
    each; objects (and lists of objects) give a row per answer."""
    key = f"{prefix}{question.label}"
    value = value_at(data, question.path)
    if question.kind == "fieldset":
        rows = [row for child in question.children for row in summary_rows(child, data, f"{key}: ")]
        return rows or [(key, NOT_GIVEN)]
    if question.kind == "repeating":
        items = [question.item(i) for i in range(len(value) if isinstance(value, list) else 0)]
        if items and all(item.kind not in ("fieldset", "repeating") for item in items):
            return [(key, [answer_text(item, value_at(data, item.path)) for item in items])]
        rows = [row for item in items for row in summary_rows(item, data, prefix)]
        return rows or [(key, NOT_GIVEN)]
    return [(key, answer_text(question, value))]


def answer_text(question: Question, value: Any) -> str:
    """How one answer reads: dates in words, options by their labels, booleans as Yes or No."""
    if value is None or value == [] or value == "":
        return NOT_GIVEN
    labels = {option_key(o.value): o.label for o in question.options}
    if isinstance(value, list):
        return ", ".join(labels.get(option_key(v), str(v)) for v in value)
    if isinstance(value, bool):
        return labels.get(option_key(value), "Yes" if value else "No")
    if question.kind == "date":
        return date_text(value)
    if question.kind == "datetime":
        return datetime_text(value)
    return labels.get(option_key(value), str(value))
