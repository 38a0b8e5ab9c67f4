"""Alerts: the list with a tab per team (``/alerts``), one alert with its history (``/alerts/<id>``),
moving it on (acknowledge, mark as actioned, close: the last two with a reason) and starting a case
from it. The LA's casework area: school users have no alerts (404)."""

from __future__ import annotations

from flask import Blueprint

from ..pupils.presenting import TEMPLATE_GLOBALS
from ..security import restrict_area

bp = Blueprint("alerts", __name__)
restrict_area(bp, "tasks")

for _name, _function in TEMPLATE_GLOBALS.items():
    bp.add_app_template_global(_function, _name)

from . import views  # noqa: E402, F401  (registers the routes on bp)
