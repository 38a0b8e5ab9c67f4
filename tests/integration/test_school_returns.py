"""A school's own files and cases, below the pages: an import limited to one establishment refuses
every row about another (CSV rows one by one, a whole JSON feed about another school), and the
portal services start cases only about the school user's own pupils and school."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.access import Principal
from engine.attendance.importers import report as reasons
from engine.errors import NotFound, PermissionDenied
from engine.models.access import Role
from engine.models.people import Pupil
from engine.services import portal
from engine.services.attendance import import_file
from tests.integration.attendance_support import (
    AMELIA,
    CASTLE_PARK,
    DATA,
    HEADER,
    LEO,
    RIVERSIDE,
    code_at,
    write,
)

RIVERSIDE_HEAD = Principal("head", Role.SCHOOL, frozenset({"school"}), establishment=RIVERSIDE)


@pytest.fixture
def roll_ctx(calendar_ctx):
    """The example establishments and roll (Amelia at Riverside, Leo at Castle Park)."""
    assert import_file(calendar_ctx, DATA / "establishments.csv").applied
    assert import_file(calendar_ctx, DATA / "roll.csv").applied
    return calendar_ctx


def test_a_schools_own_file_refuses_rows_about_another_school(roll_ctx, tmp_path):
    text = HEADER + f"{AMELIA},{RIVERSIDE},2026-02-10,AM,O\n{LEO},{CASTLE_PARK},2026-02-10,AM,O\n"
    report = import_file(roll_ctx, write(tmp_path, "mine.csv", text), only_laestab=RIVERSIDE)
    assert report.applied and report.accepted == 1
    assert report.by_reason == {reasons.OTHER_ESTABLISHMENT: 1}
    assert report.rejections[0].line == 3 and CASTLE_PARK in report.rejections[0].detail
    assert code_at(roll_ctx, AMELIA, RIVERSIDE, "2026-02-10", 0) == "O"
    assert code_at(roll_ctx, LEO, CASTLE_PARK, "2026-02-10", 0) == ""


def test_a_feed_about_another_school_is_refused_whole(roll_ctx):
    report = import_file(roll_ctx, DATA / "feed_riverside.json", only_laestab=CASTLE_PARK)
    assert report.accepted == 0 and report.by_reason[reasons.OTHER_ESTABLISHMENT] == 3
    assert report.by_reason[reasons.PUPIL_REJECTED] == 27


def test_a_school_starts_only_its_portals_processes_about_itself():
    data = portal.school_start_data(RIVERSIDE_HEAD, "absence_referral", {"school": {"laestab": CASTLE_PARK}})
    assert data["school"]["laestab"] == RIVERSIDE
    with pytest.raises(NotFound):
        portal.school_start_data(RIVERSIDE_HEAD, "attendance_legal_route", {})
    with pytest.raises(NotFound):
        portal.school_start_data(RIVERSIDE_HEAD, "absence_referral", {}, version=1)
    with pytest.raises(PermissionDenied):
        portal.school_start_data(Principal("x", Role.SCHOOL, frozenset()), "absence_referral", {})
    ewo = Principal("ewo", Role.CASEWORKER, frozenset({"attendance"}))
    assert portal.school_start_data(ewo, "attendance_legal_route", {"a": 1}) == {"a": 1}


def test_a_portal_form_is_only_about_a_pupil_on_the_schools_roll(roll_ctx):
    with roll_ctx.db.transaction() as session:
        leo = session.scalar(select(Pupil.id).where(Pupil.upn == LEO))
        amelia = session.scalar(select(Pupil.id).where(Pupil.upn == AMELIA))
    with pytest.raises(NotFound):
        portal.action_form(roll_ctx, RIVERSIDE_HEAD, "deletion", leo)
    shown = portal.action_form(roll_ctx, RIVERSIDE_HEAD, "deletion", amelia)
    assert shown.data["school"]["laestab"] == RIVERSIDE and shown.data["pupil"]["upn"] == AMELIA
    assert ("school", "laestab") in shown.fixed
    assert shown.form.ui_schema["pupil"]["upn"]["ui:readonly"] is True
    with pytest.raises(NotFound):
        portal.action_form(roll_ctx, RIVERSIDE_HEAD, "nonsense", amelia)
