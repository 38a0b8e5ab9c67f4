"""Measures, reports and the attendance CLI on a real database, with marks whose figures are known."""

from __future__ import annotations

import csv
import json
from collections import Counter
from datetime import date

import click
import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from sqlalchemy import select

from engine.attendance.importers.base import PROGRESS_EVERY_ROWS, ImportRun
from engine.attendance.importers.report import ImportReport
from engine.cli import register
from engine.models.people import Pupil
from engine.services import pupils
from engine.services.attendance import import_file
from tests.integration.attendance_support import AMELIA, DATA, HEADER, ISLA, MAYA, OLIVER, RIVERSIDE, write

DAYS = ["2025-09-03", "2025-09-04", "2025-09-05", "2025-09-08", "2025-09-09",
        "2025-09-10", "2025-09-11", "2025-09-12", "2025-09-15", "2025-09-16"]  # fmt: skip
AS_OF = "2025-09-16"
PATTERNS = {
    AMELIA: ["/"] * 18 + ["I"] * 2,  # exactly 10 %: persistent
    OLIVER: ["/"] * 19 + ["O"],  # 5 %
    ISLA: ["/"] * 10 + ["N"] * 10,  # exactly 50 %: severe
    MAYA: ["/"] * 10 + ["Y2"] * 10,  # Y2 is not a possible session: 0 %
}


@click.group()
def main() -> None:
    """The engine's commands as ``educase`` has them, run in-process on the test database."""


register(main)


@pytest.fixture
def marked_ctx(calendar_ctx, tmp_path):
    for name in ("establishments.csv", "roll.csv"):
        assert import_file(calendar_ctx, DATA / name).applied
    rows = [
        f"{upn},{RIVERSIDE},{DAYS[i // 2]},{'AM' if i % 2 == 0 else 'PM'},{code}"
        for upn, codes in PATTERNS.items()
        for i, code in enumerate(codes)
    ]
    report = import_file(calendar_ctx, write(tmp_path, "september.csv", HEADER + "\n".join(rows) + "\n"))
    assert report.rejected == 0 and report.accepted == 80
    return calendar_ctx


def cli(ctx, *args: str, code: int = 0) -> str:
    """Standard output of a command that ends with exit ``code``; when that is not 0, stderr too."""
    result = CliRunner().invoke(main, list(args), obj={"engine": ctx}, catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result.stdout if code == 0 else result.output


def test_measures_cli_json(marked_ctx):
    data = json.loads(
        cli(marked_ctx, "attendance", "measures", "--establishment", RIVERSIDE, "--as-of", AS_OF, "--json")
    )
    by_upn = {row["upn"]: row for row in data["enrolments"]}
    assert data["school_year"] == "2025/26" and data["as_of"] == AS_OF
    amelia = by_upn[AMELIA]
    assert (amelia["possible"], amelia["authorised"], amelia["absence_rate"]) == (20, 2, 10.0)
    assert amelia["persistent_absence"] and not amelia["severe_absence"]
    assert not by_upn[OLIVER]["persistent_absence"]
    assert by_upn[ISLA]["severe_absence"] and by_upn[ISLA]["unauthorised"] == 10
    maya = by_upn[MAYA]
    assert (maya["possible"], maya["not_counted"], maya["absence_rate"], maya["upn_temporary"]) == (
        10,
        10,
        0.0,
        True,
    )
    totals = data["totals"]
    assert (totals["possible"], totals["absent"], totals["persistent_absentees"], totals["severe_absentees"]) == (
        70, 13, 2, 1,
    )  # fmt: skip


def test_measures_as_of_an_earlier_date(marked_ctx):
    data = json.loads(
        cli(
            marked_ctx,
            "attendance",
            "measures",
            "--establishment",
            RIVERSIDE,
            "--as-of",
            "2025-09-04",
            "--json",
        )
    )
    assert {row["upn"]: row["possible"] for row in data["enrolments"]}[AMELIA] == 4


def test_unknown_establishment_is_one_line_on_stderr(marked_ctx):
    result = CliRunner().invoke(main, ["attendance", "measures", "--establishment", "8810000", "--as-of", AS_OF],
                                obj={"engine": marked_ctx})  # fmt: skip
    assert result.exit_code == 1 and "no establishment with LAESTAB 8810000" in result.output


def test_report_csv_lists_poor_attendance_worst_first(marked_ctx, tmp_path):
    out = tmp_path / "riverside.csv"
    text = cli(
        marked_ctx,
        "attendance",
        "report",
        "--establishment",
        RIVERSIDE,
        "--as-of",
        AS_OF,
        "--output",
        str(out),
    )
    assert "written to" in text
    with out.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["upn"] for r in rows] == [ISLA, AMELIA]
    assert rows[0]["absence_rate"] == "50.0" and rows[0]["severe_absence"] == "yes"
    assert rows[0]["no_reason_yet_N"] == "10" and rows[1]["illness_I"] == "2"
    assert rows[1]["persistent_absence"] == "yes" and rows[1]["severe_absence"] == "no"


def test_report_threshold_and_flags_visible_to_the_role(marked_ctx, tmp_path):
    with marked_ctx.db.transaction() as session:
        isla = session.scalar(select(Pupil.id).where(Pupil.upn == ISLA))
    pupils.set_flag(marked_ctx, isla, "CP", "Children's Social Care", ["safeguarding"], date(2025, 1, 1))
    pupils.set_flag(marked_ctx, isla, "EHCP", "SEND service", [], date(2025, 1, 1))
    args = [
        "attendance",
        "report",
        "--establishment",
        RIVERSIDE,
        "--as-of",
        AS_OF,
        "--threshold",
        "5",
        "--json",
    ]
    rows = json.loads(cli(marked_ctx, *args))["rows"]
    assert [r["upn"] for r in rows] == [ISLA, AMELIA, OLIVER]
    assert rows[0]["flags"] == "EHCP"
    rows = json.loads(cli(marked_ctx, *args, "--role", "safeguarding"))["rows"]
    assert rows[0]["flags"] == "CP,EHCP"


def test_report_xlsx_has_title_header_and_rows(marked_ctx, tmp_path):
    out = tmp_path / "riverside.xlsx"
    cli(
        marked_ctx,
        "attendance",
        "report",
        "--establishment",
        RIVERSIDE,
        "--as-of",
        AS_OF,
        "--output",
        str(out),
    )
    sheet = load_workbook(out).active
    assert "Riverside Primary School (8812001)" in sheet["A1"].value
    header = [c.value for c in sheet[3]]
    assert header[:3] == ["upn", "surname", "forename"]
    assert [sheet.cell(row, 1).value for row in (4, 5)] == [ISLA, AMELIA]
    assert sheet.cell(4, header.index("absence_rate") + 1).value == 50.0
    assert sheet.freeze_panes == "A4"


def test_la_summary_csv_and_xlsx(marked_ctx, tmp_path):
    cli(marked_ctx, "attendance", "summary", "--as-of", AS_OF, "--output", str(tmp_path / "la.csv"))
    with (tmp_path / "la.csv").open(newline="") as handle:
        rows = {r["laestab"]: r for r in csv.DictReader(handle)}
    assert set(rows) == {RIVERSIDE, "LA"}
    riverside = rows[RIVERSIDE]
    assert (riverside["enrolments"], riverside["possible"], riverside["absence_rate"]) == ("4", "70", "18.57")
    assert (riverside["persistent_absentees"], riverside["persistent_absence_rate"]) == ("2", "50.0")
    assert (riverside["severe_absentees"], riverside["severe_absence_rate"]) == ("1", "25.0")
    cli(marked_ctx, "attendance", "summary", "--as-of", AS_OF, "--output", str(tmp_path / "la.xlsx"))
    sheet = load_workbook(tmp_path / "la.xlsx").active
    assert [sheet.cell(row, 1).value for row in (4, 5)] == [RIVERSIDE, "LA"]


def test_export_refuses_other_suffixes(marked_ctx, tmp_path):
    result = CliRunner().invoke(main, ["attendance", "summary", "--as-of", AS_OF, "--output", str(tmp_path / "la.pdf")],
                                obj={"engine": marked_ctx})  # fmt: skip
    assert result.exit_code == 1 and ".csv or .xlsx" in result.output


def test_import_cli_prints_the_summary_and_exit_code(calendar_ctx, tmp_path):
    out = cli(calendar_ctx, "attendance", "import", str(DATA / "establishments.csv"))
    assert "all rows applied" in out and "rows read 4, accepted 4, rejected 0" in out
    cli(calendar_ctx, "attendance", "import", str(DATA / "roll.csv"), "--format", "roll")
    bad = write(
        tmp_path,
        "bad.csv",
        HEADER + f"{AMELIA},{RIVERSIDE},{DAYS[0]},AM,H\n{AMELIA},{RIVERSIDE},{DAYS[0]},PM,/\n",
    )
    out = cli(calendar_ctx, "attendance", "import", str(bad), code=3)
    assert "good rows applied; 1 rejected row(s) not applied" in out
    assert "code withdrawn in 2024: 1" in out and "line 2: code withdrawn in 2024" in out
    again = write(tmp_path, "bad2.csv", bad.read_text() + "\n")
    result = CliRunner().invoke(
        main, ["attendance", "import", str(again), "--strict", "--json"], obj={"engine": calendar_ctx}
    )
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["applied"] is False and data["policy"] == "all_or_nothing"
    out = cli(calendar_ctx, "attendance", "import", str(DATA / "roll.csv"))
    assert "already imported" in out
    out = cli(
        calendar_ctx, "attendance", "import", str(DATA / "feed_riverside.json"), "--format", "csv", code=1
    )
    assert "is not a marks CSV" in out


def test_progress_is_reported_every_100000_rows(calendar_ctx):
    seen: list[int] = []
    with calendar_ctx.db.transaction() as session:
        run = ImportRun(session, ImportReport("f", "csv"), None, "f", None, lambda: None, seen.append)  # type: ignore[arg-type]
        for _ in range(2 * PROGRESS_EVERY_ROWS + 5):
            run.row_read()
    assert seen == [100_000, 200_000]


def test_pupil_cli_shows_marks_and_corrections(marked_ctx, tmp_path):
    fix = write(tmp_path, "fix.csv", HEADER + f"{ISLA},{RIVERSIDE},2025-09-16,PM,I\n")
    import_file(marked_ctx, fix)
    data = json.loads(cli(marked_ctx, "attendance", "pupil", ISLA, "--as-of", AS_OF, "--json"))
    assert data["corrections"] == [{**data["corrections"][0], "date": "2025-09-16", "session": "PM",
                                    "old_code": "N", "new_code": "I", "source": "fix.csv"}]  # fmt: skip
    assert data["enrolments"][0]["recent_marks"]["2025-09-16"] == ["N", "I"]
    text = cli(marked_ctx, "attendance", "pupil", ISLA, "--as-of", AS_OF)
    assert "corrected 2025-09-16 PM: N -> I (fix.csv)" in text


def test_codes_cli_lists_the_2024_set():
    result = CliRunner().invoke(main, ["attendance", "codes", "--json"])
    rows = json.loads(result.output)
    assert len(rows) == 34 and {r["code"] for r in rows} >= {"C1", "C2", "J1", "Y7", "#"}


def test_demo_data_cli(ctx):
    data = json.loads(cli(ctx, "demo-data", "--pupils", "600", "--seed", "5", "--json"))
    assert data["pupils"] == 600 and data["as_of"] == "2026-07-22"
    assert 0 < data["achieved"]["absence_rate"] < 20
    cases = Counter(c["case"] for c in data["cases"])
    assert cases["10_consecutive_O_N"] == 1 and cases["dual_registered"] >= 2
    summary = json.loads(cli(ctx, "attendance", "summary", "--as-of", "2026-07-22", "--json"))
    assert summary["rows"][-1]["laestab"] == "LA"
    assert summary["rows"][-1]["absence_rate"] == data["achieved"]["absence_rate"]
    out = CliRunner().invoke(main, ["demo-data", "--pupils", "10"], obj={"engine": ctx})
    assert out.exit_code == 1 and "demo-data fills an empty database" in out.output
