"""The `educase` console script: a Flask CLI group carrying the engine's commands."""

from __future__ import annotations

import click
from flask.cli import FlaskGroup

from engine.cli import register


def _create_app() -> object:
    from . import create_app

    return create_app()


@click.group(
    cls=FlaskGroup,
    create_app=_create_app,
    add_default_commands=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
def main() -> None:
    """EduCase: workflow and case management for LA education services."""


register(main)
