"""dashboard indexes: the managers' dashboard counts from index entries alone

EXPLAIN on the web benchmark's full-size database (100,000 cases, 1,000,000 task rows, 74,000 alerts)
showed each of these figures reading every row of its table; with the indexes each is an index-only
range or scan (SQLite, dashboard queries in one process: 2.5 s before, 0.2 s after):

* open cases by process and stage: human_task (state, process_id, task_spec_id, instance_id);
* open tasks overdue or due soon, by team: human_task (state, due_at, id), so the join to
  human_task_team needs no row of human_task;
* cases by state without an open task, and completed per week: process_instance (state, process_id,
  ended_at), which never reads the rows and their serialised states;
* open alerts by rule and establishment, raised per week, closed per week: alert (rule_id,
  establishment_id, state), (created_at, rule_id), (state, state_changed_at, rule_id).

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

INDEXES = [
    ("ix_human_task_open_stage", "human_task", ["state", "process_id", "task_spec_id", "instance_id"]),
    ("ix_human_task_state_due_id", "human_task", ["state", "due_at", "id"]),
    ("ix_process_instance_state_process_ended", "process_instance", ["state", "process_id", "ended_at"]),
    ("ix_alert_rule_establishment_state", "alert", ["rule_id", "establishment_id", "state"]),
    ("ix_alert_created_rule", "alert", ["created_at", "rule_id"]),
    ("ix_alert_state_changed_rule", "alert", ["state", "state_changed_at", "rule_id"]),
]


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
