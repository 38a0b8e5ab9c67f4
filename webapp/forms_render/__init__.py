"""Server-side rendering of JSON Schema forms as GOV.UK Design System HTML, and reading the submitted
form back into the JSON the schema describes.

A route that shows a user task's form::

    form = forms.get(task.form_ref)                       # engine.forms.FormDefinition
    answers = filter_data(form.schema, task.data)         # never send raw task data to the browser

    # GET
    rendered = render_form(form.schema, form.ui_schema, answers)

    # POST
    parsed = parse_form(form.schema, form.ui_schema, request.form, current=answers)
    if parsed.action:                                     # "Add another" / "Remove": show it again
        rendered = render_form(form.schema, form.ui_schema, parsed=parsed)
    elif errors := check_submission(form.schema, parsed, form_ref=form.ref):
        rendered = render_form(form.schema, form.ui_schema, errors=errors, parsed=parsed)
    else:
        complete_task(task, parsed.data)                  # then redirect (POST/redirect/GET)

and in the page: ``{{ rendered.error_summary }}`` above the h1, ``{{ rendered.fields }}`` inside the
``<form method="post" novalidate>`` (``_macros/forms.html`` has a macro for the whole form).
"""

from .components import govuk_loader, template_loader
from .parse import (
    ACTION_FIELD,
    FormAction,
    FormInput,
    ParsedForm,
    RawAnswer,
    check_submission,
    parse_form,
)
from .render import RenderedForm, render_form
from .templating import TEMPLATE_FILTERS, init_app

__all__ = [
    "ACTION_FIELD",
    "TEMPLATE_FILTERS",
    "FormAction",
    "FormInput",
    "ParsedForm",
    "RawAnswer",
    "RenderedForm",
    "check_submission",
    "govuk_loader",
    "init_app",
    "parse_form",
    "render_form",
    "template_loader",
]
