"""`educase process|instance|task|timers|message ...`: the workflow engine from the command line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from .. import clock
from ..errors import InvalidInput
from ..services import instances, messages, processes, tasks, timers
from .common import emit, get_context, handle_errors, json_option, parse_json, table

# --- process -----------------------------------------------------------------------------------------


@click.group()
def process() -> None:
    """Validate, deploy and list BPMN processes."""


def _library_text(report: dict[str, Any]) -> str:
    lines = []
    for p in report["processes"]:
        runnable = "executable" if p["executable"] else "NOT executable (read, cannot be started)"
        lines.append(f"{p['process_id']}  {p['name'] or ''}  [{runnable}]  {p['file']}")
    for d in report["deployed"]:
        lines.append(f"deployed {d['process_id']} version {d['version']} ({d['status']})")
    lines += [f"note: {w}" for w in report["warnings"]]
    return "\n".join(lines)


@process.command("validate")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@json_option
@handle_errors
def process_validate(paths: tuple[Path, ...], as_json: bool) -> None:
    """Check BPMN files (schema, timers, scripts, call activities, forms) without deploying."""
    ctx = get_context()
    report = processes.validate_sources(ctx, processes.read_sources(list(paths))).as_dict()
    emit(report, as_json, _library_text)


@process.command("deploy")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--as", "actor", default=None, help="Who is deploying (recorded).")
@json_option
@handle_errors
def process_deploy(paths: tuple[Path, ...], actor: str | None, as_json: bool) -> None:
    """Deploy BPMN files as new versions (identical content is a no-op)."""
    ctx = get_context()
    report = processes.deploy_sources(ctx, processes.read_sources(list(paths)), actor=actor).as_dict()
    emit(report, as_json, _library_text)


@process.command("layout")
@click.argument(
    "paths", nargs=-1, required=True, type=click.Path(path_type=Path, exists=True, dir_okay=False)
)
@handle_errors
def process_layout(paths: tuple[Path, ...]) -> None:
    """Draw (or redraw) the BPMN diagram of each file, in place; semantics are left untouched."""
    from ..workflow.layout import layout_file

    for path in paths:
        layout_file(path)
        click.echo(f"laid out {path}")


@process.command("list")
@json_option
@handle_errors
def process_list(as_json: bool) -> None:
    """List deployed processes with their latest version."""
    rows = processes.list_processes(get_context())
    emit(rows, as_json, lambda r: table(r, ["process_id", "latest_version", "open_instances", "name"]))


# --- instance ----------------------------------------------------------------------------------------


@click.group()
def instance() -> None:
    """Start and manage process instances."""


def _instance_text(view: dict[str, Any]) -> str:
    lines = [
        f"instance {view['id']}: {view['process_id']} v{view['version']}  key={view['business_key'] or '-'}",
        f"state: {view['state']}{' (suspended)' if view['suspended'] else ''}",
    ]
    if view.get("error"):
        lines.append(f"error: {view['error'].get('message')}")
    open_tasks = [t for t in view["tasks"] if t["state"] == "ready"]
    lines += [
        f"task {t['id']}  {t['task_id']}  '{t['name']}'  teams={','.join(t['teams']) or '-'}  "
        f"due={t['due_at'] or '-'}"
        for t in open_tasks
    ]
    lines += [f"timer {t['task_id']} due {t['due_at']}" for t in view["timers"] if t["state"] == "waiting"]
    lines += [
        f"waiting for message {m['message']} {m['correlation']}"
        for m in view["messages"]
        if m["state"] == "waiting"
    ]
    lines += [
        f"{e['at']}  {e['kind']}  {e['task'] or ''}  {e['actor'] or ''}" for e in view.get("events", [])
    ]
    return "\n".join(lines)


@instance.command("start")
@click.argument("process_id")
@click.option("--data", default=None, help="Initial data as a JSON object.")
@click.option("--key", default=None, help="Business key, e.g. the pupil's UPN.")
@click.option("--as", "actor", default=None)
@json_option
@handle_errors
def instance_start(
    process_id: str, data: str | None, key: str | None, actor: str | None, as_json: bool
) -> None:
    """Start the latest version of PROCESS_ID."""
    view = instances.start_instance(
        get_context(), process_id, data=parse_json(data, "--data"), business_key=key, actor=actor
    )
    emit(view.as_dict(), as_json, _instance_text)


@instance.command("show")
@click.argument("instance_id", type=int)
@json_option
@handle_errors
def instance_show(instance_id: int, as_json: bool) -> None:
    """Show an instance: state, open tasks, timers, messages and history."""
    emit(instances.show_instance(get_context(), instance_id).as_dict(), as_json, _instance_text)


def _instance_action(name: str, func: Any, help_text: str, with_reason: bool = True) -> None:
    @instance.command(name, help=help_text)
    @click.argument("instance_id", type=int)
    @click.option("--as", "actor", default=None)
    @click.option("--reason", default="", hidden=not with_reason)
    @json_option
    @handle_errors
    def command(instance_id: int, actor: str | None, reason: str, as_json: bool) -> None:
        kwargs = {"reason": reason} if with_reason else {}
        emit(func(get_context(), instance_id, actor=actor, **kwargs).as_dict(), as_json, _instance_text)


_instance_action("cancel", instances.cancel_instance, "Cancel a running instance.")
_instance_action("suspend", instances.suspend_instance, "Suspend: nothing moves until resumed.")
_instance_action("resume", instances.resume_instance, "Resume a suspended instance.", with_reason=False)


@instance.command("retry")
@click.argument("instance_id", type=int)
@click.option("--data", default=None, help="Corrections to the task's data, as JSON.")
@click.option("--as", "actor", default=None)
@json_option
@handle_errors
def instance_retry(instance_id: int, data: str | None, actor: str | None, as_json: bool) -> None:
    """Retry the task in error, optionally after correcting its data."""
    view = instances.retry_instance(
        get_context(), instance_id, actor=actor, data_changes=parse_json(data, "--data")
    )
    emit(view.as_dict(), as_json, _instance_text)


# --- task --------------------------------------------------------------------------------------------


@click.group()
def task() -> None:
    """List, claim and complete human tasks."""


@task.command("list")
@click.option("--instance", "instance_id", type=int, default=None)
@click.option("--team", default=None)
@click.option("--assignee", default=None)
@click.option("--process", "process_id", default=None)
@click.option("--key", "business_key", default=None)
@click.option("--overdue", is_flag=True)
@click.option("--limit", type=int, default=100, show_default=True)
@json_option
@handle_errors
def task_list(
    instance_id: int | None,
    team: str | None,
    assignee: str | None,
    process_id: str | None,
    business_key: str | None,
    overdue: bool,
    limit: int,
    as_json: bool,
) -> None:
    """List open tasks, soonest due first."""
    query = tasks.TaskQuery(
        instance_id=instance_id,
        team=team,
        assignee=assignee,
        process_id=process_id,
        business_key=business_key,
        overdue=overdue,
        limit=limit,
    )
    rows = tasks.list_tasks(get_context(), query)
    emit(
        rows,
        as_json,
        lambda r: table(r, ["id", "instance_id", "task_id", "name", "teams", "assignee", "due_at"]),
    )


@task.command("complete")
@click.argument("task_id")
@click.option("--data", default="{}", help="The form data, as a JSON object.")
@click.option("--as", "actor", default=None, help="Who completes it (recorded).")
@json_option
@handle_errors
def task_complete(task_id: str, data: str, actor: str | None, as_json: bool) -> None:
    """Complete TASK_ID with form data (validated against the task's form)."""
    result = tasks.complete_task(get_context(), task_id, parse_json(data, "--data"), actor=actor)
    emit(
        result,
        as_json,
        lambda r: f"completed '{r['name']}'; instance {r['instance_id']} is now {r['instance_state']}",
    )


@task.command("claim")
@click.argument("task_id")
@click.option("--as", "actor", required=True)
@json_option
@handle_errors
def task_claim(task_id: str, actor: str, as_json: bool) -> None:
    """Claim TASK_ID for yourself."""
    emit(tasks.claim_task(get_context(), task_id, user=actor), as_json, lambda r: f"claimed '{r['name']}'")


@task.command("unclaim")
@click.argument("task_id")
@click.option("--as", "actor", required=True)
@json_option
@handle_errors
def task_unclaim(task_id: str, actor: str, as_json: bool) -> None:
    """Release a task you hold."""
    emit(tasks.unclaim_task(get_context(), task_id, user=actor), as_json, lambda r: f"released '{r['name']}'")


@task.command("assign")
@click.argument("task_id")
@click.argument("assignee")
@click.option("--as", "actor", required=True)
@json_option
@handle_errors
def task_assign(task_id: str, assignee: str, actor: str, as_json: bool) -> None:
    """Assign TASK_ID to ASSIGNEE."""
    emit(
        tasks.assign_task(get_context(), task_id, assignee=assignee, actor=actor),
        as_json,
        lambda r: f"assigned '{r['name']}' to {r['assignee']}",
    )


# --- timers and messages -----------------------------------------------------------------------------


@click.group("timers")
def timers_group() -> None:
    """Fire due timers."""


@timers_group.command("run-due")
@click.option("--now", default=None, help="Pretend it is this ISO 8601 time (with offset).")
@json_option
@handle_errors
def timers_run_due(now: str | None, as_json: bool) -> None:
    """Fire every timer due now (or at --now)."""
    moment = clock.as_utc(_iso(now)) if now else None
    run = timers.run_due_timers(get_context(), now=moment).as_dict()
    emit(
        run,
        as_json,
        lambda r: (
            f"fired {len(r['fired'])} timer(s) in {len(r['instances'])} instance(s)"
            + "".join(f"\n  instance {f['instance']}: {f['timer']} (due {f['due_at']})" for f in r["fired"])
        ),
    )


def _iso(text: str) -> Any:
    from datetime import UTC, datetime

    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # no offset given: UTC
    except ValueError:
        raise InvalidInput(f"--now must be an ISO 8601 time such as 2026-03-02T09:00:00Z, not {text!r}")


@click.group()
def message() -> None:
    """Send messages to waiting instances."""


@message.command("send")
@click.argument("name")
@click.option("--correlation", default="{}", help='Correlation values, e.g. {"notice_ref": "PN-1"}.')
@click.option("--payload", default=None, help="Message data, as a JSON object.")
@click.option("--as", "actor", default=None)
@json_option
@handle_errors
def message_send(name: str, correlation: str, payload: str | None, actor: str | None, as_json: bool) -> None:
    """Send message NAME; it reaches exactly the instances whose correlation matches."""
    result = messages.send_message(
        get_context(),
        name,
        correlation=parse_json(correlation, "--correlation"),
        payload=parse_json(payload, "--payload"),
        actor=actor,
    ).as_dict()
    emit(
        result,
        as_json,
        lambda r: (
            f"message {r['message_id']} delivered to {r['delivered_to'] or 'none'}"
            f"; started {r['started'] or 'none'}"
        ),
    )
