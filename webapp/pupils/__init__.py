"""Pupils: search (``/pupils``), a pupil's record (``/pupils/<upn>``) and an establishment's page
(``/establishments/<laestab>``).

Open to LA staff and to school users: each view asks engine.access (through the services) about the
pupil or establishment itself, so a school user finds only their own school's pupils and page; anything
else does not exist for them (404).
"""

from __future__ import annotations

from flask import Blueprint

from .presenting import TEMPLATE_GLOBALS

bp = Blueprint("pupils", __name__)

for _name, _function in TEMPLATE_GLOBALS.items():
    bp.add_app_template_global(_function, _name)

from . import establishment_views, views  # noqa: E402, F401  (registers the routes on bp)
