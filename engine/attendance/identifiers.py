"""Pupil and establishment identifiers (domain.md section 7), validated with python-stdnum where it can.

- UPN: 13 characters, check letter + LA (3) + establishment (4) + year (2) + serial (3). A temporary
  UPN ends in a letter instead of the last serial digit; it is accepted and flagged.
- ULN: 10 digits. URN: 6 digits. LAESTAB: 7 digits, LA (3) + establishment (4).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength, ValidationError
from stdnum.gb import upn as stdnum_upn

_DIGITS = {6: re.compile(r"\d{6}"), 7: re.compile(r"\d{7}"), 10: re.compile(r"\d{10}")}


class InvalidIdentifier(ValueError):
    """An identifier that fails validation; the message says which part is wrong."""


@dataclass(frozen=True)
class Upn:
    """A valid UPN and whether it is temporary (ends in a letter)."""

    value: str
    temporary: bool


_UPN_REASONS: dict[type[ValidationError], str] = {
    InvalidLength: "must be 13 characters",
    InvalidFormat: "characters 2-12 must be digits and the last a digit or a letter",
    InvalidComponent: "characters 2-4 are not a known LA number",
    InvalidChecksum: "the check letter does not match",
}


def validate_upn(text: str) -> Upn:
    """A valid UPN (upper-cased, spaces removed) or :class:`InvalidIdentifier`."""
    try:
        value = stdnum_upn.validate(text)
    except ValidationError as error:
        reason = next((r for t, r in _UPN_REASONS.items() if isinstance(error, t)), "invalid")
        raise InvalidIdentifier(f"invalid UPN {text!r}: {reason}")
    return Upn(value, value[-1].isalpha())


def make_upn(la: int, establishment: int, year: int, serial: int, temporary_letter: str | None = None) -> str:
    """A UPN with its check letter, e.g. ``make_upn(881, 2001, 25, 17)``.

    A temporary UPN has a two-digit serial followed by ``temporary_letter``.
    """
    if temporary_letter:
        body = f"{la:03d}{establishment:04d}{year % 100:02d}{serial % 100:02d}{temporary_letter}"
    else:
        body = f"{la:03d}{establishment:04d}{year % 100:02d}{serial:03d}"
    return stdnum_upn.calc_check_digit(body) + body


def _digits(text: str, n: int, what: str) -> str:
    value = text.strip()
    if not _DIGITS[n].fullmatch(value):
        raise InvalidIdentifier(f"invalid {what} {text!r}: must be {n} digits")
    return value


def validate_laestab(text: str) -> str:
    """A LAESTAB (DfE number): 7 digits, LA (3) + establishment (4); ``881/2001`` is accepted."""
    return _digits(text.replace("/", "").replace("-", ""), 7, "LAESTAB")


def validate_urn(text: str) -> str:
    """A URN: 6 digits."""
    return _digits(text, 6, "URN")


def validate_uln(text: str) -> str:
    """A ULN: 10 digits."""
    return _digits(text, 10, "ULN")
