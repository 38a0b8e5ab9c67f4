"""Managers' monitoring (``/manage``): the dashboard's charts and the lists each figure drills down
to, exportable as CSV and XLSX. Managers and administrators only: to anyone else these pages do not
exist (404)."""

from __future__ import annotations

from flask import Blueprint

from ..security import restrict_area

bp = Blueprint("dashboard", __name__)
restrict_area(bp, "manage")

from . import views  # noqa: E402, F401  (registers the routes on bp)
