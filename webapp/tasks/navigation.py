"""The service navigation of the casework pages: Tasks for LA staff, Cases for managers."""

from __future__ import annotations

from typing import Any

from flask import url_for

from engine import access

from ..security import signed_in_principal


def navigation(current: str) -> list[dict[str, Any]]:
    """Links for the signed-in person; ``current`` ("tasks" or "instances") is marked as the page's."""
    principal = signed_in_principal()
    if principal is None:
        return []
    links = []
    if access.may_enter(principal, "tasks"):
        links.append({"href": url_for("tasks.inbox"), "text": "Tasks", "active": current == "tasks"})
    if access.may_manage_instance(principal):
        links.append({"href": url_for("instances.index"), "text": "Cases", "active": current == "instances"})
    return links
