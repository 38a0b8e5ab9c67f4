"""Caseworkers' pages: the task inbox (``/tasks``) and the task page (``/tasks/<id>``) with its form.

The inbox is the LA's: school users do not have one (their portal lists their school's work). A task
page is open to whoever ``engine.access`` lets see that task, school users included for their own
school's tasks; for everyone else the task does not exist (404).
"""

from __future__ import annotations

from flask import Blueprint, request

from engine import access

from ..security import current_principal
from .deadlines import uk_deadline

bp = Blueprint("tasks", __name__)

#: Endpoints a school user may reach: each asks engine.access about the task itself.
OPEN_TO_SCHOOLS = frozenset({"tasks.task", "tasks.submit", "tasks.claim", "tasks.release"})


@bp.before_request
def _enter_area() -> None:
    if request.endpoint not in OPEN_TO_SCHOOLS:
        access.require(access.may_enter(current_principal(), "tasks"), "page")


bp.add_app_template_filter(uk_deadline)

from . import inbox_views, task_views  # noqa: E402, F401  (registers the routes on bp)
