"""A dashboard list as a CSV or XLSX file.

Times are written in UK local time. Text that a spreadsheet would run as a formula (a pupil's name
starting with ``=``, say) is kept as text: in CSV behind a leading apostrophe (OWASP's advice for CSV
injection), in XLSX as a string cell.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

from engine.services.dashboard_lists import ListPage
from engine.workflow.deadlines import UK

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def as_csv(found: ListPage) -> bytes:
    """UTF-8 with a byte-order mark, so that Excel reads names with accents correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([c.heading for c in found.columns])
    for row in found.rows:
        writer.writerow([_csv_value(row.get(c.key)) for c in found.columns])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def as_xlsx(found: ListPage, sheet: str) -> bytes:
    book = Workbook(write_only=True)
    table = book.create_sheet(sheet[:31])
    bold = Font(bold=True)
    headings = []
    for column in found.columns:
        cell = WriteOnlyCell(table, value=column.heading)
        cell.font = bold
        headings.append(cell)
    table.append(headings)
    for row in found.rows:
        table.append([_xlsx_cell(table, row.get(c.key)) for c in found.columns])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _local(moment: datetime) -> datetime:
    return moment.astimezone(UK).replace(tzinfo=None)


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return _local(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    return "'" + text if isinstance(value, str) and text.startswith(FORMULA_STARTS) else text


def _xlsx_cell(table: Any, value: Any) -> Any:
    if isinstance(value, datetime):
        cell = WriteOnlyCell(table, value=_local(value))
        cell.number_format = "yyyy-mm-dd hh:mm"
        return cell
    if isinstance(value, str):
        cell = WriteOnlyCell(table, value=ILLEGAL_CHARACTERS_RE.sub("", value))
        cell.data_type = "s"  # never a formula, whatever the text starts with
        return cell
    return value
