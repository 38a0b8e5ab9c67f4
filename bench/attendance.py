"""Attendance benchmark: demo data, one day's feed, reports, a bare read of every mark, alert rules.

    python bench/attendance.py                       # 20,000 pupils, SQLite then PostgreSQL
    python bench/attendance.py --pupils 250000       # full LA scale (targets: feed < 15 s, report < 300 ms,
                                                     # all default alert rules < 30 s and < 2 GB)
    python bench/attendance.py --postgres ''         # SQLite only

Prints figures; asserts nothing. Steps, on a fresh database each: generate the LA with marks up to the
day before the last day of term; import that last day's feed (two marks per enrolment plus about 1 %
corrections of earlier N marks) as the simple CSV; import it again (--force: nothing changes); the
largest establishment's measures and EWO report; the LA summary; a bare read of all marks into one
numpy matrix (the baseline alert rules are compared with) and one vectorised scan over it; then every
default alert rule, evaluated as of the day before the feed (the first night: every alert is new) and
as of the feed day (the next night: continuing alerts are updated), each in a process of its own so
that its peak memory is its own, with the ratio of its time to the bare read; memory.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import func, select, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.attendance.codes import BY_CODE, membership_table
from engine.attendance.layout import offset_of, school_year_of, session_at
from engine.attendance.store import load_matrix
from engine.config import load_settings
from engine.context import Context, create_context
from engine.db import Database
from engine.migrate import upgrade
from engine.models.attendance import AttendanceYear
from engine.models.people import Enrolment, Establishment, Pupil
from engine.services import attendance
from engine.services.calendars import load_calendar
from engine.services.demo import EXAMPLE_TERM_DATES, generate_demo_data

LAST_DAY = date(2026, 7, 22)
FEED_DAY = LAST_DAY
AS_OF = date(2026, 7, 21)


def timed(action: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    result = action()
    return result, time.perf_counter() - started


def make_context(url: str) -> Context:
    db = Database(url)
    if db.is_postgres:
        with db.engine.begin() as c:
            c.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            c.execute(text("CREATE SCHEMA public"))
    upgrade(db)
    ctx = create_context(load_settings(database_url=url), database=db)
    with ctx.db.transaction() as session:
        load_calendar(session, EXAMPLE_TERM_DATES)
    return ctx


def write_feed(ctx: Context, path: Path, seed: int) -> int:
    """The last day's marks for every enrolment on roll, plus ~1 % of earlier N marks corrected to I."""
    rng = np.random.default_rng(seed)
    feed_offset, n_byte = offset_of(FEED_DAY, 0), bytes([BY_CODE["N"].byte])
    with ctx.db.transaction() as session:
        rows = session.execute(
            select(Pupil.upn, Establishment.laestab, AttendanceYear.marks)
            .join(Enrolment, Enrolment.id == AttendanceYear.enrolment_id)
            .join(Pupil, Pupil.id == Enrolment.pupil_id)
            .join(Establishment, Establishment.id == AttendanceYear.establishment_id)
            .where(AttendanceYear.school_year == school_year_of(FEED_DAY), Enrolment.end_date.is_(None))
            .order_by(AttendanceYear.enrolment_id)  # the same feed on every database
        ).all()
    count = 0
    with path.open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["upn", "laestab", "date", "session", "code"])
        absent = rng.random(len(rows)) < 0.07
        for (upn, laestab, marks), away in zip(rows, absent, strict=True):
            am, pm = ("I", "I") if away else ("/", "\\")
            out.writerow([upn, laestab, FEED_DAY.isoformat(), "AM", am])
            out.writerow([upn, laestab, FEED_DAY.isoformat(), "PM", pm])
            count += 2
            last_n = marks.rfind(n_byte, 0, feed_offset)
            if last_n >= 0 and rng.random() < 0.3:  # the reason for an earlier N arrives: illness
                day, session = session_at(school_year_of(FEED_DAY), last_n)
                out.writerow([upn, laestab, day.isoformat(), session, "I"])
                count += 1
    return count


def largest_establishment(ctx: Context) -> tuple[str, int]:
    with ctx.db.transaction() as session:
        row = session.execute(
            select(Establishment.laestab, func.count())
            .join(AttendanceYear, AttendanceYear.establishment_id == Establishment.id)
            .group_by(Establishment.laestab)
            .order_by(func.count().desc())
        ).first()
    assert row is not None
    return row[0], row[1]


def median_ms(action: Callable[[], Any], runs: int = 7) -> float:
    action()  # warm up
    return statistics.median(timed(action)[1] for _ in range(runs)) * 1000


def bare_read(ctx: Context) -> float:
    """Read every mark of the year into one matrix; returns the seconds it took."""
    with ctx.db.transaction() as session:
        matrix, read_seconds = timed(lambda: load_matrix(session, school_year_of(AS_OF)))
    mb = matrix.marks.nbytes / 1e6
    print(f"  bare read of all marks: {len(matrix):,} enrolment-years, {mb:,.0f} MB in {read_seconds:.2f} s "
          f"({mb / read_seconds:,.0f} MB/s)")  # fmt: skip
    lookup = np.frombuffer(membership_table(["G", "N", "O", "U"]), dtype=np.uint8)
    counts, seconds = timed(lambda: lookup[matrix.marks].sum(axis=1, dtype=np.int32))
    print(f"  vectorised scan (G/N/O/U sessions per enrolment, numpy): {seconds * 1000:,.0f} ms; "
          f"{int((counts >= 10).sum()):,} enrolments with 10 or more")  # fmt: skip
    return read_seconds


def evaluate_in_child(url: str, as_of: date) -> dict[str, Any]:
    """Evaluate every enabled rule in a fresh process; its summary, wall time and peak memory."""
    done = subprocess.run(
        [sys.executable, __file__, "--child-evaluate", url, as_of.isoformat()],
        capture_output=True, text=True, check=False, env={**os.environ, "EDUCASE_SMTP_HOST": ""},
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"alert evaluation failed:\n{done.stderr}")
    return json.loads(done.stdout.splitlines()[-1])


def child_evaluate(url: str, as_of: str) -> None:
    """(In the child process.) Print the evaluation's summary as one JSON line."""
    from engine.services.alerts import evaluate

    ctx = create_context(load_settings(database_url=url))
    result, seconds = timed(lambda: evaluate(ctx, date.fromisoformat(as_of), trigger="bench"))
    print(json.dumps({"seconds": seconds, "peak_mb": own_peak_mb(), "result": result}))


def own_peak_mb() -> float:
    """Peak RSS of this process alone. Linux carries ``ru_maxrss`` over from the parent through fork
    and exec, so read the high-water mark of this program's own memory (``VmHWM``) instead."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def alert_rules(url: str, bare_seconds: float) -> None:
    for label, as_of in (("first night", AS_OF), ("next night", FEED_DAY)):
        child = evaluate_in_child(url, as_of)
        result, s = child["result"], child["result"]["seconds"]
        rules = result["rules"]
        print(f"  alert rules ({len(rules)} default rules, {label}, as of {as_of}): {child['seconds']:.1f} s "
              f"(finding {s['find']:.1f} s of which reading marks {s['read_marks']:.1f} s; writing alerts "
              f"{s['write']:.1f} s); peak memory {child['peak_mb']:,.0f} MB; ratio to the bare read "
              f"{child['seconds'] / bare_seconds:.1f}x (finding alone {s['find'] / bare_seconds:.1f}x); "
              f"{result['raised']:,} raised, {result['updated']:,} updated")  # fmt: skip
        if label == "first night":
            print("    raised by rule: " + ", ".join(f"{k} {v['raised']:,}" for k, v in rules.items()))


def storage(ctx: Context, url: str, enrolment_years: int) -> str:
    """Size of the mark store (PostgreSQL: the attendance_year table with its indexes)."""
    if ctx.db.is_postgres:
        with ctx.db.engine.connect() as c:
            marks = c.scalar(text("SELECT pg_total_relation_size('attendance_year')"))
            whole = c.scalar(text("SELECT pg_database_size(current_database())"))
        per_row = marks / max(1, enrolment_years)
        return f"attendance_year {marks / 1e6:,.0f} MB ({per_row:,.0f} bytes per enrolment-year), database {whole / 1e6:,.0f} MB"
    raw = ctx.db.engine.raw_connection()  # outside a transaction: the checkpoint needs that
    try:
        raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        marks = raw.driver_connection.execute(  # dbstat: SQLite's per-table page statistics
            "SELECT SUM(pgsize) FROM dbstat WHERE name IN "
            "(SELECT name FROM sqlite_master WHERE tbl_name = 'attendance_year')"
        ).fetchone()[0]
    finally:
        raw.close()
    whole = Path(url.removeprefix("sqlite:///")).stat().st_size
    per_row = (marks or 0) / max(1, enrolment_years)
    return (
        f"attendance_year {(marks or 0) / 1e6:,.0f} MB ({per_row:,.0f} bytes per enrolment-year), "
        f"database file {whole / 1e6:,.0f} MB"
    )


def run(label: str, url: str, args: argparse.Namespace, workdir: Path) -> None:
    print(f"== {label} ==")
    ctx = make_context(url)
    result, seconds = timed(lambda: generate_demo_data(ctx, args.pupils, args.seed, AS_OF))
    f = result["achieved"]
    print(f"  demo data: {result['pupils']:,} pupils, {result['enrolments']:,} enrolments, "
          f"{result['establishments']} establishments in {seconds:.1f} s; absence {f['absence_rate']}%, "
          f"PA {f['persistent_absence_rate']}%, SA {f['severe_absence_rate']}%")  # fmt: skip
    print(
        f"  storage after demo data: {storage(ctx, url, result['enrolments'])}; 732 bytes of marks per enrolment-year"
    )
    feed = workdir / f"feed-{label}.csv"
    marks, seconds = timed(lambda: write_feed(ctx, feed, args.seed))
    print(f"  wrote one day's feed: {marks:,} marks ({feed.stat().st_size / 1e6:.1f} MB) in {seconds:.1f} s")
    report, seconds = timed(lambda: attendance.import_file(ctx, feed, "csv"))
    print(f"  import one day's feed: {report.rows_read:,} rows in {seconds:.2f} s "
          f"({report.rows_read / seconds:,.0f} rows/s); {dict(report.changes)}")  # fmt: skip
    again, seconds = timed(lambda: attendance.import_file(ctx, feed, "csv", force=True))
    print(f"  import the same feed again (--force): {seconds:.2f} s; {dict(again.changes)}")
    laestab, size = largest_establishment(ctx)
    day = FEED_DAY
    print(f"  establishment measures ({laestab}, {size:,} enrolments): "
          f"{median_ms(lambda: attendance.establishment_measures(ctx, laestab, day)):.0f} ms")  # fmt: skip
    print(f"  establishment report (EWO, poor attendance): "
          f"{median_ms(lambda: attendance.establishment_report(ctx, laestab, day)):.0f} ms")  # fmt: skip
    _, seconds = timed(lambda: attendance.la_summary(ctx, day))
    print(f"  LA summary (every enrolment): {seconds:.2f} s")
    bare_seconds = bare_read(ctx)
    ctx.db.dispose()
    alert_rules(url, bare_seconds)


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--child-evaluate":
        child_evaluate(sys.argv[2], sys.argv[3])
        return
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pupils", type=int, default=20_000, help="pupils in the demo LA (default 20,000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test",
                        help="PostgreSQL URL (its public schema is dropped and recreated; '' to skip)")  # fmt: skip
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run("SQLite", f"sqlite:///{tmp}/bench.sqlite", args, Path(tmp))
        if args.postgres:
            run("PostgreSQL", args.postgres, args, Path(tmp))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory (RSS) of this process: {peak:,.0f} MB (alert evaluations: their own processes, above)")


if __name__ == "__main__":
    main()
