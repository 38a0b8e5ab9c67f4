"""The simple documented marks format: CSV with the header ``upn,laestab,date,session,code``.

One row is one session mark: ``B801200005001,8012000,2026-02-09,AM,/``. Columns may come in any
order; other columns are ignored. The pupil must be on the establishment's roll on that date (import
the roll first); dates must fall inside the LA's school year; sessions are AM or PM.
"""

from __future__ import annotations

from datetime import date
from operator import itemgetter
from pathlib import Path

from .base import ImportRun, read_csv
from .checks import MarkChecks, session
from .directory import Directory
from .marks import MarkBatch
from .report import MISSING_FIELD, RowRejected

COLUMNS = ("upn", "laestab", "date", "session", "code")
WHAT = "marks CSV (upn,laestab,date,session,code)"


def import_marks_csv(run: ImportRun, path: Path) -> None:
    """Check every row, then write the accepted marks in one go."""
    columns, rows = read_csv(path, WHAT, COLUMNS)
    positions = [columns[name] for name in COLUMNS]
    width, pick = max(positions) + 1, itemgetter(*positions)
    checks = MarkChecks(run.calendar())
    directory = run.directory()
    batch = MarkBatch()
    report, accepted = run.report, 0
    for line, row in rows:
        run.row_read()
        try:
            if len(row) < width:
                raise RowRejected(MISSING_FIELD, f"expected {width} columns, found {len(row)}")
            upn, laestab, day, half, code = pick(row)
            establishment_id = directory.establishment_id(laestab)
            when, school_year, offset = checks.day(day)
            offset += session(half)
            code_byte = checks.code(code)
            enrolment_id = _enrolment(directory, checks, upn, establishment_id, when, code_byte)
        except RowRejected as rejected:
            report.reject(line, rejected.reason, rejected.detail)
            continue
        batch.add(enrolment_id, establishment_id, school_year, offset, code_byte)
        accepted += 1
    report.accepted += accepted
    report.changes.update(batch.apply(run.session, run.now, run.source, run.import_id))


def _enrolment(
    directory: Directory, checks: MarkChecks, upn: str, establishment_id: int, day: date, code: int
) -> int:
    """The enrolment the mark is for. A UPN on the roll was checked when the roll was imported, so the
    (costly) check-letter validation only runs for UPNs that are not found, to give the right reason."""
    try:
        return directory.enrolment_for(upn.strip().upper(), establishment_id, day, code)
    except RowRejected:
        checks.upn(upn)  # an invalid UPN is reported as such, not as "not on roll"
        raise
