"""Episodes of casework (``/episodes``): the list, opening one, its page (work items, notes, cases,
documents), work items made with the form renderer, and copying a work item into other episodes.
Episode templates are administered under ``/admin/episode-templates`` (a nested blueprint, for
administrators only).

Episodes are the LA's: school users do not reach these pages (404). Each page asks the episode
services, which ask ``engine.access`` about every episode.
"""

from __future__ import annotations

from flask import Blueprint

from ..security import restrict_area
from .template_admin import bp as templates_bp

bp = Blueprint("episodes", __name__)
restrict_area(bp, "tasks")
bp.register_blueprint(templates_bp)

from . import copy_views, item_views, views  # noqa: E402, F401  (registers the routes on bp)
