"""The school portal (``/portal``): a school's own cases and the tasks they ask of it, its pupils, and
what it sends the LA: absence referrals, suspension and exclusion notifications, deletion returns,
alternative provision requests and attendance files.

Open to school users only (``restrict_area(bp, "portal")``); each page asks the portal services,
which read only the school user's own establishment: another school's pupils and cases are, here,
"not found".
"""

from __future__ import annotations

from flask import Blueprint

from ..security import restrict_area

bp = Blueprint("portal", __name__, url_prefix="/portal")
restrict_area(bp, "portal")

from . import send_views, upload_views, views  # noqa: E402, F401  (registers the routes on bp)
