"""The Jinja environment that renders forms: GOV.UK Frontend's macros (govuk-frontend-jinja) called with
parameter dicts, and this package's own templates. Autoescaping is on, so every string passed as
``text`` is escaped; only HTML this package built itself is passed as ``html``.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from jinja2 import BaseLoader, ChoiceLoader, Environment, PackageLoader, PrefixLoader
from markupsafe import Markup

_GOVUK = "govuk_frontend_jinja"


def govuk_loader() -> BaseLoader:
    """Loads ``govuk_frontend_jinja/...`` templates (the GOV.UK macros and page template).

    The web app adds this to its own loader so that pages can extend
    ``govuk_frontend_jinja/template.html``::

        app.jinja_loader = ChoiceLoader([app.jinja_loader, govuk_loader()])
    """
    return PrefixLoader({_GOVUK: PackageLoader(_GOVUK)})


def template_loader() -> BaseLoader:
    """This package's templates (``forms_render/...``) and the GOV.UK macros."""
    return ChoiceLoader([PackageLoader("webapp.forms_render", "templates"), govuk_loader()])


@cache
def environment() -> Environment:
    """The environment forms are rendered with (one per process; it caches compiled templates)."""
    return Environment(loader=template_loader(), autoescape=True)


@cache
def _macro(component: str) -> Any:
    """The macro ``govukDateInput`` for component ``date-input``."""
    name = "govuk" + "".join(word.capitalize() for word in component.split("-"))
    module = environment().get_template(f"{_GOVUK}/components/{component}/macro.html").module
    return getattr(module, name)


def component(name: str, params: dict[str, Any]) -> Markup:
    """The HTML of GOV.UK component ``name`` (``input``, ``date-input``...) with these parameters."""
    return Markup(_macro(name)(params).strip())


def template(template_name: str, **context: Any) -> Markup:
    """The HTML of this package's template ``forms_render/<template_name>``."""
    return Markup(environment().get_template(f"forms_render/{template_name}").render(**context).strip())
