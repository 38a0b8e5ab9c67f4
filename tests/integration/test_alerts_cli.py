"""`educase alerts ...` as a person runs it: evaluate, list, show, simulate, the lifecycle, rules; JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.test_cli import Cli

pytestmark = pytest.mark.slow  # each command starts a Python process


@pytest.fixture(scope="module")
def demo_cli(tmp_path_factory: pytest.TempPathFactory) -> Cli:
    cli = Cli(tmp_path_factory.mktemp("alerts") / "educase.sqlite")
    cli.ok("db", "upgrade")
    done = cli.run("demo-data", "--pupils", "600", "--seed", "2", "--as-of", "2026-07-22")
    assert done.returncode == 0, done.stderr
    return cli


def test_evaluate_list_show_and_the_lifecycle(demo_cli):
    cli = demo_cli
    result = cli.json("alerts", "evaluate", "--as-of", "2026-07-22")
    assert len(result["rules"]) == 11 and result["raised"] > 0
    assert cli.json("alerts", "evaluate", "--as-of", "2026-07-22")["raised"] == 0  # de-duplicated
    listed = cli.json("alerts", "list", "--rule", "cme-consecutive-unauthorised")
    alert = listed["alerts"][0]
    assert alert["team"] == "cme" and alert["state"] == "open" and alert["upn"]
    shown = cli.json("alerts", "show", str(alert["id"]))
    assert shown["facts"]["marks"] and shown["history"][0]["action"] == "raised"
    assert (
        cli.ok("alerts", "ack", str(alert["id"]), "--as", "cme.officer")
        == f"alert {alert['id']} is now acknowledged\n"
    )
    error = cli.fails("alerts", "close", str(alert["id"]), "--as", "cme.officer", "--reason", " ")
    assert error == "error: an alert is closed with a reason: say what was done or why"
    closed = cli.json(
        "alerts", "close", str(alert["id"]), "--as", "cme.officer", "--reason", "Found at a new school"
    )
    assert closed["state"] == "closed"
    inbox = cli.json("alerts", "inbox", "cme")
    assert inbox and all(item["event"] == "raised" for item in inbox)


def test_rules_and_simulate(demo_cli, tmp_path: Path):
    cli = demo_cli
    rules = cli.json("alerts", "rules")
    assert [r["id"] for r in rules][:3] == ["ap-no-attendance", "cme-consecutive-unauthorised",
                                            "continuous-unauthorised-10-days"]  # fmt: skip
    rule = json.loads(cli.ok("alerts", "rules", "show", "penalty-threshold"))
    rule["params"]["count"] = 8
    rule_file = tmp_path / "penalty-8.json"
    rule_file.write_text(json.dumps(rule))
    before = cli.json("alerts", "list", "--limit", "1")["total"]
    simulated = cli.json("alerts", "simulate", str(rule_file), "--from", "2026-06-01", "--to", "2026-07-22")
    assert simulated["written"] is False and simulated["alerts"] >= simulated["stored_version"]["alerts"] > 0
    assert cli.json("alerts", "list", "--limit", "1")["total"] == before
    rule["params"]["codes"] = ["H"]
    rule_file.write_text(json.dumps(rule))
    done = cli.run(
        "alerts", "simulate", str(rule_file), "--from", "2026-06-01", "--to", "2026-07-22", "--json"
    )
    assert done.returncode == 1 and json.loads(done.stdout)["error"]["code"] == "invalid_rule"
    assert "params.codes: code 'H' was withdrawn in 2024" in done.stderr
    assert cli.ok("alerts", "rules", "disable", "severe-absence") == "rule severe-absence disabled\n"
    assert "severe-absence" not in cli.json("alerts", "evaluate", "--as-of", "2026-07-22")["rules"]
