"""`educase alerts evaluate|simulate|list|show|rules|ack|action|close|inbox|recipients`."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import click

from ..models.alerts import AlertState
from ..services import alert_inbox, alert_rules
from ..services import alerts as service
from .common import emit, get_context, handle_errors, json_option, table

DATE = click.DateTime(formats=["%Y-%m-%d"])


def _day(value: datetime | None) -> date:
    return value.date() if value else date.today()


@click.group()
def alerts() -> None:
    """Alert rules and the alerts they raise."""


@alerts.command("evaluate")
@click.option("--as-of", type=DATE, default=None, help="Evaluate as of this date (default: today).")
@click.option("--as", "actor", default=None, help="Who is running it (kept with the evaluation).")
@json_option
@handle_errors
def alerts_evaluate(as_of: datetime | None, actor: str | None, as_json: bool) -> None:
    """Run every enabled rule: raise new alerts, update continuing ones, notify the teams."""
    result = service.evaluate(get_context(), _day(as_of), trigger="cli", actor=actor)
    emit(result, as_json, _evaluate_text)


def _evaluate_text(result: dict[str, Any]) -> str:
    if "skipped" in result:
        return result["skipped"]
    rows = [{"rule": rule_id, **counts} for rule_id, counts in result["rules"].items()]
    s = result["seconds"]
    return (
        f"evaluated as of {result['as_of']}: {result['raised']} raised, {result['updated']} updated "
        f"({s['total']} s; reading marks {s['read_marks']} s)\n"
        + table(rows, ["rule", "found", "raised", "updated", "closed_not_reraised", "ended"])
        + f"\nprocesses started {result['processes']['started']}, failed {result['processes']['failed']}; "
        f"e-mails sent {result['email']['sent']}"
        + ("" if result["email"]["configured"] else " (SMTP not configured)")
    )


@alerts.command("simulate")
@click.argument("rule_file", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option("--from", "first", type=DATE, required=True, help="First evaluation date.")
@click.option("--to", "last", type=DATE, required=True, help="Last evaluation date.")
@json_option
@handle_errors
def alerts_simulate(rule_file: Path, first: datetime, last: datetime, as_json: bool) -> None:
    """How many alerts the rule in RULE_FILE would have raised from --from to --to. Writes nothing."""
    data = alert_rules.read_rule_file(rule_file)
    result = service.simulate(get_context(), data, first.date(), last.date())
    emit(result, as_json, _simulate_text)


def _simulate_text(result: dict[str, Any]) -> str:
    lines = [
        f"rule {result['rule']['id']} from {result['from']} to {result['to']}: {result['alerts']} alert(s) "
        f"for {result['enrolments']} enrolment(s); nothing was written",
    ]
    if "stored_version" in result:
        stored = result["stored_version"]
        lines.append(f"  the stored version {stored['version']} would have raised {stored['alerts']}")
    lines += [f"  {month}: {n}" for month, n in result["by_month_first_raised"].items()]
    lines += [f"  e.g. {e['upn']}: {e['summary']}" for e in result["examples"][:5]]
    return "\n".join(lines)


@alerts.command("list")
@click.option("--team", default=None)
@click.option("--state", type=click.Choice(AlertState.ALL), default=None)
@click.option("--rule", "rule_id", default=None)
@click.option("--upn", default=None)
@click.option("--limit", default=50, show_default=True)
@click.option("--offset", default=0)
@json_option
@handle_errors
def alerts_list(team: str | None, state: str | None, rule_id: str | None, upn: str | None, limit: int,
                offset: int, as_json: bool) -> None:  # fmt: skip
    """Alerts, newest first."""
    result = alert_inbox.list_alerts(get_context(), team=team, state=state, rule_id=rule_id, upn=upn,
                                     limit=limit, offset=offset)  # fmt: skip
    text = f"{result['total']} alert(s)\n" + table(
        result["alerts"], ["id", "rule_id", "state", "upn", "laestab", "last_seen", "summary"]
    )
    emit(result, as_json, text)


@alerts.command("show")
@click.argument("alert_id", type=int)
@json_option
@handle_errors
def alerts_show(alert_id: int, as_json: bool) -> None:
    """One alert: its facts (the marks or records behind it) and its history."""
    item = alert_inbox.show_alert(get_context(), alert_id)
    emit(item, as_json, _show_text)


def _show_text(item: dict[str, Any]) -> str:
    lines = [f"alert {item['id']} [{item['state']}] {item['rule_name']} (v{item['rule_version']}), team {item['team']}",
             f"  {item['upn']} {item['pupil']} at {item['establishment']} ({item['laestab']})",
             f"  {item['summary']}",
             f"  first seen {item['first_seen']}, last seen {item['last_seen']}, ongoing {item['condition']['ongoing']}"]  # fmt: skip
    lines += [f"  {h['at']} {h['action']} by {h['actor'] or 'EduCase'}" + (f": {h['reason']}" if h["reason"] else "")
              for h in item["history"]]  # fmt: skip
    return "\n".join(lines)


def _state_command(name: str, to_state: str, reason_required: bool, help_text: str) -> click.Command:
    @alerts.command(name, help=help_text)
    @click.argument("alert_id", type=int)
    @click.option("--reason", required=reason_required, default=None, help="Why (kept in the history).")
    @click.option("--as", "actor", required=True, help="Who is doing it.")
    @json_option
    @handle_errors
    def command(alert_id: int, reason: str | None, actor: str, as_json: bool) -> None:
        item = alert_inbox.change_state(get_context(), alert_id, to_state, actor=actor, reason=reason)
        emit(item, as_json, f"alert {alert_id} is now {item['state']}")

    return command


_state_command("ack", AlertState.ACKNOWLEDGED, False, "Acknowledge an alert (someone is looking at it).")
_state_command("action", AlertState.ACTIONED, True, "Record that an alert was acted on, with what was done.")
_state_command("close", AlertState.CLOSED, True, "Close an alert, with the reason.")


@alerts.command("inbox")
@click.argument("team")
@click.option("--all", "show_all", is_flag=True, help="Read notifications too.")
@json_option
@handle_errors
def alerts_inbox(team: str, show_all: bool, as_json: bool) -> None:
    """A team's alert notifications (what the app's team inbox shows)."""
    items = alert_inbox.team_inbox(get_context(), team, unread_only=not show_all)
    emit(items, as_json, table(items, ["id", "alert_id", "rule_id", "state", "created_at", "summary"]))


@alerts.command("recipients")
@click.argument("team")
@click.option("--add", multiple=True, help="An e-mail address to add.")
@click.option("--remove", multiple=True, help="An e-mail address to remove.")
@json_option
@handle_errors
def alerts_recipients(team: str, add: tuple[str, ...], remove: tuple[str, ...], as_json: bool) -> None:
    """The e-mail addresses that receive TEAM's new alerts (sent when EDUCASE_SMTP_HOST is set)."""
    emails = alert_inbox.set_recipients(get_context(), team, list(add), list(remove))
    emit({"team": team, "recipients": emails}, as_json, "\n".join(emails) or "(none)")


@alerts.group("rules", invoke_without_command=True)
@json_option
@click.pass_context
@handle_errors
def alerts_rules(click_ctx: click.Context, as_json: bool) -> None:
    """The rules (list them; or show, set, enable, disable, load-defaults)."""
    if click_ctx.invoked_subcommand is None:
        rules = alert_rules.list_rules(get_context())
        rows = [{**r, "team": r["action"]["team"]} for r in rules]
        emit(rules, as_json, table(rows, ["id", "version", "enabled", "kind", "team", "name"]))


@alerts_rules.command("show")
@click.argument("rule_id")
@click.option("--version", type=int, default=None)
@handle_errors
def rules_show(rule_id: str, version: int | None) -> None:
    """A rule in its JSON format (edit it, then `educase alerts rules set FILE`)."""
    emit(alert_rules.get_rule(get_context(), rule_id, version), True)


@alerts_rules.command("set")
@click.argument("rule_file", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option("--as", "actor", default=None)
@json_option
@handle_errors
def rules_set(rule_file: Path, actor: str | None, as_json: bool) -> None:
    """Create or change a rule from RULE_FILE (a changed rule gets a new version)."""
    result = alert_rules.save_rule(get_context(), alert_rules.read_rule_file(rule_file), actor)
    emit(
        result,
        as_json,
        f"rule {result['rule']['id']} {result['result']} (version {result['rule']['version']})",
    )


def _toggle(name: str, enabled: bool) -> None:
    @alerts_rules.command(name, help=f"{name.capitalize()} a rule.")
    @click.argument("rule_id")
    @click.option("--as", "actor", default=None)
    @json_option
    @handle_errors
    def command(rule_id: str, actor: str | None, as_json: bool) -> None:
        rule = alert_rules.set_enabled(get_context(), rule_id, enabled, actor)
        emit(rule, as_json, f"rule {rule_id} {'enabled' if enabled else 'disabled'}")


_toggle("enable", True)
_toggle("disable", False)


@alerts_rules.command("load-defaults")
@json_option
@handle_errors
def rules_load_defaults(as_json: bool) -> None:
    """Add the shipped default rules that are missing (never overwrites a changed rule)."""
    added = alert_rules.load_defaults(get_context())
    emit({"added": added}, as_json, f"added {len(added)} rule(s): {', '.join(added) or '-'}")
