"""Attendance reports: an establishment's measures, the EWO's poor-attendance report, the LA summary.

Reports are :class:`Table` values (title, columns, rows) built from stored marks by pure functions;
:func:`export` writes one as CSV or XLSX (openpyxl), chosen by the file's suffix.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, NamedTuple

from ..errors import InvalidInput
from ..models.people import Establishment
from .layout import end_offset, school_year_of
from .measures import Measures, count_codes, measure, total


class RollEntry(NamedTuple):
    """One enrolment on an establishment's roll, with the pupil details reports show."""

    enrolment_id: int
    pupil_id: int
    upn: str | None
    upn_temporary: bool
    surname: str
    forename: str
    year_group: str | None
    registration: str
    start_date: date
    end_date: date | None


@dataclass(frozen=True)
class Table:
    """A report: what it is, its columns in order, and one dict per row."""

    title: str
    columns: list[str]
    rows: list[dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        return {"title": self.title, "columns": self.columns, "rows": self.rows}


def _rate(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _year_label(as_of: date) -> str:
    year = school_year_of(as_of)
    return f"{year}/{(year + 1) % 100:02d}"


def _period(as_of: date) -> str:
    return f"school year {_year_label(as_of)}, 1 September to {as_of.isoformat()}"


def establishment_measures(
    establishment: Establishment,
    as_of: date,
    roll: list[RollEntry],
    marks: dict[int, bytes],
) -> dict[str, Any]:
    """Each enrolment's measures and the establishment's total, as plain data (the CLI's JSON)."""
    end = end_offset(as_of)
    rows, all_measures = [], []
    for entry in roll:
        m = measure(marks.get(entry.enrolment_id, b""), end)
        all_measures.append(m)
        rows.append({**_pupil_columns(entry), **m.as_dict()})
    summed = total(all_measures)
    counted = [m for m in all_measures if m.possible]
    return {
        "establishment": {"laestab": establishment.laestab, "name": establishment.name},
        "as_of": as_of.isoformat(),
        "school_year": _year_label(as_of),
        "totals": {
            **{
                k: v for k, v in summed.as_dict().items() if k not in ("persistent_absence", "severe_absence")
            },
            "enrolments": len(rows),
            "persistent_absentees": sum(m.persistent for m in counted),
            "severe_absentees": sum(m.severe for m in counted),
        },
        "enrolments": rows,
    }


def _pupil_columns(entry: RollEntry) -> dict[str, Any]:
    return {
        "enrolment_id": entry.enrolment_id,
        "upn": entry.upn,
        "upn_temporary": entry.upn_temporary,
        "surname": entry.surname,
        "forename": entry.forename,
        "year_group": entry.year_group,
        "registration": entry.registration,
        "on_roll_from": entry.start_date.isoformat(),
        "left_on": entry.end_date.isoformat() if entry.end_date else None,
    }


POOR_ATTENDANCE_COLUMNS = [
    "upn", "surname", "forename", "year_group", "registration", "on_roll_from", "left_on",
    "possible", "attended", "authorised", "unauthorised", "absence_rate", "persistent_absence",
    "severe_absence", "illness_I", "holiday_G", "no_reason_yet_N", "other_unauthorised_O",
    "late_after_close_U", "flags",
]  # fmt: skip


def poor_attendance(
    establishment: Establishment,
    as_of: date,
    roll: list[RollEntry],
    marks: dict[int, bytes],
    flags: dict[int, list[str]],
    threshold_percent: float = 10.0,
) -> Table:
    """Pupils whose absence rate is at least ``threshold_percent``, worst first."""
    end = end_offset(as_of)
    found: list[tuple[float, dict[str, Any]]] = []
    for entry in roll:
        string = marks.get(entry.enrolment_id, b"")
        m = measure(string, end)
        if not m.possible or m.absent * 100 < threshold_percent * m.possible:
            continue
        row = {**_pupil_columns(entry), **_counts(m)}
        row.update({f"{name}_{code}": count_codes(string, [code], end) for name, code in _CODE_COLUMNS})
        row["flags"] = ",".join(flags.get(entry.pupil_id, []))
        found.append((m.absence_rate or 0.0, row))
    found.sort(key=lambda item: (-item[0], item[1]["surname"], item[1]["forename"]))
    title = (
        f"Pupils with {threshold_percent:g}% absence or more at {establishment.name} ({establishment.laestab}), "
        f"{_period(as_of)}"
    )
    return Table(
        title, POOR_ATTENDANCE_COLUMNS, [{c: row.get(c) for c in POOR_ATTENDANCE_COLUMNS} for _, row in found]
    )


_CODE_COLUMNS = [
    ("illness", "I"),
    ("holiday", "G"),
    ("no_reason_yet", "N"),
    ("other_unauthorised", "O"),
    ("late_after_close", "U"),
]


def _counts(m: Measures) -> dict[str, Any]:
    return {
        "possible": m.possible,
        "attended": m.attended,
        "authorised": m.authorised,
        "unauthorised": m.unauthorised,
        "absence_rate": _rate(m.absence_rate),
        "persistent_absence": m.persistent,
        "severe_absence": m.severe,
    }


LA_SUMMARY_COLUMNS = [
    "laestab", "name", "phase", "type", "enrolments", "possible", "absence_rate", "authorised_rate",
    "unauthorised_rate", "persistent_absentees", "persistent_absence_rate", "severe_absentees",
    "severe_absence_rate",
]  # fmt: skip


def la_summary(
    establishments: Sequence[Establishment], by_establishment: dict[int, list[Measures]], as_of: date
) -> Table:
    """One row per establishment with enrolments, then the LA's total (``laestab`` = ``LA``)."""
    rows = []
    for e in establishments:
        measures = [m for m in by_establishment.get(e.id, []) if m.possible]
        if measures:
            rows.append(
                {"laestab": e.laestab, "name": e.name, "phase": e.phase, "type": e.type, **_group(measures)}
            )
    everyone = [m for ms in by_establishment.values() for m in ms if m.possible]
    rows.append(
        {"laestab": "LA", "name": "All establishments", "phase": None, "type": None, **_group(everyone)}
    )
    return Table(f"Absence by establishment, {_period(as_of)}", LA_SUMMARY_COLUMNS, rows)


def _group(measures: list[Measures]) -> dict[str, Any]:
    summed, n = total(measures), len(measures)
    persistent = sum(m.persistent for m in measures)
    severe = sum(m.severe for m in measures)
    return {
        "enrolments": n,
        "possible": summed.possible,
        "absence_rate": _rate(summed.absence_rate),
        "authorised_rate": _rate(summed.authorised_rate),
        "unauthorised_rate": _rate(summed.unauthorised_rate),
        "persistent_absentees": persistent,
        "persistent_absence_rate": _rate(persistent * 100 / n if n else None),
        "severe_absentees": severe,
        "severe_absence_rate": _rate(severe * 100 / n if n else None),
    }


# --- export -----------------------------------------------------------------------------------------


def export(table: Table, path: Path) -> Path:
    """Write ``table`` to ``path``: ``.csv`` or ``.xlsx``."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        write_csv(table, path)
    elif suffix == ".xlsx":
        write_xlsx(table, path)
    else:
        raise InvalidInput(f"cannot export to {path.name}: give a file ending in .csv or .xlsx")
    return path


def write_csv(table: Table, path: Path) -> None:
    """Columns as the header line, one line per row; booleans as ``yes``/``no``."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(table.columns)
        for row in table.rows:
            writer.writerow([_cell(row.get(c)) for c in table.columns])


def write_xlsx(table: Table, path: Path) -> None:
    """A workbook with the title in A1, the header on row 3 (frozen, bold) and the rows below."""
    from openpyxl import Workbook  # imported here: only exports need it
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = "Report"
    sheet["A1"] = table.title
    sheet["A1"].font = Font(bold=True, size=12)
    sheet.append([])
    sheet.append(table.columns)
    for cell in sheet[3]:
        cell.font = Font(bold=True)
    for row in table.rows:
        sheet.append([_cell(row.get(c)) for c in table.columns])
    sheet.freeze_panes = "A4"
    for i, column in enumerate(table.columns, start=1):
        sheet.column_dimensions[sheet.cell(3, i).column_letter].width = max(10, min(40, len(column) + 2))
    book.save(path)


def _cell(value: Any) -> Any:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return value
