"""What an import found: rows read, accepted and rejected (with line and reason), and what changed.

Policy, the same for every format: each row is checked completely before anything of it is applied,
so a row is applied entirely or not at all. By default the good rows of a file are applied and the
bad ones listed (``policy == "apply_good_rows"``); with ``strict`` a file with any bad row applies
nothing (``policy == "all_or_nothing"``). A file that is not the format it claims is refused whole
(:class:`FormatRefused`) before any row is looked at.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ...errors import InvalidInput

# Reasons a row is rejected; the summary counts rejections by these.
UNKNOWN_CODE = "unknown code"
WITHDRAWN_CODE = "code withdrawn in 2024"
INVALID_UPN = "invalid UPN"
UNKNOWN_ESTABLISHMENT = "unknown establishment"
DATE_OUTSIDE_YEAR = "date outside the school year"
BAD_SESSION = "session not AM/PM"
INVALID_DATE = "invalid date"
NOT_ON_ROLL = "not on roll"
MISSING_FIELD = "missing field"
INVALID_VALUE = "invalid value"
PUPIL_REJECTED = "pupil rejected"
OTHER_ESTABLISHMENT = "another establishment"

#: How many rejected rows are listed one by one (all are counted).
MAX_LISTED = 1000


class FormatRefused(InvalidInput):
    """The file is not the format it claims to be; nothing of it was applied."""

    code = "format_refused"


class RowRejected(ValueError):
    """Raised by row checks: ``reason`` is one of the constants above, ``detail`` says exactly what."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason, self.detail = reason, detail


@dataclass(frozen=True)
class Rejection:
    """One bad row: where it is (line, and for JSON the path) and why it was not applied."""

    line: int
    reason: str
    detail: str
    where: str | None = None

    def __str__(self) -> str:
        at = f"line {self.line}" + (f" ({self.where})" if self.where else "")
        return f"{at}: {self.reason}: {self.detail}"


@dataclass
class ImportReport:
    """The outcome of one import. ``changes`` counts what was written (marks added, corrections...)."""

    file: str
    format: str
    strict: bool = False
    rows_read: int = 0
    accepted: int = 0
    rejections: list[Rejection] = field(default_factory=list)
    by_reason: Counter[str] = field(default_factory=Counter)
    changes: Counter[str] = field(default_factory=Counter)
    applied: bool = False
    import_id: int | None = None
    already_imported: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def rejected(self) -> int:
        return sum(self.by_reason.values())

    @property
    def policy(self) -> str:
        return "all_or_nothing" if self.strict else "apply_good_rows"

    def reject(self, line: int, reason: str, detail: str, where: str | None = None) -> None:
        """Record a bad row (counted always, listed up to :data:`MAX_LISTED`)."""
        self.by_reason[reason] += 1
        if len(self.rejections) < MAX_LISTED:
            self.rejections.append(Rejection(line, reason, detail, where))

    def outcome(self) -> str:
        """One sentence saying what happened to the file as a whole."""
        if self.already_imported:
            return (
                f"already imported on {self.already_imported['imported_at']} (import "
                f"#{self.already_imported['id']}): nothing applied; use --force to apply it again"
            )
        if not self.applied:
            return f"nothing applied: all-or-nothing import and {self.rejected} row(s) rejected"
        if self.rejected:
            return f"good rows applied; {self.rejected} rejected row(s) not applied"
        return "all rows applied"

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "format": self.format,
            "policy": self.policy,
            "applied": self.applied,
            "outcome": self.outcome(),
            "import_id": self.import_id,
            "rows_read": self.rows_read,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "rejected_by_reason": dict(sorted(self.by_reason.items())),
            "changes": dict(sorted(self.changes.items())),
            "rejections": [r.__dict__ for r in self.rejections],
            "rejections_listed": len(self.rejections),
            "notes": self.notes,
        }
