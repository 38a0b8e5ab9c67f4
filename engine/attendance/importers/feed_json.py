"""Per-school pupil and attendance extracts, as MIS integration services (Groupcall Xporter, Wonde)
deliver them, in the JSON shape documented in docs/attendance-imports.md::

    {"school": {"laestab": "8812001", "urn": "100001", "name": "..."},
     "extracted_at": "2026-02-10T17:45:00Z",
     "pupils": [{"upn": "...", "forename": "...", "surname": "...", "date_of_birth": "2017-03-14",
                 "enrolment": {"registration": "single", "start_date": "2021-09-01", ...},
                 "sessions": [{"date": "2026-02-09", "session": "AM", "code": "/"}, ...]}]}

Rows: each pupil (its details and enrolment, applied together) and each session mark. A rejected
pupil takes its sessions with it (reason "pupil rejected"). Line numbers of rejected rows are found
by a second, position-tracking decode (see :mod:`.json_lines`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..codes import BY_CODE
from ..vocabulary import DELETION_GROUNDS, REGISTRATIONS
from . import checks
from .base import ImportRun
from .directory import Directory
from .json_lines import line_of, object_lines
from .marks import MarkBatch
from .people import EnrolmentRecord, RollWriter
from .report import INVALID_VALUE, NOT_ON_ROLL, PUPIL_REJECTED, FormatRefused, RowRejected
from .roll_csv import pupil_record

WHAT = "JSON attendance feed"
_PROSPECTIVE = BY_CODE["Z"].byte


def import_feed_json(run: ImportRun, path: Path) -> None:
    """Write each good pupil and enrolment, then the good session marks."""
    text, document = _load(path)
    writer = RollWriter(run.session, run.now, run.report.changes)
    checks_ = checks.MarkChecks(run.calendar())
    batch = MarkBatch()
    located: list[tuple[tuple[int, ...], str, str]] = []
    school = _school(run.directory(), document["school"])
    writer.preload(str(p.get("upn", "")).strip().upper() for p in document["pupils"] if isinstance(p, dict))
    for i, entry in enumerate(document["pupils"]):
        _pupil(run, writer, checks_, batch, school, i, entry, located)
    run.report.changes.update(batch.apply(run.session, run.now, run.source, run.import_id))
    if located:
        _reject_with_lines(run, text, located)


def _load(path: Path) -> tuple[str, dict[str, Any]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
        document = json.loads(text)
    except (UnicodeDecodeError, ValueError) as error:
        raise FormatRefused(f"{path.name} is not a {WHAT}: not valid UTF-8 JSON ({error})", file=str(path))
    if not isinstance(document, dict) or not isinstance(document.get("pupils"), list):
        raise FormatRefused(
            f'{path.name} is not a {WHAT}: expected an object with a "pupils" list', file=str(path)
        )
    if not isinstance(document.get("school"), dict) or "laestab" not in document["school"]:
        raise FormatRefused(f'{path.name} is not a {WHAT}: "school" must give the "laestab"', file=str(path))
    return text, document


def _school(directory: Directory, school: dict[str, Any]) -> int | RowRejected:
    try:
        return directory.establishment_id(str(school["laestab"]))
    except RowRejected as rejected:
        return rejected


def _pupil(
    run: ImportRun,
    writer: RollWriter,
    mark_checks: checks.MarkChecks,
    batch: MarkBatch,
    school: int | RowRejected,
    i: int,
    entry: Any,
    located: list[tuple[tuple[int, ...], str, str]],
) -> None:
    run.row_read()
    sessions = entry.get("sessions") if isinstance(entry, dict) else None
    sessions = sessions if isinstance(sessions, list) else []
    try:
        if isinstance(school, RowRejected):
            raise school
        pupil, enrolment = _records(entry, school)
    except RowRejected as rejected:
        located.append(((i,), rejected.reason, rejected.detail))
        for j, _ in enumerate(sessions):
            run.row_read()
            located.append(
                ((i, j), PUPIL_REJECTED, f"the pupil at pupils[{i}] was rejected ({rejected.reason})")
            )
        return
    stored = writer.enrolment(writer.pupil(pupil), enrolment)
    run.report.accepted += 1
    for j, mark in enumerate(sessions):
        run.row_read()
        try:
            school_year, offset, code_byte = _mark(mark_checks, mark, enrolment)
        except RowRejected as rejected:
            located.append(((i, j), rejected.reason, rejected.detail))
            continue
        batch.add(stored.id, stored.establishment_id, school_year, offset, code_byte)
        run.report.accepted += 1


def _records(entry: Any, establishment_id: int) -> tuple[Any, EnrolmentRecord]:
    if not isinstance(entry, dict):
        raise RowRejected(INVALID_VALUE, "a pupil must be an object")
    address = entry.get("address") if isinstance(entry.get("address"), dict) else {}
    flat = {**entry, **{k: address.get(k) for k in ("postcode", "uprn")}, "address": _address_text(address)}
    pupil = pupil_record(lambda name: _text(flat.get(name)))
    enrolment = entry.get("enrolment")
    if not isinstance(enrolment, dict):
        raise RowRejected(checks.MISSING_FIELD, "enrolment is missing (it needs at least a start_date)")

    def get(name: str) -> str | None:
        return _text(enrolment.get(name))

    record = EnrolmentRecord(
        establishment_id=establishment_id,
        start_date=checks.iso_date(get("start_date"), "enrolment.start_date"),
        registration=checks.one_of(get("registration"), REGISTRATIONS, "registration", "single") or "single",
        year_group=checks.optional(get("year_group")),
        end_date=checks.optional_date(get("end_date"), "enrolment.end_date"),
        deletion_ground=checks.one_of(get("deletion_ground"), DELETION_GROUNDS, "deletion_ground"),
    )
    return pupil, record


def _mark(mark_checks: checks.MarkChecks, mark: Any, enrolment: EnrolmentRecord) -> tuple[int, int, int]:
    if not isinstance(mark, dict):
        raise RowRejected(INVALID_VALUE, "a session mark must be an object with date, session and code")
    day, school_year, offset = mark_checks.day(checks.required(_text(mark.get("date")), "date"))
    offset += checks.session(checks.required(_text(mark.get("session")), "session"))
    code_byte = mark_checks.code(checks.required(_text(mark.get("code")), "code"))
    prospective = code_byte == _PROSPECTIVE and day < enrolment.start_date
    on_roll = enrolment.start_date <= day and (enrolment.end_date is None or day <= enrolment.end_date)
    if not (on_roll or prospective):
        raise RowRejected(NOT_ON_ROLL, f"{day.isoformat()} is outside the pupil's enrolment in this feed")
    return school_year, offset, code_byte


def _text(value: Any) -> str | None:
    """A field as text; Wonde-style date objects (``{"date": "2017-03-14 00:00:00"}``) give their date."""
    if isinstance(value, dict) and "date" in value:
        value = value["date"]
    if value is None or isinstance(value, dict | list):
        return None
    return str(value)


def _address_text(address: dict[str, Any]) -> str | None:
    lines = address.get("lines") if isinstance(address.get("lines"), list) else []
    parts = [str(x).strip() for x in [*lines, address.get("town")] if x and str(x).strip()]
    return "\n".join(parts) or None


def _reject_with_lines(run: ImportRun, text: str, located: list[tuple[tuple[int, ...], str, str]]) -> None:
    document, lines = object_lines(text)
    for path, reason, detail in located:
        where = f"pupils[{path[0]}]" + (f".sessions[{path[1]}]" if len(path) > 1 else "")
        run.report.reject(line_of(path, document, lines), reason, detail, where)
    run.report.rejections.sort(key=lambda r: r.line)
