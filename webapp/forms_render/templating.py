"""Setting up a Flask app's templates for EduCase's layout: the GOV.UK macros and page template
(``govuk_frontend_jinja/...``), this package's templates, and the date filters the layout and
macros use."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from jinja2 import ChoiceLoader

from .answers import date_text, datetime_text
from .components import template_loader

if TYPE_CHECKING:
    from flask import Flask


def init_app(app: Flask) -> None:
    """Add the GOV.UK loader and the ``uk_date``/``uk_datetime`` filters to ``app``'s templates."""
    own = [app.jinja_loader] if app.jinja_loader is not None else []
    app.jinja_loader = ChoiceLoader([*own, template_loader()])
    app.jinja_env.filters.update(TEMPLATE_FILTERS)


def uk_date(value: Any) -> str:
    """A date as GOV.UK writes it: ``2 September 2024`` (date-times in UK local time)."""
    if isinstance(value, datetime):
        return datetime_text(value.isoformat()).split(" at ")[0]
    if isinstance(value, date):
        return date_text(value.isoformat())
    return date_text(value) if value else ""


def uk_datetime(value: Any) -> str:
    """A date-time in UK local time: ``2 September 2024 at 9:30am`` (a naive value is UTC)."""
    if isinstance(value, datetime):
        return datetime_text(value.isoformat())
    if isinstance(value, date):
        return date_text(value.isoformat())
    return datetime_text(value) if value else ""


TEMPLATE_FILTERS = {"uk_date": uk_date, "uk_datetime": uk_datetime}
