"""Rendering templates, and the ``generate_document`` connector that service tasks call."""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Iterator
from contextvars import ContextVar
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateNotFound, select_autoescape
from jinja2.exceptions import UndefinedError
from jinja2.sandbox import SandboxedEnvironment

from ..errors import ScriptError

TEMPLATES = Path(__file__).parent / "templates"

_pending: ContextVar[list[dict[str, Any]] | None] = ContextVar("educase_pending_documents", default=None)


@cache
def _environment() -> Environment:
    env = SandboxedEnvironment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["uk_date"] = _uk_date
    env.filters["money"] = lambda value: f"£{float(value):,.2f}"
    return env


def _uk_date(value: Any) -> str:
    """2026-03-02 -> 2 March 2026 (the style GOV.UK letters use)."""
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    if isinstance(value, datetime):
        value = value.date()
    return f"{value.day} {value:%B %Y}" if isinstance(value, date) else str(value)


def template_names() -> list[str]:
    return sorted(p.stem for p in TEMPLATES.glob("*.html") if not p.name.startswith("_"))


def render_document(template: str, data: dict[str, Any]) -> str:
    """Render ``template`` with ``data``; a missing field or template is a clear ScriptError."""
    from ..workflow.sandbox import today

    try:
        return (
            _environment()
            .get_template(f"{template}.html")
            .render(**{"today_iso": today().isoformat(), **data})
        )
    except TemplateNotFound:
        raise ScriptError(f"There is no document template '{template}' (have: {', '.join(template_names())})")
    except UndefinedError as error:
        raise ScriptError(
            f"The document template '{template}' needs data the case does not have: {error.message}"
        )


class DocumentConnector:
    """The ``generate_document`` service operator: renders now, stores when the step's transaction saves."""

    name = "generate_document"

    def __call__(self, task_data: dict[str, Any], params: dict[str, Any]) -> str:
        template = str(params.get("template", {}).get("value") or "")
        title = str(params.get("title", {}).get("value") or template.replace("_", " ").capitalize())
        html = render_document(template, task_data)
        reference = str(uuid.uuid4())
        pending = _pending.get()
        if pending is None:
            raise ScriptError("Documents can only be generated while a process step is being saved.")
        pending.append({"reference": reference, "template": template, "title": title, "html": html})
        return json.dumps({"reference": reference, "template": template, "title": title})


@contextlib.contextmanager
def collecting_documents() -> Iterator[list[dict[str, Any]]]:
    """Collect the documents generated inside the block (by this thread's engine steps)."""
    pending: list[dict[str, Any]] = []
    token = _pending.set(pending)
    try:
        yield pending
    finally:
        _pending.reset(token)
