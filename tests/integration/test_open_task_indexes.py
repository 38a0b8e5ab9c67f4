"""The indexes for open work: partial (open tasks only) on SQLite, whole on PostgreSQL (migration 0013).

On SQLite a completed task leaves these indexes; the inbox, dashboard and due-list queries, which
bind ``state`` as a parameter, still find them (SQLite plans again for the bound value).
"""

from __future__ import annotations

from sqlalchemy import bindparam, func, select, text

from engine.db import Database
from engine.models.workflow import HumanTask, HumanTaskTeam

HT, HTT = HumanTask.__table__, HumanTaskTeam.__table__
OPEN_WORK = {
    "ix_human_task_assignee_open",
    "ix_human_task_open_stage",
    "ix_human_task_state_due_id",
    "ix_human_task_team_open_due",
    "ix_human_task_team_open_process",
}


def index_definitions(database: Database) -> dict[str, str]:
    with database.engine.connect() as connection:
        if database.is_postgres:
            query = "SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN ('human_task', 'human_task_team')"
        else:
            query = "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        return {name: definition for name, definition in connection.execute(text(query))}


def plan(database: Database, statement, state: str) -> str:
    """SQLite's query plan for ``statement`` with ``state`` bound, on a connection that planned it
    for another state first (so a cached statement must be planned again)."""
    with database.engine.connect() as connection:
        compiled = statement.compile(connection)
        sql = "EXPLAIN QUERY PLAN " + compiled.string
        driver = connection.connection.driver_connection
        for value in ("completed", state):
            params = [value if name == "state" else compiled.params[name] for name in compiled.positiontup]
            rows = driver.execute(sql, params).fetchall()
        return " | ".join(row[-1] for row in rows)


def test_sqlite_keeps_open_tasks_only_and_postgresql_every_task(database):
    definitions = index_definitions(database)
    assert set(definitions) >= OPEN_WORK
    for name in OPEN_WORK:
        if database.is_postgres:
            assert " WHERE " not in definitions[name].upper(), definitions[name]
        elif name == "ix_human_task_assignee_open":
            assert definitions[name].endswith("WHERE state = 'ready' AND assignee IS NOT NULL"), definitions[
                name
            ]
        else:
            assert definitions[name].endswith("WHERE state = 'ready'"), definitions[name]
    assert "WHERE" not in definitions["ix_human_task_team_team"].upper()  # any state, by team


def test_sqlite_finds_the_open_task_indexes_for_a_bound_state(database):
    if database.is_postgres:  # the plans below are SQLite's; PostgreSQL's indexes are whole (above)
        assert database.checkpointer is None
        return
    state = bindparam("state")
    team_inbox = (
        select(HTT.c.task_id)
        .where(HTT.c.team == bindparam("team", "ewo"), HTT.c.state == state)
        .order_by(HTT.c.due_at)
        .limit(25)
    )
    mine = (
        select(HT.c.id)
        .where(HT.c.assignee == bindparam("me", "ewo1"), HT.c.state == state)
        .order_by(HT.c.due_at)
    )
    stages = (
        select(HT.c.process_id, HT.c.task_spec_id, func.count())
        .where(HT.c.state == state)
        .group_by(HT.c.process_id, HT.c.task_spec_id)
    )
    due = select(HT.c.id).where(HT.c.state == state).order_by(HT.c.due_at, HT.c.id).limit(25)
    unassigned_of_team = (
        select(func.count())
        .select_from(HT.join(HTT, HTT.c.task_id == HT.c.id))
        .where(HT.c.state == state, HT.c.assignee.is_(None), HTT.c.team == bindparam("team", "ewo"))
        .where(HTT.c.state == bindparam("team_state", "ready"))
    )
    assert "ix_human_task_team_open_due" in plan(database, team_inbox, "ready")
    assert "ix_human_task_assignee_open" in plan(database, mine, "ready")
    # a team's unassigned tasks: through the team's rows, never through every unassigned task
    assert "ix_human_task_assignee_open" not in plan(database, unassigned_of_team, "ready")
    assert "ix_human_task_open_stage" in plan(database, stages, "ready")
    assert "ix_human_task_state_due_id" in plan(database, due, "ready")
    # closed tasks are not in them: such a question is answered another way, not wrongly
    assert "ix_human_task_team_open_due" not in plan(database, team_inbox, "completed")
