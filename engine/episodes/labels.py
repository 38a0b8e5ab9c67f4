"""How a person reads a dotted field path of a form: ``child.name`` → "Child: Name"."""

from __future__ import annotations

from typing import Any

from engine.forms.validation import schemas_at


def field_label(schema: dict[str, Any], dotted: str) -> str:
    """The titles of each step of ``dotted`` (``*`` stands for any entry of a list), joined by ": "."""
    parts = [part for part in dotted.split(".") if part]
    labels: list[str] = []
    for depth, part in enumerate(parts, start=1):
        if part == "*" or part.isdigit():
            continue
        path = [0 if p == "*" or p.isdigit() else p for p in parts[:depth]]
        found = schemas_at(schema, path)
        title = next((s["title"] for s in found if isinstance(s.get("title"), str) and s["title"]), None)
        labels.append(title or part.replace("_", " ").capitalize())
    return ": ".join(labels) or dotted
