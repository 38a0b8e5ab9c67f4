"""Imports on a real database: bad rows with line and reason, idempotence, corrections, refusals."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import func, select

from engine.attendance.importers import FormatRefused
from engine.attendance.importers import report as reasons
from engine.calendar import CalendarError
from engine.models.attendance import AttendanceImport, MarkCorrection
from engine.models.people import Enrolment, Establishment, Pupil
from engine.services.attendance import import_file
from tests.integration.attendance_support import (
    AMELIA,
    CASTLE_PARK,
    DATA,
    HEADER,
    ISLA,
    LEO,
    MAYA,
    OLIVER,
    PRU,
    RIVERSIDE,
    code_at,
    snapshot,
    write,
)  # fmt: skip


@pytest.fixture
def roll_ctx(calendar_ctx):
    """The example LA calendar, establishments and roll."""
    for name in ("establishments.csv", "roll.csv"):
        report = import_file(calendar_ctx, DATA / name)
        assert report.applied and report.rejected == 0, report.as_dict()
    return calendar_ctx


# --- marks CSV ------------------------------------------------------------------------------------


def test_marks_csv_applies_good_rows(roll_ctx):
    report = import_file(roll_ctx, DATA / "marks.csv")
    assert report.applied and report.rows_read == 10 and report.accepted == 10 and report.rejected == 0
    assert report.changes["marks_added"] == 10
    assert code_at(roll_ctx, AMELIA, RIVERSIDE, "2026-02-10", 0) == "N"
    assert code_at(roll_ctx, OLIVER, RIVERSIDE, "2026-02-09", 1) == "C1"  # a two-character code
    assert code_at(roll_ctx, LEO, CASTLE_PARK, "2026-02-09", 0) == "D"  # dual registration: home school
    assert code_at(roll_ctx, LEO, PRU, "2026-02-09", 1) == "Y1"


def test_every_bad_row_is_reported_with_its_line_and_reason(roll_ctx, tmp_path):
    rows = [
        f"{AMELIA},{RIVERSIDE},2026-02-09,AM,/",  # line 2: good
        f"{AMELIA},{RIVERSIDE},2026-02-09,PM,A",  # 3
        f"{AMELIA},{RIVERSIDE},2026-02-10,AM,H",  # 4
        f"{AMELIA},{RIVERSIDE},2026-02-10,PM,J",  # 5
        f"{AMELIA},{RIVERSIDE},2026-02-11,AM,Y",  # 6
        f"A881200117001,{RIVERSIDE},2026-02-11,PM,/",  # 7: wrong check letter
        f"{AMELIA},8819999,2026-02-12,AM,/",  # 8
        f"{AMELIA},{RIVERSIDE},2026-08-10,AM,/",  # 9: summer holiday, outside the terms
        f"{AMELIA},{RIVERSIDE},2026-02-12,EVE,/",  # 10
        f"{AMELIA},{RIVERSIDE},12/02/2026,AM,/",  # 11
        f"{ISLA},{CASTLE_PARK},2026-02-12,AM,/",  # 12: not on that roll
        f"{MAYA},{RIVERSIDE},2025-09-01,AM,/",  # 13: before the school year's first term day
        f"{AMELIA},{RIVERSIDE}",  # 14: too short
        f"{AMELIA},{RIVERSIDE},2026-02-12,PM,\\",  # 15: good
    ]
    report = import_file(roll_ctx, write(tmp_path, "bad.csv", HEADER + "\n".join(rows) + "\n"))
    found = {(r.line, r.reason) for r in report.rejections}
    assert found == {
        (3, reasons.UNKNOWN_CODE),
        (4, reasons.WITHDRAWN_CODE),
        (5, reasons.WITHDRAWN_CODE),
        (6, reasons.WITHDRAWN_CODE),
        (7, reasons.INVALID_UPN),
        (8, reasons.UNKNOWN_ESTABLISHMENT),
        (9, reasons.DATE_OUTSIDE_YEAR),
        (10, reasons.BAD_SESSION),
        (11, reasons.INVALID_DATE),
        (12, reasons.NOT_ON_ROLL),
        (13, reasons.DATE_OUTSIDE_YEAR),
        (14, reasons.MISSING_FIELD),
    }
    details = {r.line: r.detail for r in report.rejections}
    assert "withdrawn in 2024" in details[4] and "J1" in details[5]
    assert "check letter" in details[7]
    assert report.by_reason[reasons.WITHDRAWN_CODE] == 3
    assert (report.rows_read, report.accepted, report.rejected) == (14, 2, 12)
    assert report.applied and report.policy == "apply_good_rows"
    assert "12 rejected row(s) not applied" in report.outcome()
    assert code_at(roll_ctx, AMELIA, RIVERSIDE, "2026-02-09", 0) == "/"
    assert code_at(roll_ctx, AMELIA, RIVERSIDE, "2026-02-09", 1) == ""  # the bad row left nothing behind
    assert code_at(roll_ctx, AMELIA, RIVERSIDE, "2026-02-12", 1) == "\\"


def test_strict_import_applies_nothing_when_a_row_is_bad(roll_ctx, tmp_path):
    before = snapshot(roll_ctx)
    text = HEADER + f"{AMELIA},{RIVERSIDE},2026-02-09,AM,/\n{AMELIA},{RIVERSIDE},2026-02-09,PM,H\n"
    report = import_file(roll_ctx, write(tmp_path, "strict.csv", text), strict=True)
    assert not report.applied and report.policy == "all_or_nothing"
    assert report.accepted == 1 and report.rejected == 1
    assert "nothing applied" in report.outcome()
    assert snapshot(roll_ctx) == before
    with roll_ctx.db.transaction() as session:  # not even logged: a corrected file can follow
        assert session.scalar(select(func.count()).select_from(AttendanceImport)) == 2


def test_importing_the_same_file_twice_changes_nothing(roll_ctx):
    first = import_file(roll_ctx, DATA / "marks.csv")
    before = snapshot(roll_ctx)
    again = import_file(roll_ctx, DATA / "marks.csv")
    assert not again.applied and again.already_imported["id"] == first.import_id
    assert "already imported" in again.outcome()
    assert snapshot(roll_ctx) == before
    forced = import_file(roll_ctx, DATA / "marks.csv", force=True)
    assert forced.applied and forced.changes["marks_unchanged"] == 10
    assert forced.changes["marks_added"] == forced.changes["marks_corrected"] == 0
    assert snapshot(roll_ctx) == before


def test_a_changed_mark_is_a_correction_with_history(roll_ctx, tmp_path):
    import_file(roll_ctx, DATA / "marks.csv")  # N on Tuesday for Amelia
    text = HEADER + f"{AMELIA},{RIVERSIDE},2026-02-10,AM,I\n{AMELIA},{RIVERSIDE},2026-02-10,PM,N\n"
    report = import_file(roll_ctx, write(tmp_path, "resolved.csv", text))
    assert report.changes["marks_corrected"] == 1 and report.changes["marks_unchanged"] == 1
    assert code_at(roll_ctx, AMELIA, RIVERSIDE, "2026-02-10", 0) == "I"
    with roll_ctx.db.transaction() as session:
        history = session.scalars(select(MarkCorrection)).all()
    assert len(history) == 1
    change = history[0]
    assert (change.session_date, change.session, change.old_code, change.new_code) == (
        date(2026, 2, 10), "AM", "N", "I",
    )  # fmt: skip
    assert change.source == "resolved.csv" and change.import_id == report.import_id
    assert change.corrected_at is not None


def test_within_a_file_the_later_row_for_a_session_wins(roll_ctx, tmp_path):
    text = HEADER + f"{AMELIA},{RIVERSIDE},2026-02-10,AM,N\n{AMELIA},{RIVERSIDE},2026-02-10,AM,I\n"
    report = import_file(roll_ctx, write(tmp_path, "twice.csv", text))
    assert report.accepted == 2 and report.changes["marks_added"] == 1
    assert code_at(roll_ctx, AMELIA, RIVERSIDE, "2026-02-10", 0) == "I"


@pytest.mark.parametrize(
    ("name", "content", "fmt", "message"),
    [
        ("feed.json", (DATA / "feed_riverside.json").read_text(), "csv", "is not a marks CSV"),
        ("roll.csv", (DATA / "roll.csv").read_text(), "csv", "missing date, session, code"),
        ("marks.csv", HEADER + "x,y,z,AM,/\n", "ctf", "is not a Common Transfer File"),
        ("marks.csv", HEADER, "json", "not valid UTF-8 JSON"),
        ("other.xml", "<?xml version='1.0'?><Other/>", "ctf", "expected a <CTfile> root"),
        ("dtd.xml", "<?xml version='1.0'?><!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]><CTfile/>",
         "ctf", "DOCTYPE"),
        ("list.json", "[1, 2]", "json", 'expected an object with a "pupils" list'),
        ("roll.csv", "upn,name\nX,Y\n", "roll", "is not a roll CSV"),
    ],
)  # fmt: skip
def test_a_file_that_is_not_its_format_is_refused_whole(roll_ctx, tmp_path, name, content, fmt, message):
    before = snapshot(roll_ctx)
    with pytest.raises(FormatRefused, match=message):
        import_file(roll_ctx, write(tmp_path, name, content), fmt)
    assert snapshot(roll_ctx) == before


def test_binary_file_is_refused(roll_ctx, tmp_path):
    path = tmp_path / "marks.csv"
    path.write_bytes(HEADER.encode() + b"\xff\xfe\x00garbage\n")
    with pytest.raises(FormatRefused, match="not"):
        import_file(roll_ctx, path, "csv")


def test_marks_need_the_la_calendar(ctx):
    import_file(ctx, DATA / "establishments.csv")
    import_file(ctx, DATA / "roll.csv")
    with pytest.raises(CalendarError, match="educase calendar load"):
        import_file(ctx, DATA / "marks.csv")


# --- roll and establishments ----------------------------------------------------------------------


def test_roll_creates_pupils_and_enrolments_and_flags_temporary_upns(roll_ctx):
    with roll_ctx.db.transaction() as session:
        pupils = {p.upn: p for p in session.scalars(select(Pupil))}
        leo = session.scalars(select(Enrolment).where(Enrolment.pupil_id == pupils[LEO].id)).all()
    assert len(pupils) == 6
    assert pupils[MAYA].upn_temporary and not pupils[AMELIA].upn_temporary
    assert (
        pupils[AMELIA].address == "12 Mill Lane\nRiverside" and pupils[AMELIA].preferred_forename == "Millie"
    )
    assert sorted(e.registration for e in leo) == ["main", "subsidiary"]
    assert import_file(roll_ctx, DATA / "roll.csv", force=True).changes == {}  # nothing to change


def test_bad_roll_rows_are_listed_and_the_good_ones_applied(roll_ctx, tmp_path):
    text = (
        "upn,laestab,forename,surname,date_of_birth,start_date,end_date,deletion_ground,registration,uln\n"
        f"U881200125011,{RIVERSIDE},Ada,Lovelace,2019-12-10,2025-09-03,,,,\n"  # 2: good
        f"E881200125012,{RIVERSIDE},Bad,Check,2019-12-10,2025-09-03,,,,\n"  # 3: check letter
        f"U881200125011,9999999,Ada,Lovelace,2019-12-10,2025-09-03,,,,\n"  # 4
        f"H881200125012,{RIVERSIDE},,Nameless,2019-12-10,2025-09-03,,,,\n"  # 5
        f"H881200125012,{RIVERSIDE},Ann,Dates,2019-13-10,2025-09-03,,,,\n"  # 6
        f"H881200125012,{RIVERSIDE},Ann,Dates,2019-12-10,2025-09-03,2025-01-01,,,\n"  # 7: ends before start
        f"H881200125012,{RIVERSIDE},Ann,Dates,2019-12-10,2025-09-03,,moved_away,,\n"  # 8: ground, no end
        f"H881200125012,{RIVERSIDE},Ann,Dates,2019-12-10,2025-09-03,,,sometimes,\n"  # 9
        f"H881200125012,{RIVERSIDE},Ann,Dates,2019-12-10,2025-09-03,,,,12345\n"  # 10: ULN
    )
    report = import_file(roll_ctx, write(tmp_path, "new-roll.csv", text), "roll")
    assert {(r.line, r.reason) for r in report.rejections} == {
        (3, reasons.INVALID_UPN), (4, reasons.UNKNOWN_ESTABLISHMENT), (5, reasons.MISSING_FIELD),
        (6, reasons.INVALID_DATE), (7, reasons.INVALID_VALUE), (8, reasons.INVALID_VALUE),
        (9, reasons.INVALID_VALUE), (10, reasons.INVALID_VALUE),
    }  # fmt: skip
    assert report.accepted == 1 and report.changes == {"pupils_created": 1, "enrolments_created": 1}
    with roll_ctx.db.transaction() as session:
        assert (
            session.scalar(select(func.count()).select_from(Pupil).where(Pupil.upn == "H881200125012")) == 0
        )


def test_bad_establishment_rows_are_listed(ctx, tmp_path):
    text = (
        "laestab,urn,name,phase,type\n8812001,115001,A School,primary,community\n88,1,B,primary,community\n"
        "8812002,,C School,upper,community\n8812003,,D School,primary,castle\n8812004,115001,E School,primary,academy\n"
    )
    report = import_file(ctx, write(tmp_path, "est.csv", text))
    assert report.format == "establishments"
    assert {(r.line, r.reason) for r in report.rejections} == {
        (3, reasons.UNKNOWN_ESTABLISHMENT), (4, reasons.INVALID_VALUE), (5, reasons.INVALID_VALUE),
        (6, reasons.INVALID_VALUE),
    }  # fmt: skip
    assert report.changes == {"establishments_created": 1}


def test_ap_types_mark_alternative_provision(roll_ctx):
    with roll_ctx.db.transaction() as session:
        ap = {e.laestab: e.is_alternative_provision for e in session.scalars(select(Establishment))}
    assert ap == {RIVERSIDE: False, "8812002": False, CASTLE_PARK: False, PRU: True}


def test_summary_is_json_serialisable(roll_ctx):
    report = import_file(roll_ctx, DATA / "marks.csv")
    data = json.loads(json.dumps(report.as_dict()))
    assert (
        data["rows_read"] == 10 and data["policy"] == "apply_good_rows" and data["rejected_by_reason"] == {}
    )
