"""The demo: a database with term dates, the process library, one account per role, a synthetic LA
(establishments, pupils, this school year's marks) and sample cases at different stages.

    python -m engine.demo [--fresh] [--pupils N]      # prepare only (the CLI walk-through)
    python -m webapp.demo [--fresh]                   # prepare, then serve http://127.0.0.1:5000

Uses EDUCASE_DATABASE_URL (``make demo`` points it at instance/demo/educase.sqlite). The sample cases
come from ``process_library/demo_cases.json`` (built from the scenarios by scripts/make_demo_cases.py).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import process_library

from . import clock, migrate
from .config import load_settings
from .context import Context, create_context
from .db import Database
from .demo_casework import add_casework
from .demo_rebind import Rebinder
from .errors import EduCaseError
from .services import calendars, episode_templates, instances, processes, tasks, users
from .services.demo import generate_demo_data
from .workflow.deadlines import uk_today

TERM_DATES = Path(__file__).parent / "data" / "term-dates-example-2025-27.json"
DEMO_PASSWORD = "educase-demo-2026"
SCENARIO_SCHOOL = "8012000"  # the scenarios' Riverside Academy: the demo school user's school


def main() -> None:
    args = parse_args()
    ctx = prepare(fresh=args.fresh, pupils=args.pupils)
    print(walkthrough(ctx.settings.database_url))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fresh", action="store_true", help="start from an empty database")
    parser.add_argument("--pupils", type=int, default=2000, help="pupils in the synthetic LA (default 2000)")
    parser.add_argument("--port", type=int, default=5000)
    return parser.parse_args()


def prepare(*, fresh: bool, pupils: int) -> Context:
    """Make (or reuse) the demo database and return an engine context on it."""
    settings = load_settings()
    created = _reset(settings.database_url, fresh)
    ctx = create_context(settings)
    if created:
        setup(ctx, pupils)
    return ctx


def setup(ctx: Context, pupils: int = 2000) -> list[int]:
    """Everything the demo shows. Returns the ids of the sample cases."""
    with ctx.db.transaction() as session:
        calendars.load_calendar(session, TERM_DATES)
    ctx.calendars.invalidate()
    report = processes.deploy_sources(ctx, processes.read_sources([ctx.process_library_path]), actor="demo")
    print(f"deployed {len(report.deployed)} processes: {', '.join(d.process_id for d in report.deployed)}")
    users.create_demo_accounts(ctx, DEMO_PASSWORD)
    episode_templates.load_default_templates(ctx)
    made = generate_demo_data(ctx, pupils, seed=1, as_of=uk_today(clock.now()))
    print(f"synthetic LA: {made.get('pupils', pupils)} pupils; marks to {uk_today(clock.now())}")
    rebinder = Rebinder(ctx, uk_today(clock.now()), users.DEMO_SCHOOL, SCENARIO_SCHOOL)
    case_ids = [case_id for case in _cases() if (case_id := _start_case(ctx, rebinder.case(case))) is not None]
    casework = add_casework(ctx, uk_today(clock.now()))
    print(f"alerts raised today: {casework['alerts']}; episodes: {casework['episodes']} "
          f"with {casework['work_items']} pieces of work")
    ctx.db.refresh_statistics()  # the planner's statistics for the data just written
    return case_ids


def _cases() -> list[dict[str, Any]]:
    path = Path(process_library.__file__).parent / "demo_cases.json"
    return json.loads(path.read_text()) if path.exists() else []


def _start_case(ctx: Context, case: dict[str, Any]) -> int | None:
    try:
        view = instances.start_instance(ctx, case["process"], data=case.get("data", {}),
                                        business_key=case.get("key"), actor="demo")
    except EduCaseError as error:
        print(f"  (a demo {case['process']} case could not start: {error.message})")
        return None
    for step in case.get("complete", []):
        open_tasks = tasks.list_tasks(ctx, tasks.TaskQuery(instance_id=view.id))
        task = next((t for t in open_tasks if t["task_id"] == step["task"]), None)
        if task is None:
            break
        try:
            tasks.complete_task(ctx, task["id"], step.get("data", {}), actor=step.get("as", "demo"),
                                override_assignee=True)
        except EduCaseError:
            break  # the case stays at this step: realistic enough for a demo
    return view.id


def _reset(url: str, fresh: bool) -> bool:
    """Migrate the database; True when it is new (so it needs the demo data)."""
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        if fresh:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        new = not path.exists()
    else:
        new = fresh
    database = Database(url)
    migrate.upgrade(database)
    database.dispose()
    return new


def accounts_table() -> str:
    rows = [f"  {name:<10} {role:<14} {title}" for name, _, role, _, title, _ in users.demo_account_rows()]
    return "\n".join(["  USERNAME   ROLE           JOB", *rows, f"  (every demo account's password: {DEMO_PASSWORD})"])


def walkthrough(url: str) -> str:
    return f"""
The demo database is ready ({url}).
Demo accounts:
{accounts_table()}

From the command line (with EDUCASE_DATABASE_URL={url}):
  educase process list
  educase task list --team attendance
  educase task claim TASK_ID --as ewo
  educase task complete TASK_ID --as ewo --data '{{...}}'     # the form's fields; errors say which
  educase instance show INSTANCE_ID
  educase timers run-due                                      # the scheduler does this every few seconds
  educase attendance report --establishment {users.DEMO_SCHOOL}
  educase calendar add-school-days 2026-12-07 15
"""


if __name__ == "__main__":
    main()
