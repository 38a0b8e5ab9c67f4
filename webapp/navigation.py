"""The service navigation: one list, filtered by what the person may use and what is installed.

Each item names an endpoint; an item whose blueprint is not registered (or whose area the person may
not enter) is simply not shown, so features can be added one blueprint at a time.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, request, url_for
from werkzeug.routing import BuildError

from engine.access import may_enter

from .security import signed_in_principal

# (label, endpoint, area)
ITEMS: list[tuple[str, str, str]] = [
    ("Tasks", "tasks.inbox", "tasks"),
    ("Pupils", "pupils.search", "tasks"),
    ("Alerts", "alerts.inbox", "tasks"),
    ("Episodes", "episodes.index", "tasks"),
    ("Cases", "instances.index", "manage"),
    ("Dashboard", "dashboard.index", "manage"),
    ("My school", "portal.home", "portal"),
    ("Administration", "admin.index", "admin"),
]


def items_for_request() -> list[dict[str, Any]]:
    principal = signed_in_principal()
    if principal is None:
        return []
    shown = []
    for label, endpoint, area in ITEMS:
        if not may_enter(principal, area):
            continue
        try:
            href = url_for(endpoint)
        except BuildError:
            continue
        shown.append({"text": label, "href": href, "active": request.path.startswith(href)})
    return shown


def init_app(app: Flask) -> None:
    @app.context_processor
    def navigation() -> dict[str, Any]:
        return {"navigation": items_for_request()}
