"""The LA's establishments: CSV with ``laestab,urn,name,phase,type`` (``urn`` may be blank).

``phase`` and ``type`` take the values in :mod:`engine.attendance.vocabulary`; the AP types (pru,
ap_academy, ap_other) mark the establishment as alternative provision. Rows are matched by LAESTAB.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from ...models.people import Establishment
from ..identifiers import InvalidIdentifier, validate_laestab, validate_urn
from ..vocabulary import AP_TYPES, ESTABLISHMENT_TYPES, PHASES
from . import checks
from .base import ImportRun, cell, read_csv
from .report import INVALID_VALUE, UNKNOWN_ESTABLISHMENT, RowRejected

REQUIRED = ("laestab", "name", "phase", "type")
WHAT = "establishments CSV (laestab,urn,name,phase,type)"


def import_establishments_csv(run: ImportRun, path: Path) -> None:
    """Create or update each good row's establishment."""
    columns, rows = read_csv(path, WHAT, REQUIRED)
    known = {e.laestab: e for e in run.session.scalars(select(Establishment))}
    for line, row in rows:
        run.row_read()
        try:
            values = _values(row, columns)
            _check_urn_is_free(known, values)
        except RowRejected as rejected:
            run.report.reject(line, rejected.reason, rejected.detail)
            continue
        _write(run, known, values)
        run.report.accepted += 1


def _values(row: list[str], columns: dict[str, int]) -> dict[str, object]:
    def get(name: str) -> str | None:
        return cell(row, columns, name)

    try:
        laestab = validate_laestab(checks.required(get("laestab"), "laestab"))
    except InvalidIdentifier as error:
        raise RowRejected(UNKNOWN_ESTABLISHMENT, str(error))
    urn = checks.optional(get("urn"))
    try:
        urn = validate_urn(urn) if urn else None
    except InvalidIdentifier as error:
        raise RowRejected(INVALID_VALUE, str(error))
    kind = checks.one_of(checks.required(get("type"), "type"), ESTABLISHMENT_TYPES, "type")
    return {
        "laestab": laestab,
        "urn": urn,
        "name": checks.required(get("name"), "name"),
        "phase": checks.one_of(checks.required(get("phase"), "phase"), PHASES, "phase"),
        "type": kind,
        "is_alternative_provision": kind in AP_TYPES,
    }


def _check_urn_is_free(known: dict[str, Establishment], values: dict[str, object]) -> None:
    urn = values["urn"]
    other = next((e for e in known.values() if urn and e.urn == urn and e.laestab != values["laestab"]), None)
    if other is not None:
        raise RowRejected(INVALID_VALUE, f"URN {urn} already belongs to {other.laestab} {other.name}")


def _write(run: ImportRun, known: dict[str, Establishment], values: dict[str, object]) -> None:
    found = known.get(str(values["laestab"]))
    if found is None:
        found = known[str(values["laestab"])] = Establishment(updated_at=run.now, **values)
        run.session.add(found)
        run.report.changes["establishments_created"] += 1
        return
    changed = [k for k, v in values.items() if getattr(found, k) != v]
    for name in changed:
        setattr(found, name, values[name])
    if changed:
        found.updated_at = run.now
        run.report.changes["establishments_updated"] += 1
