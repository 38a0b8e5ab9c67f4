"""GET /pupils (search by name, UPN or school; htmx refreshes only the results) and GET
/pupils/<upn> (the record; ``?year=2025`` shows another school year's attendance)."""

from __future__ import annotations

import re

from flask import render_template, request
from flask.typing import ResponseReturnValue

from engine.attendance.pupil_views import KEY
from engine.services import pupil_record, pupil_search

from ..security import audit_view, current_principal, engine_context
from . import bp
from .presenting import chart_summary, weekly_chart

LAESTAB = re.compile(r"\d{7}")


@bp.get("/pupils")
def search() -> ResponseReturnValue:
    school = request.args.get("school", "").strip()
    errors = {} if not school or LAESTAB.fullmatch(school) else {"school": "Choose a school from the list"}
    found = pupil_search.search_pupils(
        engine_context(),
        current_principal(),
        request.args.get("q", ""),
        "" if errors else school,
        page=page_number(request.args.get("page")),
    )
    if found.searched:
        audit_view(
            "pupil_search", "-", {"text": found.text, "school": found.laestab, "found": len(found.hits)}
        )
    partial = request.headers.get("HX-Request") and not request.headers.get("HX-Boosted")
    return render_template(
        "pupils/_results.html" if partial else "pupils/search.html",
        found=found,
        errors=errors,
        error_list=[{"text": message, "href": f"#{name}"} for name, message in errors.items()],
        query={
            k: v
            for k, v in {"q": found.text, "school": found.laestab}.items()
            if v and not (k == "school" and current_principal().is_school)
        },
        page_title=("Error: " if errors else "") + "Find a pupil",
    )


@bp.get("/pupils/<upn>")
def record(upn: str) -> ResponseReturnValue:
    year = request.args.get("year", "")
    found = pupil_record.pupil_record(
        engine_context(),
        current_principal(),
        upn[:20],
        int(year) if year.isdigit() and len(year) == 4 else None,
    )
    audit_view("pupil", found.pupil.upn, {"school_year": found.school_year})
    return render_template(
        "pupils/record.html",
        record=found,
        pupil=found.pupil,
        charts={a.enrolment.id: weekly_chart(a.weeks) for a in found.attendance},
        chart_summaries={a.enrolment.id: chart_summary(a.weeks) for a in found.attendance},
        key=KEY,
        page_title=found.pupil.full_name,
    )


def page_number(text: str | None) -> int:
    return int(text) if text and text.isdigit() and len(text) < 7 else 1
