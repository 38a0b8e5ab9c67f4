"""The REST API: ``/api/v1/...`` for integrations and scripts, described at ``/api/openapi.json``.

* **Who**: a personal API token (``Authorization: Bearer educase_...``, made with ``educase user token``)
  or the signed-in session (which then needs the CSRF token on changes). Anonymous calls get 401.
* **What each person may do** is decided by ``engine.access`` on every record: what one may not see
  answers 404, an action one's role may not take on a visible record answers 403.
* **What each person sees**: the field set of their role (``webapp.api.schemas``).
* **Errors**: ``application/problem+json`` with a stable ``code`` (``webapp.errors``); the OpenAPI
  document lists every code.
* **Audit**: every view of a case record and every change is recorded with the caller and address.
"""

from __future__ import annotations

from flask import Blueprint

from ..security import restrict_area

bp = Blueprint("api", __name__, url_prefix="/api")
restrict_area(bp, "api")

from . import errors, instances, messages, openapi, processes, tasks  # noqa: E402, F401  (register routes)
