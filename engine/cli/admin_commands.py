"""`educase db|calendar|scheduler ...`."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from .. import migrate
from ..config import load_settings
from ..db import Database
from ..services import calendars
from .common import emit, get_context, handle_errors, json_option


@click.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@handle_errors
def db_upgrade(revision: str) -> None:
    """Create or migrate the database to the current schema."""
    database = Database(load_settings().database_url)
    try:
        reached = migrate.upgrade(database, revision)
    finally:
        database.dispose()
    click.echo(f"database at revision {reached}")


@click.group()
def calendar() -> None:
    """School calendars: term dates, closures, school-day arithmetic."""


@calendar.command("load")
@click.argument("file", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option("--establishment", default=None, help="LAESTAB: load this establishment's closures only.")
@json_option
@handle_errors
def calendar_load(file: Path, establishment: str | None, as_json: bool) -> None:
    """Load the LA's term dates (or an establishment's closures) from a JSON FILE."""
    ctx = get_context()
    with ctx.db.transaction() as session:
        data = calendars.load_calendar(session, file, establishment)
    emit(
        data,
        as_json,
        f"loaded {len(data['terms'])} term(s) and {len(data['closures'])} closure(s)"
        f" for {establishment or 'the LA'}",
    )


@calendar.command("add-school-days")
@click.argument("start", type=click.DateTime(formats=["%Y-%m-%d"]))
@click.argument("n", type=int)
@click.option("--establishment", default=None)
@json_option
@handle_errors
def calendar_add(start: object, n: int, establishment: str | None, as_json: bool) -> None:
    """Print the date N school days after START (START not counted)."""
    ctx = get_context()
    with ctx.db.transaction() as session:
        ctx.calendars.refresh(session)
    day: date = start.date()  # type: ignore[attr-defined]
    result = ctx.calendars.get(establishment).add_school_days(day, n)
    emit(
        {"start": day.isoformat(), "school_days": n, "date": result.isoformat()}, as_json, result.isoformat()
    )


@click.command("scheduler")
@handle_errors
def scheduler() -> None:
    """Run the timer scheduler in the foreground (production: one or more of these processes)."""
    from ..scheduler import run_forever

    run_forever(get_context())
