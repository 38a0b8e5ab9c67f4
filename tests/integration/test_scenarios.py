"""Every shipped scenario passes: each proves a process's path, deadlines and refusals.

Scenarios run on their own fresh in-memory database, whatever EDUCASE_DATABASE_URL says.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from engine.models.workflow import HumanTask, HumanTaskTeam
from engine.scenario import ScenarioFailed, fresh_context, load_scenario, run_scenario

SCENARIOS = sorted((Path(__file__).parents[1] / "scenarios").glob("*/*.y*ml"))


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_scenario(path: Path) -> None:
    ctx = fresh_context(None, None)
    try:
        result = run_scenario(path, ctx=ctx)  # raises ScenarioFailed at the first unmet expectation
        assert result.steps_run == len(load_scenario(path)["steps"])
        assert _team_rows_out_of_step(ctx) == []
    finally:
        ctx.db.dispose()


def _team_rows_out_of_step(ctx) -> list[tuple[str, str]]:
    """The team inbox reads a task's state and due date from its team rows: they must be the task's."""
    with ctx.db.transaction() as session:
        rows = session.execute(
            select(HumanTaskTeam.task_id, HumanTaskTeam.team)
            .join(HumanTask, HumanTask.id == HumanTaskTeam.task_id)
            .where(
                (HumanTask.state != HumanTaskTeam.state)
                | (
                    HumanTask.due_at.is_distinct_from(HumanTaskTeam.due_at)
                    | HumanTask.process_id.is_distinct_from(HumanTaskTeam.process_id)
                )
            )
        )
        return [tuple(r) for r in rows]


def test_every_shipped_process_has_at_least_three_scenarios() -> None:
    import process_library

    processes = sorted(p.stem for p in Path(process_library.__file__).parent.glob("*.bpmn"))
    counts = {p: len(list((Path(__file__).parents[1] / "scenarios" / p).glob("*.y*ml"))) for p in processes}
    assert {p: n for p, n in counts.items() if n < 3} == {}


def test_a_failing_expectation_names_the_step(tmp_path: Path) -> None:
    original = Path(__file__).parents[1] / "scenarios" / "absence_referral" / "02_returned_to_school.yaml"
    scenario = tmp_path / "wrong.yaml"
    scenario.write_text(original.read_text() + "  - expect_state: error\n")
    steps = len(load_scenario(original)["steps"])
    with pytest.raises(
        ScenarioFailed, match=rf"step {steps + 1} \(expect_state error\) failed: the instance is"
    ):
        run_scenario(scenario)
