"""GET /establishments/<laestab>: an establishment's roll, attendance, referrals, contracts, episodes
and alerts (``?year=2025`` another school year; ``?roll=persistent`` and ``?page=2`` narrow the roll)."""

from __future__ import annotations

from flask import render_template, request
from flask.typing import ResponseReturnValue

from engine.services import establishment_page
from engine.services.establishment_page import ROLL_FILTERS

from ..security import audit_view, current_principal, engine_context
from . import bp
from .presenting import chart_summary, weekly_chart
from .views import page_number


@bp.get("/establishments/<laestab>")
def establishment(laestab: str) -> ResponseReturnValue:
    year = request.args.get("year", "")
    page = establishment_page.establishment_page(
        engine_context(),
        current_principal(),
        laestab[:20],
        school_year=int(year) if year.isdigit() and len(year) == 4 else None,
        roll_filter=request.args.get("roll", "all"),
        roll_page=page_number(request.args.get("page")),
    )
    audit_view("establishment", page.laestab, {"school_year": page.school_year, "roll": page.roll_filter})
    return render_template(
        "pupils/establishment.html",
        page=page,
        chart=weekly_chart(page.weeks),
        summary=chart_summary(page.weeks),
        roll_filters=ROLL_FILTERS,
        page_title=page.name,
    )
