"""Answers shown read-only as GOV.UK summary list rows: what someone sent for a task that a colleague
had already completed (so nothing they typed is lost), and completed tasks' submissions."""

from __future__ import annotations

from typing import Any

from engine.forms import FormDefinition

from ..forms_render.answers import option_key
from ..forms_render.params import summary_value
from ..forms_render.parse import value_at
from ..forms_render.questions import Question, build_form
from ..forms_render.readonly import NOT_GIVEN, summary_rows


def answer_rows(form: FormDefinition | None, data: dict[str, Any]) -> list[dict[str, Any]]:
    """``govukSummaryList`` rows for every answered question of ``form`` (revealed ones included)."""
    if form is None:
        return []
    rows: list[dict[str, Any]] = []
    for question in build_form(form.schema, form.ui_schema).children:
        _add(question, data, rows)
    return rows


def _add(question: Question, data: dict[str, Any], rows: list[dict[str, Any]]) -> None:
    if question.hidden:
        return
    for key, answer in summary_rows(question, data):
        if answer != NOT_GIVEN:
            rows.append({"key": {"text": key}, "value": summary_value(answer)})
    for choice, revealed in question.reveals.items():
        if _chosen(value_at(data, question.path), choice):
            for inner in revealed:
                _add(inner, data, rows)


def _chosen(value: Any, choice: str) -> bool:
    if isinstance(value, list):
        return choice in {option_key(v) for v in value}
    return value is not None and option_key(value) == choice
