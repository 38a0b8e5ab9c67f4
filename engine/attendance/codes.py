"""The 2024 attendance code set, and the one-byte encoding the mark store uses.

Every code has a fixed byte value (1-34; 0 means "no mark"). The values are stored in the database, so
they are part of the storage format: never renumber a code, only append new ones.

Codes are one or two characters (``C1``, ``J1``, ``Y1``-``Y7``); the byte encoding is what lets the
store keep exactly one byte per session regardless.

Categories follow the DfE definitions (domain.md section 1): present and approved educational activity
count as attendance; authorised and unauthorised absence are absences; all four are *possible*
sessions. ``not_counted`` (D, X, Q, Y1-Y7) and ``administrative`` (Z, #) are not possible sessions.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum


class Category(IntEnum):
    """What a mark counts as. The integer is the category's byte in :data:`CATEGORY_TABLE`."""

    NO_MARK = 0
    PRESENT = 1
    EDUCATIONAL_ACTIVITY = 2  # approved educational activity: counts as attendance
    AUTHORISED = 3
    UNAUTHORISED = 4
    NOT_COUNTED = 5  # not a possible session
    ADMINISTRATIVE = 6  # not a possible session

    @property
    def possible(self) -> bool:
        """Whether a session with this category is a possible session."""
        return Category.PRESENT <= self <= Category.UNAUTHORISED


@dataclass(frozen=True)
class AttendanceCode:
    """One code of the 2024 set."""

    code: str
    byte: int
    meaning: str
    category: Category

    @property
    def possible(self) -> bool:
        return self.category.possible


_C = Category
CODES: tuple[AttendanceCode, ...] = (
    AttendanceCode("/", 1, "present (AM)", _C.PRESENT),
    AttendanceCode("\\", 2, "present (PM)", _C.PRESENT),
    AttendanceCode("L", 3, "late, arrived before the register closed", _C.PRESENT),
    AttendanceCode("K", 4, "attending education arranged by the local authority", _C.EDUCATIONAL_ACTIVITY),
    AttendanceCode("V", 5, "attending an educational visit or trip", _C.EDUCATIONAL_ACTIVITY),
    AttendanceCode("P", 6, "participating in an approved sporting activity", _C.EDUCATIONAL_ACTIVITY),
    AttendanceCode("W", 7, "attending work experience", _C.EDUCATIONAL_ACTIVITY),
    AttendanceCode("B", 8, "attending any other approved educational activity", _C.EDUCATIONAL_ACTIVITY),
    AttendanceCode("C1", 9, "leave: licensed performance or employment abroad", _C.AUTHORISED),
    AttendanceCode("C2", 10, "leave: agreed part-time timetable", _C.AUTHORISED),
    AttendanceCode("C", 11, "leave: other exceptional circumstances", _C.AUTHORISED),
    AttendanceCode("M", 12, "medical or dental appointment", _C.AUTHORISED),
    AttendanceCode("J1", 13, "interview", _C.AUTHORISED),
    AttendanceCode("S", 14, "study leave", _C.AUTHORISED),
    AttendanceCode("T", 15, "mobile child: parent travelling for work", _C.AUTHORISED),
    AttendanceCode("R", 16, "religious observance", _C.AUTHORISED),
    AttendanceCode("I", 17, "illness", _C.AUTHORISED),
    AttendanceCode("E", 18, "suspended or permanently excluded, no alternative provision", _C.AUTHORISED),
    AttendanceCode("G", 19, "holiday not authorised", _C.UNAUTHORISED),
    AttendanceCode("N", 20, "reason not yet provided", _C.UNAUTHORISED),
    AttendanceCode("O", 21, "other unauthorised absence", _C.UNAUTHORISED),
    AttendanceCode("U", 22, "arrived after the register closed", _C.UNAUTHORISED),
    AttendanceCode("D", 23, "dual registered: attending the other school", _C.NOT_COUNTED),
    AttendanceCode("X", 24, "not of compulsory school age, not required to attend", _C.NOT_COUNTED),
    AttendanceCode("Q", 25, "unable to attend: the LA has not made access arrangements", _C.NOT_COUNTED),
    AttendanceCode("Y1", 26, "unable to attend: transport not available", _C.NOT_COUNTED),
    AttendanceCode("Y2", 27, "unable to attend: widespread travel disruption", _C.NOT_COUNTED),
    AttendanceCode("Y3", 28, "unable to attend: part of the school closed", _C.NOT_COUNTED),
    AttendanceCode("Y4", 29, "unable to attend: whole school closed unexpectedly", _C.NOT_COUNTED),
    AttendanceCode("Y5", 30, "unable to attend: in criminal justice detention", _C.NOT_COUNTED),
    AttendanceCode("Y6", 31, "unable to attend: public health guidance or law", _C.NOT_COUNTED),
    AttendanceCode("Y7", 32, "unable to attend: any other unavoidable cause", _C.NOT_COUNTED),
    AttendanceCode("Z", 33, "prospective pupil, not yet on roll", _C.ADMINISTRATIVE),
    AttendanceCode("#", 34, "planned whole-school closure", _C.ADMINISTRATIVE),
)

BY_CODE: dict[str, AttendanceCode] = {c.code: c for c in CODES}
BY_BYTE: dict[int, AttendanceCode] = {c.byte: c for c in CODES}

#: Codes withdrawn by the 2024 regulations, with what to use instead.
WITHDRAWN: dict[str, str] = {
    "H": "authorised holiday no longer exists: use C for exceptional leave or G for an unauthorised holiday",
    "J": "use J1 for an interview",
    "Y": "use Y1-Y7 for the reason the pupil was unable to attend",
}


class UnknownCode(ValueError):
    """A code that is not in the 2024 set. ``withdrawn`` tells a withdrawn code from a typo."""

    def __init__(self, code: str, withdrawn: bool) -> None:
        self.code, self.withdrawn = code, withdrawn
        if withdrawn:
            message = f"code {code!r} was withdrawn in 2024 ({WITHDRAWN[code]})"
        else:
            message = f"unknown attendance code {code!r}"
        super().__init__(message)


def normalise(text: str) -> str:
    """A code as written in feeds, trimmed and upper-cased (``c1`` is ``C1``)."""
    return text.strip().upper()


def lookup(text: str) -> AttendanceCode:
    """The code for ``text``; raises :class:`UnknownCode` (saying so if it was withdrawn in 2024)."""
    code = normalise(text)
    found = BY_CODE.get(code)
    if found is None:
        raise UnknownCode(code, code in WITHDRAWN)
    return found


def encode(text: str) -> int:
    """The stored byte of a code."""
    return lookup(text).byte


def decode(value: int) -> str:
    """The code a stored byte stands for; ``""`` for no mark."""
    return BY_BYTE[value].code if value else ""


def decode_all(marks: bytes) -> list[str]:
    """Every session's code (``""`` where there is no mark)."""
    return [decode(b) for b in marks]


def table(values: dict[int, int], default: int = 0) -> bytes:
    """A 256-byte ``bytes.translate`` table mapping code bytes to ``values`` (others to ``default``)."""
    out = bytearray([default]) * 256
    for byte, value in values.items():
        out[byte] = value
    return bytes(out)


def membership_table(codes: Iterable[str]) -> bytes:
    """A translate table giving 1 for the listed codes and 0 for every other byte.

    ``marks.translate(membership_table(["G", "N", "O", "U"]))`` turns a mark string into 0/1 flags,
    which is how rules count sessions of a kind at C speed.
    """
    return table({lookup(code).byte: 1 for code in codes})


#: ``marks.translate(CATEGORY_TABLE)`` gives each session's :class:`Category` as a byte.
CATEGORY_TABLE: bytes = table({c.byte: int(c.category) for c in CODES})
#: Byte values of the codes whose sessions are possible.
POSSIBLE_BYTES: frozenset[int] = frozenset(c.byte for c in CODES if c.possible)
