"""GET/POST /portal/attendance-upload: a school sends its own attendance file (marks CSV or JSON
feed) and sees what was applied and what was refused, row by row."""

from __future__ import annotations

import tempfile
from pathlib import Path

from flask import render_template, request
from flask.typing import ResponseReturnValue
from werkzeug.utils import secure_filename

from engine.errors import InvalidInput
from engine.services import school_returns

from ..security import current_principal, engine_context
from . import bp

MAX_UPLOAD_BYTES = 25 * 1024 * 1024  # a large secondary's term of marks is a few megabytes


@bp.route("/attendance-upload", methods=["GET", "POST"])
def attendance_upload() -> ResponseReturnValue:
    if request.method == "GET":
        return _page()
    request.max_content_length = MAX_UPLOAD_BYTES
    sent = request.files.get("file")
    if sent is None or not sent.filename:
        return _page("Choose the attendance file to send"), 422
    name = secure_filename(sent.filename) or "attendance-file"
    with tempfile.TemporaryDirectory(prefix="educase-upload-") as folder:
        path = Path(folder) / name
        sent.save(path)
        try:
            report = school_returns.upload_attendance(engine_context(), current_principal(), path)
        except InvalidInput as refusal:
            return _page(refusal.message), 422
    return render_template(
        "portal/upload_result.html",
        report=report,
        summary=report.as_dict(),
        page_title="Attendance file sent",
    )


def _page(error: str | None = None) -> str:
    return render_template(
        "portal/upload.html",
        error=error,
        formats=school_returns.UPLOAD_FORMATS,
        max_megabytes=MAX_UPLOAD_BYTES // (1024 * 1024),
        page_title=("Error: " if error else "") + "Send an attendance file",
    )
