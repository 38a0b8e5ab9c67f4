"""Click command groups of the engine; `webapp.cli` puts them under the `educase` command."""

from __future__ import annotations

import click

from .admin_commands import calendar, db, scheduler
from .alert_commands import alerts
from .attendance_commands import attendance, demo_data
from .scenario_commands import scenario
from .user_commands import token, user
from .workflow_commands import instance, message, process, task, timers_group

COMMANDS: list[click.Command] = [
    db,
    process,
    instance,
    task,
    timers_group,
    message,
    calendar,
    scheduler,
    scenario,
    attendance,
    demo_data,
    alerts,
    user,
    token,
]


def register(group: click.Group) -> None:
    for command in COMMANDS:
        group.add_command(command)
