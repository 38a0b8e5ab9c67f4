"""The real ``educase`` console script, run as a subprocess on a fresh SQLite file.

Commands run on the real clock. The example term dates cover 2025/26 only, so the walk-through also
loads a term that runs from September 2026 to two years from now: a 15-school-day review deadline can
then be worked out whatever today is, and the escalation is shown by firing timers at its due time.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from engine.calendar import SchoolCalendar
from engine.workflow.deadlines import deadline_instant, uk_today
from tests.conftest import FIXTURES, TERM_DATES

pytestmark = pytest.mark.slow  # each command starts a Python process

REPO = Path(__file__).parents[2]
EDUCASE = Path(sys.executable).parent / "educase"
REVIEW_CASE = "tests/fixtures/bpmn/review_case.bpmn"
MESSAGE_START = "tests/fixtures/bpmn/message_start.bpmn"


class Cli:
    """Runs ``educase`` against one database, from the repository root (relative paths work)."""

    def __init__(self, database: Path) -> None:
        self.database = database
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("EDUCASE_")}
        self.env.update(
            EDUCASE_DATABASE_URL=f"sqlite:///{database}",
            EDUCASE_INSTANCE_PATH=str(database.parent),
            EDUCASE_FORM_LIBRARY_PATH=str(FIXTURES / "forms"),
        )

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(EDUCASE), *args], cwd=REPO, env=self.env, capture_output=True, text=True, timeout=120
        )

    def ok(self, *args: str) -> str:
        """Run a command that must succeed; its standard output."""
        done = self.run(*args)
        assert done.returncode == 0, f"educase {' '.join(args)} failed: {done.stderr}"
        assert done.stderr == ""
        return done.stdout

    def json(self, *args: str) -> Any:
        return json.loads(self.ok(*args, "--json"))

    def fails(self, *args: str) -> str:
        """Run a command that must fail with exactly one line on stderr; that line."""
        done = self.run(*args)
        assert done.returncode != 0, f"educase {' '.join(args)} succeeded: {done.stdout}"
        lines = done.stderr.splitlines()
        assert len(lines) == 1, f"expected one line on stderr, got {len(lines)}:\n{done.stderr}"
        return lines[0]


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path / "educase.sqlite")


@pytest.fixture(scope="module")
def upgraded_cli(tmp_path_factory: pytest.TempPathFactory) -> Cli:
    """One migrated database, with review_case deployed, shared by the error tests (which change nothing)."""
    cli = Cli(tmp_path_factory.mktemp("cli") / "educase.sqlite")
    cli.ok("db", "upgrade")
    cli.ok("calendar", "load", str(TERM_DATES))
    cli.ok("process", "deploy", REVIEW_CASE)
    return cli


def terms_reaching_past_today(folder: Path) -> tuple[Path, SchoolCalendar]:
    """The example terms plus one from September 2026 to two years from now."""
    data = json.loads(TERM_DATES.read_text())
    data["terms"].append({"start": "2026-09-02", "end": (date.today() + timedelta(days=730)).isoformat()})
    path = folder / "term-dates-with-next-year.json"
    path.write_text(json.dumps(data))
    return path, SchoolCalendar.from_dict(data)


def review_deadlines(calendar: SchoolCalendar, *days: date) -> set[str]:
    """When the review timer of an instance started on any of ``days`` falls due (ISO, UTC)."""
    return {deadline_instant(calendar.add_school_days(day, 15)).isoformat() for day in days}


def today_in_england() -> date:
    return uk_today(datetime.now(UTC))


# --- the walk-through ---------------------------------------------------------------------------------


def test_walk_through_from_empty_database_to_a_closed_case(cli, tmp_path):
    assert cli.ok("db", "upgrade").startswith("database at revision ")
    loaded = cli.ok("calendar", "load", "engine/data/term-dates-example-2025-26.json")
    assert loaded == "loaded 6 term(s) and 2 closure(s) for the LA\n"
    next_year, calendar = terms_reaching_past_today(tmp_path)
    assert cli.ok("calendar", "load", str(next_year)) == "loaded 7 term(s) and 2 closure(s) for the LA\n"

    validated = cli.ok("process", "validate", REVIEW_CASE, MESSAGE_START)
    assert validated.splitlines() == [
        f"review_case  Review a case  [executable]  {REVIEW_CASE}",
        f"school_referral_intake  School referral intake  [executable]  {MESSAGE_START}",
    ]
    deployed = cli.ok("process", "deploy", REVIEW_CASE, MESSAGE_START, "--as", "admin")
    assert deployed.splitlines()[2:] == [
        "deployed review_case version 1 (new)",
        "deployed school_referral_intake version 1 (new)",
    ]
    listed = cli.json("process", "list")
    assert [
        (p["process_id"], p["latest_version"], p["deployed_by"], p["start_messages"]) for p in listed
    ] == [
        ("review_case", 1, "admin", []),
        ("school_referral_intake", 1, "admin", ["school_referral"]),
    ]

    before = today_in_england()
    started = cli.json(
        "instance", "start", "review_case", "--data", '{"sessions_missed": 6}', "--key", "B801200005001"
    )
    due = review_deadlines(calendar, before, today_in_england())
    assert (started["id"], started["state"], started["business_key"]) == (
        1,
        "user_input_required",
        "B801200005001",
    )
    [review] = started["tasks"]
    assert (review["task_id"], review["teams"]) == ("review", ["attendance"])
    assert review["due_at"] in due  # 15 school days after today, whichever side of midnight it ran
    assert [(t["task_id"], t["state"], t["due_at"]) for t in started["timers"]] == [
        ("review_overdue", "waiting", review["due_at"])
    ]

    inbox = cli.json("task", "list", "--team", "attendance")
    assert [(t["id"], t["instance_id"], t["name"]) for t in inbox] == [(review["id"], 1, "Review the case")]
    review_data = '{"outcome": "escalate", "reviewed_on": "2026-12-01", "notice_ref": "PN-CLI-1"}'
    completed = cli.ok("task", "complete", review["id"], "--data", review_data, "--as", "ewo1")
    assert completed == "completed 'Review the case'; instance 1 is now user_input_required\n"
    [approve] = cli.json("task", "list", "--team", "managers")
    assert approve["name"] == "Approve the outcome"
    assert cli.ok("task", "complete", approve["id"], "--as", "manager1").endswith(
        "instance 1 is now waiting\n"
    )

    shown = cli.json("instance", "show", "1")
    assert shown["state"] == "waiting"
    assert shown["messages"] == [
        {
            "task_id": "wait_paid",
            "message": "penalty_paid",
            "correlation": {"notice_ref": "PN-CLI-1"},
            "state": "waiting",
        }
    ]
    assert [(e["kind"], e["actor"]) for e in shown["events"]] == [
        ("started", None),
        ("task_completed", "ewo1"),
        ("task_completed", "manager1"),
    ]

    # A second case nobody reviews: firing timers at its deadline escalates it.
    other = cli.json(
        "instance", "start", "review_case", "--data", '{"sessions_missed": 9}', "--key", "B801200005002"
    )
    deadline = other["timers"][0]["due_at"]
    fired = cli.json("timers", "run-due", "--now", deadline)
    assert fired["fired"] == [
        {"instance": 2, "timer": "review_overdue", "name": "15 school days passed", "due_at": deadline}
    ]
    assert fired["instances"] == [2]
    escalated = cli.json("instance", "show", "2")
    assert (escalated["state"], escalated["tasks"][0]["state"]) == ("complete", "cancelled")

    sent = cli.ok(
        "message",
        "send",
        "penalty_paid",
        "--correlation",
        '{"notice_ref": "PN-CLI-1"}',
        "--payload",
        '{"amount": 80}',
        "--as",
        "finance",
    )
    assert sent == "message 1 delivered to [1]; started none\n"
    assert cli.json("instance", "show", "1")["state"] == "complete"
    assert cli.json("process", "list")[0]["open_instances"] == 0

    assert cli.ok("calendar", "add-school-days", "2026-03-02", "15") == "2026-03-23\n"


# --- errors: a non-zero exit and one line on stderr -----------------------------------------------------

ERRORS = {
    # name: (arguments, how the one line on stderr starts)
    "unknown task": (
        ("task", "complete", "no-such-task", "--data", "{}"),
        "error: There is no task no-such-task.",
    ),
    "unknown instance": (("instance", "show", "999"), "error: There is no process instance 999."),
    "invalid JSON in --data": (
        ("instance", "start", "review_case", "--data", "{sessions_missed: 6}"),
        "error: --data is not valid JSON",
    ),
    "invalid --now": (("timers", "run-due", "--now", "yesterday"), "error: --now must be an ISO 8601 time"),
    "validation failure": (
        ("process", "deploy", "tests/fixtures/bpmn/cron_timer.bpmn"),
        "error: tests/fixtures/bpmn/cron_timer.bpmn:11 [Event_WeekdayMorning]: the timer on intermediate "
        "catch event 'Weekday morning' cannot run: '0 9 * * 1-5' is a cron expression",
    ),
    "undelivered message": (
        ("message", "send", "penalty_paid", "--correlation", '{"notice_ref": "PN-404"}'),
        "error: No process instance is waiting for message 'penalty_paid' with correlation {'notice_ref': 'PN-404'}",
    ),
}


@pytest.fixture(scope="module")
def error_runs(upgraded_cli: Cli) -> dict[str, subprocess.CompletedProcess[str]]:
    """Every command of ERRORS, run at the same time (each one spends seconds starting Python)."""
    with ThreadPoolExecutor(max_workers=len(ERRORS)) as pool:
        running = {name: pool.submit(upgraded_cli.run, *args) for name, (args, _) in ERRORS.items()}
        return {name: future.result() for name, future in running.items()}


@pytest.mark.parametrize("case", list(ERRORS))
def test_error_is_one_line_on_stderr_with_a_non_zero_exit(error_runs, case):
    done = error_runs[case]
    expected_start = ERRORS[case][1]

    assert done.returncode != 0
    assert done.stdout == ""
    assert len(done.stderr.splitlines()) == 1, done.stderr
    assert done.stderr.startswith(expected_start)


def test_commands_before_db_upgrade_say_to_run_it(cli):
    line = cli.fails("task", "list")
    assert line == f"error: There is no database at {cli.database} yet: run `educase db upgrade` first."
    assert not cli.database.exists()


def test_error_with_json_flag_prints_the_error_object(upgraded_cli):
    done = upgraded_cli.run("instance", "show", "999", "--json")
    assert done.returncode == 1
    assert json.loads(done.stdout) == {
        "error": {"code": "not_found", "message": "There is no process instance 999."}
    }
    assert done.stderr == "error: There is no process instance 999.\n"
