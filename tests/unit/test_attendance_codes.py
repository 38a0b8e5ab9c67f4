"""The 2024 code set, its byte encoding, identifiers and the mark-string layout."""

from __future__ import annotations

from datetime import date

import pytest

from engine.attendance import codes
from engine.attendance.codes import CATEGORY_TABLE, Category, UnknownCode
from engine.attendance.identifiers import (
    InvalidIdentifier,
    make_upn,
    validate_laestab,
    validate_uln,
    validate_upn,
    validate_urn,
)
from engine.attendance.layout import (
    YEAR_BYTES,
    end_offset,
    offset_of,
    parse_session,
    school_day_offsets,
    school_year_of,
    session_at,
)
from engine.calendar import SchoolCalendar
from tests.conftest import TERM_DATES

TWO_CHARACTER_CODES = ["C1", "C2", "J1", "Y1", "Y2", "Y3", "Y4", "Y5", "Y6", "Y7"]


def test_the_set_has_34_codes_with_distinct_stable_bytes():
    assert len(codes.CODES) == 34
    assert sorted(c.byte for c in codes.CODES) == list(range(1, 35))
    # The bytes are a storage format: these must never change.
    assert (codes.encode("/"), codes.encode("\\"), codes.encode("N"), codes.encode("#")) == (1, 2, 20, 34)


@pytest.mark.parametrize("code", TWO_CHARACTER_CODES)
def test_two_character_codes_take_one_byte_and_round_trip(code):
    byte = codes.encode(code)
    assert 0 < byte < 256
    assert codes.decode(byte) == code


def test_codes_are_read_trimmed_and_in_any_case():
    assert codes.encode(" c1 ") == codes.encode("C1")
    assert codes.lookup("i").code == "I"


@pytest.mark.parametrize(
    ("code", "category"),
    [
        ("/", Category.PRESENT), ("\\", Category.PRESENT), ("L", Category.PRESENT),
        ("K", Category.EDUCATIONAL_ACTIVITY), ("V", Category.EDUCATIONAL_ACTIVITY),
        ("P", Category.EDUCATIONAL_ACTIVITY), ("W", Category.EDUCATIONAL_ACTIVITY),
        ("B", Category.EDUCATIONAL_ACTIVITY),
        ("C1", Category.AUTHORISED), ("C2", Category.AUTHORISED), ("C", Category.AUTHORISED),
        ("M", Category.AUTHORISED), ("J1", Category.AUTHORISED), ("S", Category.AUTHORISED),
        ("T", Category.AUTHORISED), ("R", Category.AUTHORISED), ("I", Category.AUTHORISED),
        ("E", Category.AUTHORISED),
        ("G", Category.UNAUTHORISED), ("N", Category.UNAUTHORISED), ("O", Category.UNAUTHORISED),
        ("U", Category.UNAUTHORISED),
        ("D", Category.NOT_COUNTED), ("X", Category.NOT_COUNTED), ("Q", Category.NOT_COUNTED),
        *[(f"Y{i}", Category.NOT_COUNTED) for i in range(1, 8)],
        ("Z", Category.ADMINISTRATIVE), ("#", Category.ADMINISTRATIVE),
    ],
)  # fmt: skip
def test_each_code_counts_as_the_dfe_says(code, category):
    found = codes.lookup(code)
    assert found.category is category
    assert found.possible == (category in (Category.PRESENT, Category.EDUCATIONAL_ACTIVITY,
                                           Category.AUTHORISED, Category.UNAUTHORISED))  # fmt: skip
    assert CATEGORY_TABLE[found.byte] == category


@pytest.mark.parametrize("code", ["H", "J", "Y"])
def test_withdrawn_codes_say_so(code):
    with pytest.raises(UnknownCode) as raised:
        codes.lookup(code)
    assert raised.value.withdrawn
    assert "withdrawn in 2024" in str(raised.value)


@pytest.mark.parametrize("code", ["A", "Y8", "", "//", "C3"])
def test_unknown_codes_are_not_called_withdrawn(code):
    with pytest.raises(UnknownCode) as raised:
        codes.lookup(code)
    assert not raised.value.withdrawn
    assert "unknown attendance code" in str(raised.value)


def test_membership_table_flags_the_listed_codes_only():
    marks = bytes(codes.encode(c) for c in ["G", "/", "N", "O", "U", "I", "C1"])
    assert marks.translate(codes.membership_table(["G", "N", "O", "U"])) == bytes([1, 0, 1, 1, 1, 0, 0])
    assert bytes(2).translate(codes.membership_table(["G"])) == bytes(2)  # "no mark" is never a member


# --- identifiers ---------------------------------------------------------------------------------


def test_upn_with_a_correct_check_letter_is_valid_and_permanent():
    upn = validate_upn("B801200005001")
    assert upn.value == "B801200005001" and not upn.temporary


def test_temporary_upn_is_accepted_and_flagged():
    temporary = make_upn(881, 2001, 25, 9, "A")
    assert temporary.endswith("09A")
    assert validate_upn(temporary).temporary


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("A801200005001", "check letter"),
        ("B80120000500", "13 characters"),
        ("X80120000A001", "digits"),
        ("E000200005001", "LA number"),
    ],
)
def test_invalid_upns_say_what_is_wrong(text, reason):
    with pytest.raises(InvalidIdentifier, match=reason):
        validate_upn(text)


def test_make_upn_computes_the_check_letter_stdnum_accepts():
    for serial in range(1, 60):
        assert validate_upn(make_upn(881, 4001, 19, serial)).value[1:] == f"8814001190{serial:02d}"


def test_laestab_urn_and_uln_are_fixed_length_digits():
    assert validate_laestab("8812001") == "8812001"
    assert validate_laestab("881/2001") == "8812001"
    assert validate_urn("115001") == "115001"
    assert validate_uln("4412345678") == "4412345678"
    for check, bad in ((validate_laestab, "88120"), (validate_urn, "11500A"), (validate_uln, "123456789")):
        with pytest.raises(InvalidIdentifier):
            check(bad)


# --- layout --------------------------------------------------------------------------------------


def test_two_bytes_per_calendar_day_from_1_september():
    assert YEAR_BYTES == 732
    assert offset_of(date(2025, 9, 1), 0) == 0
    assert offset_of(date(2025, 9, 1), 1) == 1
    assert offset_of(date(2025, 9, 2), 0) == 2
    assert offset_of(date(2026, 8, 31), 1) == 729  # 365 days in 2025/26
    assert offset_of(date(2028, 8, 31), 1) == 731  # 2027/28 has 29 February: the last byte is used
    assert session_at(2025, 3) == (date(2025, 9, 2), "PM")
    assert end_offset(date(2025, 9, 2)) == 4


def test_school_year_runs_september_to_august():
    assert school_year_of(date(2025, 9, 1)) == 2025
    assert school_year_of(date(2026, 8, 31)) == 2025
    assert school_year_of(date(2026, 9, 1)) == 2026


def test_sessions_are_am_or_pm():
    assert parse_session("am") == 0 and parse_session("PM") == 1
    with pytest.raises(ValueError, match="not AM or PM"):
        parse_session("EVE")


def test_school_day_offsets_skip_weekends_holidays_and_closures():
    calendar = SchoolCalendar.from_json_file(TERM_DATES)
    offsets = school_day_offsets(calendar, 2025, through=date(2025, 9, 12))
    # Wed 3 Sep to Fri 12 Sep: 8 school days, AM and PM each.
    assert len(offsets) == 16
    assert offsets[:2] == [offset_of(date(2025, 9, 3), 0), offset_of(date(2025, 9, 3), 1)]
    assert offset_of(date(2025, 9, 6), 0) not in offsets  # a Saturday
    all_year = school_day_offsets(calendar, 2025)
    assert offset_of(date(2025, 11, 3), 0) not in all_year  # INSET closure
    assert offset_of(date(2026, 5, 4), 0) not in all_year  # early May bank holiday
