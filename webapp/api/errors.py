"""Where the API answers an engine error differently from the rest of the app.

A BPMN upload that cannot be deployed is a request the server understood but cannot process: 422
with every problem listed (``problems``), rather than the 400 other pages give. (This belongs in
``webapp.errors.STATUS_OF`` once the CLI and admin pages agree.)
"""

from __future__ import annotations

from flask import Response

from engine.errors import ProcessValidationError

from ..errors import problem
from . import bp

#: Statuses the API gives that differ from ``webapp.errors.STATUS_OF``.
API_STATUS_OF = [(ProcessValidationError, 422)]


@bp.errorhandler(ProcessValidationError)
def invalid_bpmn(error: ProcessValidationError) -> Response:
    return problem(422, error.code, error.message, problems=[p.__dict__ for p in error.problems])
