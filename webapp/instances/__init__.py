"""Managers' and administrators' pages about process instances (cases): the list with filters, one
instance's page, and suspend / resume / cancel / retry.

The one exception is the diagram's BPMN file (``/instances/<id>/diagram.bpmn``), which the task
page draws too: it is open to anyone ``engine.access`` lets see the instance.
"""

from __future__ import annotations

from flask import Blueprint, request

from engine import access

from ..security import current_principal

bp = Blueprint("instances", __name__)

#: Endpoints open beyond the manage area (each asks engine.access about the instance itself).
OPEN_TO_CASE_READERS = frozenset({"instances.diagram"})


@bp.before_request
def _enter_area() -> None:
    if request.endpoint not in OPEN_TO_CASE_READERS:
        access.require(access.may_enter(current_principal(), "manage"), "page")


from . import views  # noqa: E402, F401  (registers the routes on bp)
