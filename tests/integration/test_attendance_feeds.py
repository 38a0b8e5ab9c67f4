"""The MIS JSON feed and the Common Transfer File, on a real database."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from engine.attendance.importers import FormatRefused
from engine.attendance.importers import report as reasons
from engine.models.attendance import AttendanceSummary
from engine.models.people import Enrolment, Establishment, Pupil
from engine.services.attendance import import_file
from tests.integration.attendance_support import AMELIA, DATA, ISLA, RIVERSIDE, code_at, snapshot

FEED = DATA / "feed_riverside.json"
CTF = DATA / "ctf_riverside_to_castle_park.xml"
KACPER, ETHAN, ZARA = "E881200125010", "F881200115007", "D881200215008"


@pytest.fixture
def est_ctx(calendar_ctx):
    """The example LA calendar and establishments (no roll: the feeds bring the pupils)."""
    assert import_file(calendar_ctx, DATA / "establishments.csv").applied
    return calendar_ctx


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    """The 1-based line of the ``occurrence``-th line containing ``needle``."""
    found = [i for i, line in enumerate(text.splitlines(), start=1) if needle in line]
    return found[occurrence - 1]


# --- JSON feed --------------------------------------------------------------------------------------


def test_feed_creates_pupils_enrolments_and_marks(est_ctx):
    report = import_file(est_ctx, FEED)
    assert report.format == "json" and report.applied and report.rejected == 0
    assert report.rows_read == 3 + 10 + 10 + 7 and report.accepted == report.rows_read
    assert report.changes["pupils_created"] == 3 and report.changes["enrolments_created"] == 3
    assert code_at(est_ctx, AMELIA, RIVERSIDE, "2026-02-10", 0) == "I"
    assert code_at(est_ctx, ISLA, RIVERSIDE, "2026-02-13", 1) == "V"
    assert code_at(est_ctx, KACPER, RIVERSIDE, "2026-02-09", 0) == "Z"  # prospective, before his start
    assert code_at(est_ctx, KACPER, RIVERSIDE, "2026-02-13", 1) == "#"
    with est_ctx.db.transaction() as session:
        isla = session.scalar(select(Pupil).where(Pupil.upn == ISLA))
        amelia = session.scalar(select(Pupil).where(Pupil.upn == AMELIA))
    assert str(isla.date_of_birth) == "2018-01-20"  # Wonde-style date object
    assert amelia.address == "12 Mill Lane\nRiverside\nExampleton" and amelia.uprn == "100012345678"


def test_feed_twice_changes_nothing(est_ctx):
    import_file(est_ctx, FEED)
    before = snapshot(est_ctx)
    assert import_file(est_ctx, FEED).already_imported
    forced = import_file(est_ctx, FEED, force=True)
    assert forced.changes["marks_unchanged"] == 27 and "marks_added" not in {
        k for k, v in forced.changes.items() if v
    }
    assert snapshot(est_ctx) == before


def test_feed_bad_rows_have_json_line_numbers(est_ctx, tmp_path):
    text = FEED.read_text()
    text = text.replace('"session": "PM", "code": "I"}', '"session": "PM", "code": "H"}', 1)
    text = text.replace('{"date": "2026-02-12", "session": "AM", "code": "U"}',
                        '{"date": "2026-02-12", "session": "NOON", "code": "U"}')  # fmt: skip
    text = text.replace('"upn": "E881200125010"', '"upn": "E881200125019"')  # wrong check letter
    path = tmp_path / "feed.json"
    path.write_text(text)
    report = import_file(est_ctx, path)
    found = {(r.line, r.reason, r.where) for r in report.rejections}
    assert (line_of(text, '"code": "H"'), reasons.WITHDRAWN_CODE, "pupils[0].sessions[3]") in found
    assert (line_of(text, '"NOON"'), reasons.BAD_SESSION, "pupils[1].sessions[6]") in found
    kacper = line_of(text, '"mis_id": "1201"') - 1  # the pupil object opens on the line before
    assert (kacper, reasons.INVALID_UPN, "pupils[2]") in found
    assert report.by_reason[reasons.PUPIL_REJECTED] == 7  # his sessions go with him
    assert report.rejected == 1 + 1 + 1 + 7
    assert code_at(est_ctx, AMELIA, RIVERSIDE, "2026-02-10", 0) == "I"  # the good rows are applied
    assert code_at(est_ctx, AMELIA, RIVERSIDE, "2026-02-10", 1) == ""


def test_feed_mark_outside_the_enrolment_is_not_on_roll(est_ctx, tmp_path):
    document = json.loads(FEED.read_text())
    document["pupils"][2]["sessions"].append({"date": "2026-02-10", "session": "AM", "code": "/"})
    path = tmp_path / "late.json"
    path.write_text(json.dumps(document, indent=1))
    report = import_file(est_ctx, path)
    assert [r.reason for r in report.rejections] == [reasons.NOT_ON_ROLL]


def test_feed_for_an_unknown_school_rejects_every_row(est_ctx, tmp_path):
    path = tmp_path / "unknown.json"
    path.write_text(FEED.read_text().replace('"laestab": "8812001"', '"laestab": "8819999"'))
    report = import_file(est_ctx, path)
    assert report.accepted == 0 and report.by_reason[reasons.UNKNOWN_ESTABLISHMENT] == 3
    assert report.by_reason[reasons.PUPIL_REJECTED] == 27


# --- Common Transfer File ----------------------------------------------------------------------------


def test_ctf_brings_pupils_enrolments_and_attendance_summaries(est_ctx):
    report = import_file(est_ctx, CTF)
    assert report.format == "ctf" and report.applied and report.accepted == 2 and report.rejected == 0
    assert (
        report.changes["history_entries_outside_la"] == 1
        and report.changes["attendance_years_outside_la"] == 1
    )
    with est_ctx.db.transaction() as session:
        ethan = session.scalar(select(Pupil).where(Pupil.upn == ETHAN))
        enrolment = session.scalar(select(Enrolment).where(Enrolment.pupil_id == ethan.id))
        laestab = session.scalar(
            select(Establishment.laestab).where(Establishment.id == enrolment.establishment_id)
        )
        summaries = session.scalars(select(AttendanceSummary).order_by(AttendanceSummary.id)).all()
        zara = session.scalar(select(Pupil).where(Pupil.upn == ZARA))
    assert (ethan.uln, ethan.middle_names, ethan.sex, ethan.postcode) == (
        "5512345678",
        "Thomas",
        "M",
        "EX1 4MR",
    )
    assert ethan.address == "22 Meadow Road\nRiverside\nExampleton" and ethan.uprn == "100012340022"
    assert laestab == RIVERSIDE and str(enrolment.end_date) == "2026-02-06" and enrolment.year_group == "6"
    assert [(s.school_year, s.sessions_possible, s.sessions_attended, s.sessions_authorised,
             s.sessions_unauthorised) for s in summaries] == [(2025, 212, 189, 12, 11), (2025, 210, 200, 6, 4)]  # fmt: skip
    assert zara.address == "Flat 5\n18 Tannery Court\nExampleton"
    assert import_file(est_ctx, CTF, force=True).changes == {
        "history_entries_outside_la": 1,
        "attendance_years_outside_la": 1,
    }


def test_ctf_bad_pupil_is_reported_at_its_line(est_ctx, tmp_path):
    text = CTF.read_text().replace("<UPN>D881200215008</UPN>", "<UPN>D881200215009</UPN>")
    text = text.replace(
        "<SessionsAttended>189</SessionsAttended>", "<SessionsAttended>180</SessionsAttended>"
    )
    path = tmp_path / "bad.xml"
    path.write_text(text)
    report = import_file(est_ctx, path, "ctf")
    assert {(r.line, r.reason) for r in report.rejections} == {
        (line_of(text, "<Pupil>", 1), reasons.INVALID_VALUE),  # 180 + 12 + 11 is not 212
        (line_of(text, "<Pupil>", 2), reasons.INVALID_UPN),
    }
    assert report.accepted == 0 and report.changes == {}
    with est_ctx.db.transaction() as session:
        assert session.scalars(select(Pupil)).all() == []  # the first pupil was not half-applied


def test_ctf_lost_pupil_file_is_noted(est_ctx, tmp_path):
    text = CTF.read_text().replace(
        "<LEA>881</LEA>\n      <Estab>4001</Estab>", "<LEA>XXX</LEA>\n      <Estab>XXXX</Estab>"
    )
    path = tmp_path / "lost.xml"
    path.write_text(text)
    report = import_file(est_ctx, path)
    assert any("lost pupil" in note for note in report.notes)


def test_ctf_attendance_without_an_enrolment_is_rejected(est_ctx, tmp_path):
    text = CTF.read_text().replace("<EntryDate>2025-09-03</EntryDate>", "<EntryDate>2026-09-03</EntryDate>")
    text = text.replace("<LeavingDate>2026-02-06</LeavingDate>\n          <LeavingReason>Transferred",
                        "<LeavingReason>Transferred")  # fmt: skip
    path = tmp_path / "no-enrolment.xml"
    path.write_text(text)
    report = import_file(est_ctx, path)
    assert [(r.line, r.reason) for r in report.rejections] == [
        (line_of(text, "<Pupil>"), reasons.NOT_ON_ROLL)
    ]


def test_ctf_with_a_doctype_is_refused(est_ctx, tmp_path):
    path = tmp_path / "xxe.xml"
    path.write_text(
        CTF.read_text().replace(
            "<CTfile>", '<!DOCTYPE CTfile [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n<CTfile>', 1
        )
    )
    with pytest.raises(FormatRefused, match="DOCTYPE"):
        import_file(est_ctx, path)


def test_format_is_detected_from_content(est_ctx, tmp_path):
    renamed = tmp_path / "export.dat"
    renamed.write_bytes(FEED.read_bytes())
    assert import_file(est_ctx, renamed).format == "json"
    unknown = tmp_path / "mystery.txt"
    unknown.write_text("a,b,c\n1,2,3\n")
    with pytest.raises(FormatRefused, match="give --format"):
        import_file(est_ctx, unknown)
