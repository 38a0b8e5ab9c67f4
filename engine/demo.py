"""`make demo`: a demo database with the process library, sample cases, and a CLI walk-through.

    python -m engine.demo [--fresh]

Uses EDUCASE_DATABASE_URL (``make demo`` points it at instance/demo/educase.sqlite). The sample cases
come from ``process_library/demo_cases.json``: each names a process, a business key, initial data and
optionally the tasks to complete so the case sits at a later stage.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

import process_library

from . import migrate
from .config import load_settings
from .context import Context, create_context
from .db import Database
from .errors import EduCaseError
from .services import calendars, instances, processes, tasks

TERM_DATES = Path(__file__).parent / "data" / "term-dates-example-2025-26.json"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--fresh", action="store_true", help="start from an empty database")
    args = parser.parse_args()
    settings = load_settings()
    _reset(settings.database_url, args.fresh)
    ctx = create_context(settings)
    setup(ctx)
    _walkthrough(settings.database_url)


def setup(ctx: Context) -> list[int]:
    """Term dates, the whole process library, and the sample cases. Returns the instance ids."""
    with ctx.db.transaction() as session:
        calendars.load_calendar(session, TERM_DATES)
    ctx.calendars.invalidate()
    report = processes.deploy_sources(ctx, processes.read_sources([ctx.process_library_path]), actor="demo")
    for deployed in report.deployed:
        print(f"deployed {deployed.process_id} v{deployed.version} ({deployed.status})")
    return [_start_case(ctx, case) for case in _cases()]


def _cases() -> list[dict[str, Any]]:
    path = Path(process_library.__file__).parent / "demo_cases.json"
    return json.loads(path.read_text()) if path.exists() else []


def _start_case(ctx: Context, case: dict[str, Any]) -> int:
    view = instances.start_instance(
        ctx,
        case["process"],
        data=case.get("data", {}),
        business_key=case.get("key"),
        actor=case.get("by", "demo"),
    )
    for step in case.get("complete", []):
        open_tasks = tasks.list_tasks(ctx, tasks.TaskQuery(instance_id=view.id))
        task = next((t for t in open_tasks if t["task_id"] == step["task"]), None)
        if task is None:
            break
        try:
            tasks.complete_task(ctx, task["id"], step.get("data", {}), actor=step.get("as", "demo"))
        except EduCaseError as error:
            print(f"  (demo case {case['process']} stopped at {step['task']}: {error.message})")
            break
    shown = instances.show_instance(ctx, view.id)
    print(f"case {view.id}: {case['process']} for {case.get('key')} -> {shown.state}")
    return view.id


def _reset(url: str, fresh: bool) -> None:
    if fresh and url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    database = Database(url)
    migrate.upgrade(database)
    database.dispose()


def _walkthrough(url: str) -> None:
    env = f"EDUCASE_DATABASE_URL={url}"
    print(f"""
The demo database is ready. Try, with {env} set (export it, or prefix each command):

  educase process list
  educase task list --team attendance
  educase task claim TASK_ID --as ewo1
  educase task complete TASK_ID --as ewo1 --data '{{...}}'     # the form's fields; errors say which
  educase instance show INSTANCE_ID
  educase timers run-due --now 2026-06-01T09:00:00Z          # fire every timer due by then
  educase message send penalty_paid --correlation '{{"notice_ref": "..."}}' --payload '{{"amount": 80}}'
  educase calendar add-school-days 2026-03-02 15
""")
    os.environ.setdefault("EDUCASE_DATABASE_URL", url)


if __name__ == "__main__":
    main()
