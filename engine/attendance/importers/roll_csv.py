"""An establishment's roll: pupils and their enrolments, one CSV row each.

Required columns: ``upn,laestab,forename,surname,date_of_birth,start_date``. Optional:
``uln,middle_names,preferred_forename,sex,address,postcode,uprn,registration,year_group,end_date,
deletion_ground``. ``registration`` is single (default), main or subsidiary (dual registration);
``deletion_ground`` one of :data:`engine.attendance.vocabulary.DELETION_GROUNDS` and needs an end date.
A row creates or updates the pupil (by UPN) and the enrolment (by pupil, establishment, start date).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..vocabulary import DELETION_GROUNDS, REGISTRATIONS
from . import checks
from .base import ImportRun, cell, read_csv
from .directory import Directory
from .people import EnrolmentRecord, PupilRecord, RollWriter
from .report import INVALID_VALUE, RowRejected

REQUIRED = ("upn", "laestab", "forename", "surname", "date_of_birth", "start_date")
WHAT = "roll CSV (upn,laestab,forename,surname,date_of_birth,start_date,...)"
SEXES = {"M": "male", "F": "female", "U": "unknown"}


def import_roll_csv(run: ImportRun, path: Path) -> None:
    """Check every row first, then write the good ones (each row's pupil and enrolment together)."""
    columns, rows = read_csv(path, WHAT, REQUIRED)
    directory = run.directory()
    good: list[tuple[PupilRecord, EnrolmentRecord]] = []
    for line, row in rows:
        run.row_read()
        try:
            good.append(_records(row, columns, directory))
        except RowRejected as rejected:
            run.report.reject(line, rejected.reason, rejected.detail)
    writer = RollWriter(run.session, run.now, run.report.changes)
    writer.preload(p.upn.value for p, _ in good)
    for pupil_record, enrolment_record in good:
        writer.enrolment(writer.pupil(pupil_record), enrolment_record)
        run.report.accepted += 1


def _records(
    row: list[str], columns: dict[str, int], directory: Directory
) -> tuple[PupilRecord, EnrolmentRecord]:
    def get(name: str) -> str | None:
        return cell(row, columns, name)

    pupil = pupil_record(get)
    enrolment = EnrolmentRecord(
        establishment_id=directory.establishment_id(checks.required(get("laestab"), "laestab")),
        start_date=checks.iso_date(get("start_date"), "start_date"),
        registration=checks.one_of(get("registration"), REGISTRATIONS, "registration", "single") or "single",
        year_group=checks.optional(get("year_group")),
        end_date=checks.optional_date(get("end_date"), "end_date"),
        deletion_ground=checks.one_of(get("deletion_ground"), DELETION_GROUNDS, "deletion_ground"),
    )
    return pupil, enrolment


def pupil_record(get: Callable[[str], str | None]) -> PupilRecord:
    """A pupil from named fields (``get(name)`` gives a field's text or None); shared with JSON."""
    upn = checks.upn(get("upn"))
    sex = checks.optional(get("sex"))
    if sex is not None and sex.upper() not in SEXES:
        raise RowRejected(INVALID_VALUE, f"sex {sex!r} is not M, F or U")
    return PupilRecord(
        upn=upn,
        forename=checks.required(get("forename"), "forename"),
        surname=checks.required(get("surname"), "surname"),
        date_of_birth=checks.iso_date(get("date_of_birth"), "date_of_birth"),
        uln=checks.uln(get("uln")),
        middle_names=checks.optional(get("middle_names")),
        preferred_forename=checks.optional(get("preferred_forename")),
        sex=sex.upper() if sex else None,
        address=checks.optional(get("address")),
        postcode=checks.optional(get("postcode")),
        uprn=checks.optional(get("uprn")),
    )
