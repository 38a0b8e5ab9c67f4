"""Importers of attendance marks, rolls, establishments and transfer files.

Every format checks each row completely before applying any of it, reports bad rows with their line
and reason (:mod:`.report`), and is idempotent: importing the same file again changes nothing.
Formats are documented in docs/attendance-imports.md.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from .base import ImportRun
from .ctf import import_ctf
from .establishments_csv import import_establishments_csv
from .feed_json import import_feed_json
from .marks_csv import COLUMNS as MARK_COLUMNS
from .marks_csv import import_marks_csv
from .report import FormatRefused, ImportReport, Rejection
from .roll_csv import import_roll_csv

Importer = Callable[[ImportRun, Path], None]

#: Format name -> importer. ``csv`` is the simple marks format.
FORMATS: dict[str, Importer] = {
    "csv": import_marks_csv,
    "json": import_feed_json,
    "ctf": import_ctf,
    "roll": import_roll_csv,
    "establishments": import_establishments_csv,
}

#: Formats whose rows carry session marks (they need the LA calendar).
MARK_FORMATS = frozenset({"csv", "json"})


def detect_format(path: Path) -> str:
    """Guess a file's format from its first bytes (and a CSV's header) when none is given."""
    with path.open("rb") as handle:
        head = handle.read(4096).lstrip(b"\xef\xbb\xbf").lstrip()
    if head.startswith(b"<"):
        return "ctf"
    if head.startswith((b"{", b"[")):
        return "json"
    header = {c.strip().lower() for c in head.split(b"\n", 1)[0].decode("utf-8", "replace").split(",")}
    if set(MARK_COLUMNS) <= header:
        return "csv"
    if {"upn", "date_of_birth"} <= header:
        return "roll"
    if {"laestab", "phase", "type"} <= header:
        return "establishments"
    raise FormatRefused(
        f"{path.name}: cannot tell its format from its content; give --format ({', '.join(FORMATS)})",
        file=str(path),
    )


__all__ = [
    "FORMATS",
    "MARK_FORMATS",
    "FormatRefused",
    "ImportReport",
    "ImportRun",
    "Rejection",
    "detect_format",
]
