"""What every importer gets (:class:`ImportRun`) and reading CSV files with their line numbers."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy.orm import Session

from ...calendar import SchoolCalendar
from .directory import Directory
from .report import FormatRefused, ImportReport

PROGRESS_EVERY_ROWS = 100_000


@dataclass
class ImportRun:
    """One import in progress: its transaction, its report, and where progress goes."""

    session: Session
    report: ImportReport
    now: datetime
    source: str
    import_id: int | None
    calendar: Callable[[], SchoolCalendar]  # the LA calendar, asked for only by formats with marks
    progress: Callable[[int], None] | None = None
    only_laestab: str | None = None  # a school's own file: rows about any other establishment are refused

    def directory(self) -> Directory:
        """Who is where, as this import may use it (see :attr:`only_laestab`)."""
        return Directory(self.session, only_laestab=self.only_laestab)

    def row_read(self) -> None:
        """Count a row; report progress every :data:`PROGRESS_EVERY_ROWS` rows."""
        self.report.rows_read += 1
        if self.progress is not None and self.report.rows_read % PROGRESS_EVERY_ROWS == 0:
            self.progress(self.report.rows_read)


def read_csv(
    path: Path, what: str, required: tuple[str, ...]
) -> tuple[dict[str, int], Iterator[tuple[int, list[str]]]]:
    """The header's column positions and the data rows with their line numbers.

    Refuses the file (:class:`FormatRefused`) unless it is UTF-8 text whose header names every
    ``required`` column (in any order, any case). Blank lines are skipped.
    """
    handle = path.open("r", encoding="utf-8-sig", newline="")
    reader = csv.reader(handle)
    try:
        header = next(reader, None)
    except (UnicodeDecodeError, csv.Error) as error:
        handle.close()
        raise FormatRefused(f"{path.name} is not a {what} (CSV text): {error}", file=str(path))
    columns = {name.strip().lower(): i for i, name in enumerate(header or [])}
    missing = [name for name in required if name not in columns]
    if missing:
        handle.close()
        found = ",".join(header or []) or "nothing"
        raise FormatRefused(
            f"{path.name} is not a {what}: the first line must name the columns {','.join(required)} "
            f"(missing {', '.join(missing)}; found {found[:200]!r})",
            file=str(path),
        )
    return columns, _rows(path, handle, reader, what)


def _rows(path: Path, handle: TextIO, reader: Any, what: str) -> Iterator[tuple[int, list[str]]]:
    line_num = reader.line_num
    try:
        for row in reader:
            if row:
                yield line_num + 1, row  # the line the row starts on (a quoted cell may span lines)
            line_num = reader.line_num
    except (UnicodeDecodeError, csv.Error) as error:
        raise FormatRefused(
            f"{path.name}: after line {line_num} the file is not {what} text: {error}", file=str(path)
        )
    finally:
        handle.close()


def cell(row: list[str], columns: dict[str, int], name: str) -> str | None:
    """The value of a column in a row, None if the column or the cell is missing."""
    i = columns.get(name)
    return row[i] if i is not None and i < len(row) else None
