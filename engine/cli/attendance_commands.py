"""`educase attendance import|measures|report|summary|pupil|codes` and `educase demo-data`."""

from __future__ import annotations

import sys
import time
from datetime import date, datetime
from pathlib import Path
from typing import Any

import click

from ..attendance import codes, reports
from ..attendance.importers import FORMATS, ImportReport
from ..services import attendance as service
from ..services import pupils
from .common import emit, get_context, handle_errors, json_option, table

EXIT_ROWS_REJECTED = 3
DATE = click.DateTime(formats=["%Y-%m-%d"])


def _day(value: datetime | None) -> date:
    return value.date() if value else date.today()


@click.group()
def attendance() -> None:
    """Pupils' attendance: imports, measures and reports."""


@attendance.command("import")
@click.argument("file", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(list(FORMATS)),
    default=None,
    help="csv (marks), json (MIS feed), ctf, roll, establishments. Default: from the content.",
)
@click.option("--strict", is_flag=True, help="All or nothing: apply no row if any row is bad.")
@click.option("--force", is_flag=True, help="Apply the file even if the same content was imported before.")
@click.option("--as", "actor", default=None, help="Who is importing (kept with the import).")
@click.option("--show", default=20, show_default=True, help="How many rejected rows to list.")
@json_option
@handle_errors
def attendance_import(
    file: Path, fmt: str | None, strict: bool, force: bool, actor: str | None, show: int, as_json: bool
) -> None:  # fmt: skip
    """Import marks, an MIS feed, a CTF, a roll or establishments from FILE.

    By default good rows are applied and bad ones listed with their line (exit code 3 if any); with
    --strict a file with a bad row applies nothing (exit code 1). A file that is not its format is
    refused whole (exit code 1)."""
    started = time.perf_counter()

    def progress(rows: int) -> None:
        click.echo(f"  {rows:,} rows read ({time.perf_counter() - started:.1f} s)", err=True)

    report = service.import_file(
        get_context(), file, fmt, strict=strict, force=force, actor=actor, progress=progress
    )
    emit(report.as_dict(), as_json, lambda _: _import_text(report, show))
    if not report.applied and not report.already_imported:
        sys.exit(1)
    if report.rejected:
        sys.exit(EXIT_ROWS_REJECTED)


def _import_text(report: ImportReport, show: int) -> str:
    lines = [
        f"{report.file} ({report.format}): {report.outcome()}",
        f"  rows read {report.rows_read:,}, accepted {report.accepted:,}, rejected {report.rejected:,}",
    ]
    if report.by_reason:
        lines.append("  rejected by reason:")
        lines += [f"    {reason}: {n:,}" for reason, n in sorted(report.by_reason.items())]
    if report.changes:
        lines.append("  changes: " + ", ".join(f"{k} {v:,}" for k, v in sorted(report.changes.items())))
    lines += [f"  note: {note}" for note in report.notes]
    lines += [f"  {r}" for r in report.rejections[:show]]
    if report.rejected > show:
        lines.append(f"  ... {report.rejected - show:,} more (--show N or --json to list them)")
    return "\n".join(lines)


@attendance.command("measures")
@click.option("--establishment", "laestab", required=True, help="LAESTAB (7 digits).")
@click.option("--as-of", type=DATE, default=None, help="Last date counted (default: today).")
@json_option
@handle_errors
def attendance_measures(laestab: str, as_of: datetime | None, as_json: bool) -> None:
    """Possible sessions, attendance, absence and PA/SA flags per enrolment, from 1 September."""
    data = service.establishment_measures(get_context(), laestab, _day(as_of))
    emit(data, as_json, _measures_text)


def _measures_text(data: dict[str, Any]) -> str:
    t = data["totals"]
    head = (
        f"{data['establishment']['name']} ({data['establishment']['laestab']}), {data['school_year']} to "
        f"{data['as_of']}: {t['enrolments']} enrolments, absence {t['absence_rate']}%, "
        f"persistent {t['persistent_absentees']}, severe {t['severe_absentees']}"
    )
    columns = [
        "upn",
        "surname",
        "forename",
        "possible",
        "attended",
        "authorised",
        "unauthorised",
        "absence_rate",
    ]
    return head + "\n" + table(data["enrolments"], columns)


@attendance.command("report")
@click.option("--establishment", "laestab", required=True, help="LAESTAB (7 digits).")
@click.option("--as-of", type=DATE, default=None, help="Last date counted (default: today).")
@click.option(
    "--threshold", default=10.0, show_default=True, help="Absence rate (%) from which a pupil is listed."
)
@click.option("--role", "roles", multiple=True, help="Show shared flags visible to this role or team.")
@click.option(
    "--output", type=click.Path(path_type=Path, dir_okay=False), default=None, help="FILE.csv or FILE.xlsx"
)
@json_option
@handle_errors
def attendance_report(
    laestab: str, as_of: datetime | None, threshold: float, roles: tuple[str, ...], output: Path | None, as_json: bool
) -> None:  # fmt: skip
    """Pupils with poor attendance at one establishment, worst first (the EWO's report)."""
    report = service.establishment_report(get_context(), laestab, _day(as_of), threshold, set(roles))
    _show(
        report,
        output,
        as_json,
        ["upn", "surname", "forename", "year_group", "possible", "absence_rate", "flags"],
    )


@attendance.command("summary")
@click.option("--as-of", type=DATE, default=None, help="Last date counted (default: today).")
@click.option(
    "--output", type=click.Path(path_type=Path, dir_okay=False), default=None, help="FILE.csv or FILE.xlsx"
)
@json_option
@handle_errors
def attendance_summary(as_of: datetime | None, output: Path | None, as_json: bool) -> None:
    """Absence, persistent and severe absence by establishment, and for the whole LA."""
    report = service.la_summary(get_context(), _day(as_of))
    _show(report, output, as_json, ["laestab", "name", "enrolments", "absence_rate", "persistent_absence_rate",
                                    "severe_absence_rate"])  # fmt: skip


def _show(report: reports.Table, output: Path | None, as_json: bool, columns: list[str]) -> None:
    if output is not None:
        reports.export(report, output)
    text = f"{report.title}\n{table(report.rows, columns)}"
    if output is not None:
        text += f"\nwritten to {output} ({len(report.rows)} rows)"
    emit(report.as_dict(), as_json, text)


@attendance.command("pupil")
@click.argument("upn")
@click.option("--as-of", type=DATE, default=None, help="Last date counted (default: today).")
@json_option
@handle_errors
def attendance_pupil(upn: str, as_of: datetime | None, as_json: bool) -> None:
    """One pupil's enrolments, measures, recent marks and corrections."""
    data = pupils.pupil_attendance(get_context(), upn, _day(as_of))
    emit(data, as_json, _pupil_text)


def _pupil_text(data: dict[str, Any]) -> str:
    lines = [f"{data['name']} ({data['upn']}{', temporary UPN' if data['upn_temporary'] else ''})"]
    for e in data["enrolments"]:
        m = e["measures"] or {}
        lines.append(
            f"  {e['laestab']} {e['establishment']} [{e['registration']}] from {e['start_date']}: "
            f"possible {m.get('possible', 0)}, absence {m.get('absence_rate')}%"
        )
        lines.append(
            "    " + " ".join(f"{d[5:]}:{am or '-'}{pm or '-'}" for d, (am, pm) in e["recent_marks"].items())
        )
    for c in data["corrections"]:
        lines.append(
            f"  corrected {c['date']} {c['session']}: {c['old_code']} -> {c['new_code']} ({c['source']})"
        )
    return "\n".join(lines)


@attendance.command("codes")
@json_option
def attendance_codes(as_json: bool) -> None:
    """The 2024 attendance codes and what each counts as."""
    rows = [{"code": c.code, "meaning": c.meaning, "category": c.category.name.lower(), "possible": c.possible}
            for c in codes.CODES]  # fmt: skip
    emit(rows, as_json, table(rows, ["code", "category", "possible", "meaning"]))


@click.command("demo-data")
@click.option("--pupils", "pupil_count", default=2000, show_default=True, help="How many pupils to generate.")
@click.option("--seed", default=1, show_default=True, help="Same seed, same data.")
@click.option(
    "--as-of", type=DATE, default=None, help="Marks up to this date (default: the last day of term)."
)
@json_option
@handle_errors
def demo_data(pupil_count: int, seed: int, as_of: datetime | None, as_json: bool) -> None:
    """Generate a synthetic LA: establishments, pupils, a school year of marks, planted alert cases."""
    from ..services.demo import generate_demo_data

    result = generate_demo_data(get_context(), pupil_count, seed, as_of.date() if as_of else None,
                                progress=lambda text: click.echo(text, err=True))  # fmt: skip
    emit(result, as_json, _demo_text)


def _demo_text(result: dict[str, Any]) -> str:
    f = result["achieved"]
    lines = [
        f"generated {result['establishments']} establishments, {result['pupils']:,} pupils, "
        f"{result['enrolments']:,} enrolments, marks to {result['as_of']} ({result['seconds']} s)",
        f"achieved: overall absence {f['absence_rate']}% (national ~6.9%), persistent absence "
        f"{f['persistent_absence_rate']}% (~18.7%), severe absence {f['severe_absence_rate']}% (~2%)",
        "planted cases:",
    ]
    lines += [f"  {c['case']}: {c['upn']} at {c['laestab']}" for c in result["cases"]]
    return "\n".join(lines)
