"""/api/v1/processes: the deployed processes, and deploying BPMN files (administrators)."""

from __future__ import annotations

from pathlib import PurePath

from flask import Response, request

from engine import access
from engine.errors import FieldError
from engine.services import portal, processes

from ..security import audit_event, current_principal, engine_context
from . import bp
from .http import RequestInvalid, load_query, respond
from .registry import operation
from .schemas import DeployQuery, DeployReportSchema, ProcessSchema, view_for

MAX_FILES = 50
UPLOAD = {
    "type": "object",
    "required": ["files"],
    "properties": {
        "files": {
            "type": "array",
            "items": {"type": "string", "format": "binary"},
            "description": "One or more .bpmn files, deployed together (call activities resolve across them).",
        }
    },
}


@operation(
    bp,
    "GET",
    "/v1/processes",
    summary="List deployed processes",
    tag="processes",
    response=ProcessSchema,
    many=True,
    errors=(401,),
    description="School users see the processes their portal offers.",
)
def list_processes() -> Response:
    principal = current_principal()
    found = processes.list_processes(engine_context())
    if principal.is_school:
        found = [p for p in found if portal.offers(p["process_id"])]
    return respond(ProcessSchema(view=view_for(principal), many=True).dump(found))


@operation(
    bp,
    "POST",
    "/v1/processes",
    summary="Deploy BPMN files (administrators)",
    tag="processes",
    query=DeployQuery,
    body=UPLOAD,
    response=DeployReportSchema,
    status=201,
    errors=(401, 403, 422),
    extra_statuses={200: "Checked only (validate_only), or nothing changed: no new version."},
    description="All or nothing: 422 `invalid_bpmn` lists every problem found (file, line, element).",
)
def deploy_processes() -> Response:
    principal = current_principal()
    access.require_role(access.may_enter(principal, "admin"), "deploy processes")
    args, sources = load_query(DeployQuery), _uploaded_sources()
    ctx = engine_context()
    if args["validate_only"]:
        return respond(DeployReportSchema().dump(processes.validate_sources(ctx, sources).as_dict()))
    report = processes.deploy_sources(ctx, sources, actor=principal.username)
    audit_event(
        "deploy",
        "process",
        ",".join(d.process_id for d in report.deployed)[:100],
        {"files": [name for name, _ in sources], "deployed": report.as_dict()["deployed"]},
    )
    new = any(d.status == "new" for d in report.deployed)
    return respond(DeployReportSchema().dump(report.as_dict()), 201 if new else 200)


def _uploaded_sources() -> list[processes.Source]:
    files = request.files.getlist("files")
    problems = (
        []
        if 0 < len(files) <= MAX_FILES
        else [FieldError("files", f"Attach between 1 and {MAX_FILES} .bpmn files as the form field 'files'.")]
    )
    names = [PurePath((f.filename or "").replace("\\", "/")).name for f in files]
    problems += [
        FieldError(f"files.{i}", f"'{name or '(no name)'}' is not a .bpmn file.")
        for i, name in enumerate(names)
        if not name.lower().endswith(".bpmn") or "\x00" in name
    ]
    if len(set(names)) != len(names):
        problems.append(FieldError("files", "Two files have the same name; give each file its own name."))
    if problems:
        raise RequestInvalid(problems)
    return [(name, file.read()) for name, file in zip(names, files, strict=True)]
