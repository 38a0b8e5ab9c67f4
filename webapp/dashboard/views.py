"""GET /manage (the dashboard), GET /manage/<list> (tasks, instances, deadlines, alerts: the list a
figure counts, a page at a time) and GET /manage/<list>/export.csv|.xlsx (the whole list)."""

from __future__ import annotations

from flask import Response, render_template, request
from flask.typing import ResponseReturnValue

from engine.services import dashboard as dashboard_service
from engine.services import dashboard_lists

from ..security import audit_event, audit_view, current_principal, engine_context
from . import bp, exports, figures, filters

LISTS = "<any(tasks, instances, deadlines, alerts):kind>"


@bp.get("/manage")
def index() -> ResponseReturnValue:
    board = dashboard_service.dashboard(engine_context(), current_principal())
    audit_view("dashboard", "manage")
    return render_template(
        "dashboard/index.html",
        board=board,
        charts=figures.build(board),
        list_url=figures.list_url,
        stage_url=figures.stage_url,
        started_url=figures.started_url,
        page_title="Dashboard",
    )


@bp.get(f"/manage/{LISTS}", endpoint="list")
def listing(kind: str) -> ResponseReturnValue:
    chosen = filters.read(kind, request.args)
    found = dashboard_lists.list_page(engine_context(), current_principal(), chosen)
    query = filters.query(chosen)
    audit_view(f"{kind}_list", "dashboard", {"filters": query, "rows": len(found.rows), "total": found.total})
    return render_template(
        "dashboard/list.html",
        kind=kind,
        found=found,
        query=query,
        page_title=filters.TITLES[kind],
    )


@bp.get(f"/manage/{LISTS}/export.<any(csv, xlsx):extension>")
def export(kind: str, extension: str) -> ResponseReturnValue:
    chosen = filters.read(kind, request.args)
    found = dashboard_lists.export(engine_context(), current_principal(), chosen)
    query = filters.query(chosen)
    audit_event(
        "export", f"{kind}_list", "dashboard", {"filters": query, "format": extension, "rows": found.total}
    )
    name = f"educase-{kind}-{found.horizon.today.isoformat()}.{extension}"
    if extension == "csv":
        body, content_type = exports.as_csv(found), exports.CSV_TYPE
    else:
        body, content_type = exports.as_xlsx(found, filters.TITLES[kind]), exports.XLSX_TYPE
    return Response(
        body, content_type=content_type, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )
