"""The lists behind the dashboard's figures (open tasks, cases at a stage, deadlines, alerts), a page at
a time or whole for an export. What each list selects is in ``engine.services.dashboard_list_queries``,
with the same conditions as its figure (``engine.services.dashboard``), so a bar's count and its list
agree exactly. Managers and administrators only.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from .. import clock
from ..access import Principal
from ..errors import InvalidInput
from .dashboard_list_queries import (
    KINDS,
    AlertFilters,
    Column,
    DeadlineFilters,
    Filters,
    InstanceFilters,
    Names,
    Query,
    TaskFilters,
)
from .dashboard_terms import Horizon, deadline_horizon, require_manager

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from ..context import Context

__all__ = ["AlertFilters", "DeadlineFilters", "Filters", "InstanceFilters", "ListPage", "TaskFilters", "export",
           "list_page"]  # fmt: skip

PAGE_SIZE = 25
EXPORT_LIMIT = 100_000


@dataclass
class ListPage:
    """One page of a list (or, for an export, all of it: ``page`` 0)."""

    filters: Filters
    columns: list[Column]
    rows: list[dict[str, Any]]
    total: int
    has_next: bool
    horizon: Horizon
    now: datetime
    described: list[tuple[str, str | date]] = field(default_factory=list)  # the filters in words


def list_page(ctx: Context, principal: Principal, filters: Filters) -> ListPage:
    """One page of the list ``filters`` describe."""
    return _read(ctx, principal, replace(filters, page=max(1, filters.page)), export=False)


def export(ctx: Context, principal: Principal, filters: Filters) -> ListPage:
    """All of the list (every page), for a CSV or XLSX file; refuses more than EXPORT_LIMIT rows."""
    return _read(ctx, principal, replace(filters, page=0), export=True)


def _read(ctx: Context, principal: Principal, filters: Filters, *, export: bool) -> ListPage:
    require_manager(principal)
    now = clock.now()
    kind = KINDS[type(filters)]
    with ctx.db.transaction() as session:
        horizon = deadline_horizon(ctx, session, now)
        names = Names.load(session)
        found = kind.query(session, principal, filters, now, horizon)
        total = _count(session, found)
        if export and total > EXPORT_LIMIT:
            raise InvalidInput(
                f"This list has {total:,} rows; an export holds at most {EXPORT_LIMIT:,}. Narrow the filters."
            )
        query = found.select.order_by(*found.order)
        if not export:
            query = query.limit(PAGE_SIZE + 1).offset((filters.page - 1) * PAGE_SIZE)
        results = [dict(r) for r in session.execute(query).mappings()]
        shown = results if export else results[:PAGE_SIZE]
        rows = kind.rows(session, shown, names)
        described = kind.describe(session, filters, names)
    has_next = len(results) > PAGE_SIZE and not export
    return ListPage(filters, kind.columns, rows, total, has_next, horizon, now, described)


def _count(session: Session, found: Query) -> int:
    counter = (
        found.count if found.count is not None else select(func.count()).select_from(found.select.subquery())
    )
    return session.scalar(counter) or 0
