"""Part-time timetables, AP placements, exclusions and flags, recorded through the pupil services."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from engine.errors import InvalidInput, NotFound
from engine.models.people import (
    APPlacement,
    Enrolment,
    Establishment,
    Exclusion,
    PartTimeTimetable,
    Pupil,
    PupilFlag,
)
from engine.services import pupils
from engine.services.attendance import import_file
from tests.integration.attendance_support import DATA, HEADER, LEO, PRU, RIVERSIDE, write


@pytest.fixture
def roll_ctx(calendar_ctx):
    for name in ("establishments.csv", "roll.csv"):
        assert import_file(calendar_ctx, DATA / name).applied
    return calendar_ctx


def ids(ctx, upn: str, laestab: str) -> tuple[int, int, int]:
    """(pupil id, enrolment id, establishment id) of ``upn`` at ``laestab``."""
    with ctx.db.transaction() as session:
        row = session.execute(
            select(Pupil.id, Enrolment.id, Establishment.id)
            .join(Enrolment, Enrolment.pupil_id == Pupil.id)
            .join(Establishment, Establishment.id == Enrolment.establishment_id)
            .where(Pupil.upn == upn, Establishment.laestab == laestab)
        ).one()
    return row[0], row[1], row[2]


def test_part_time_timetable_is_time_limited(roll_ctx):
    _, enrolment, _ = ids(roll_ctx, LEO, "8814001")
    new_id = pupils.add_part_time_timetable(
        roll_ctx, enrolment, 15, date(2026, 1, 5), date(2026, 2, 2), "reintegration"
    )
    with roll_ctx.db.transaction() as session:
        row = session.get(PartTimeTimetable, new_id)
    assert (row.hours_per_week, row.review_date) == (15.0, date(2026, 2, 2))
    with pytest.raises(InvalidInput, match="review date after its start"):
        pupils.add_part_time_timetable(roll_ctx, enrolment, 15, date(2026, 1, 5), date(2026, 1, 5))
    with pytest.raises(InvalidInput, match="not a part-time timetable"):
        pupils.add_part_time_timetable(roll_ctx, enrolment, 32.5, date(2026, 1, 5), date(2026, 2, 2))
    with pytest.raises(NotFound):
        pupils.add_part_time_timetable(roll_ctx, 999_999, 10, date(2026, 1, 5), date(2026, 2, 2))


def test_exclusions_and_flags_check_their_kinds(roll_ctx):
    pupil, enrolment, _ = ids(roll_ctx, LEO, "8814001")
    pupils.record_exclusion(roll_ctx, enrolment, "suspension", date(2026, 2, 2), 5)
    pupils.record_exclusion(roll_ctx, enrolment, "lunchtime", date(2026, 2, 9), 1, lunchtime_sessions=2)
    pupils.record_exclusion(roll_ctx, enrolment, "permanent", date(2026, 3, 2))
    with pytest.raises(InvalidInput, match="not one of"):
        pupils.record_exclusion(roll_ctx, enrolment, "expelled", date(2026, 3, 2))
    with pytest.raises(InvalidInput, match="length in school days"):
        pupils.record_exclusion(roll_ctx, enrolment, "suspension", date(2026, 3, 2))
    with pytest.raises(InvalidInput, match="lunchtime sessions"):
        pupils.record_exclusion(roll_ctx, enrolment, "lunchtime", date(2026, 3, 2))
    pupils.set_flag(
        roll_ctx, pupil, "CLA", "Children's Social Care", ["virtual_school"], date(2025, 4, 1), "sw1"
    )
    with pytest.raises(InvalidInput, match="not one of"):
        pupils.set_flag(roll_ctx, pupil, "VIP", "nobody", [], date(2025, 4, 1))
    with roll_ctx.db.transaction() as session:
        kinds = sorted(e.kind for e in session.scalars(select(Exclusion)))
        flag = session.scalars(select(PupilFlag)).one()
    assert kinds == ["lunchtime", "permanent", "suspension"]
    assert (flag.flag, flag.set_by_service, flag.visible_to) == (
        "CLA",
        "Children's Social Care",
        ["virtual_school"],
    )


def test_ap_placement_starts_with_the_first_attended_session_at_the_provider(roll_ctx, tmp_path):
    pupil, home, _ = ids(roll_ctx, LEO, "8814001")
    _, _, provider = ids(roll_ctx, LEO, PRU)
    placement = pupils.add_ap_placement(
        roll_ctx, pupil, provider, date(2026, 2, 2), "la", home_enrolment_id=home
    )
    absent = write(
        tmp_path, "absent.csv", HEADER + f"{LEO},{PRU},2026-02-02,AM,N\n{LEO},{PRU},2026-02-02,PM,N\n"
    )
    assert "ap_placements_started" not in import_file(roll_ctx, absent).changes
    attended = write(
        tmp_path, "attended.csv", HEADER + f"{LEO},{PRU},2026-02-03,AM,N\n{LEO},{PRU},2026-02-03,PM,K\n"
    )
    assert import_file(roll_ctx, attended).changes["ap_placements_started"] == 1
    with roll_ctx.db.transaction() as session:
        assert session.get(APPlacement, placement).actual_start == date(2026, 2, 3)
    with pytest.raises(InvalidInput, match="arranged_by"):
        pupils.add_ap_placement(roll_ctx, pupil, provider, date(2026, 2, 2), "parents")


def test_pupil_lookup_needs_a_valid_known_upn(roll_ctx):
    with pytest.raises(InvalidInput, match="invalid UPN"):
        pupils.pupil_attendance(roll_ctx, "A801200005001", date(2026, 2, 13))
    with pytest.raises(NotFound, match="no pupil"):
        pupils.pupil_attendance(roll_ctx, "B801200005001", date(2026, 2, 13))
    data = pupils.pupil_attendance(roll_ctx, LEO, date(2026, 2, 13))
    assert [e["registration"] for e in data["enrolments"]] == ["main", "subsidiary"]
    assert data["enrolments"][0]["laestab"] != RIVERSIDE
