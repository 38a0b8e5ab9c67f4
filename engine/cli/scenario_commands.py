"""`educase scenario run FILE...`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..scenario import ScenarioFailed, run_scenario


@click.group()
def scenario() -> None:
    """Prove processes with scenarios (fresh in-memory database per file)."""


@scenario.command("run")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path, exists=True))
@click.option(
    "--library",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="BPMN folder (default: the shipped process library).",
)
@click.option(
    "--forms",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Extra form folder (added to the shipped form library).",
)
@click.option("--verbose", "-v", is_flag=True, help="Print every step.")
def scenario_run(files: tuple[Path, ...], library: Path | None, forms: Path | None, verbose: bool) -> None:
    """Run scenario FILES; stop at the first unmet expectation (exit code 1)."""
    paths = [
        p for f in files for p in (sorted(f.glob("*.y*ml")) + sorted(f.glob("*.json")) if f.is_dir() else [f])
    ]
    for path in paths:
        try:
            result = run_scenario(
                path,
                process_library=library,
                form_library=forms,
                echo=(lambda line: click.echo(f"  {line}")) if verbose else None,
            )
        except ScenarioFailed as failure:
            click.echo(f"FAIL {path}: {failure}", err=True)
            sys.exit(1)
        except Exception as error:  # a broken library or file: still one line
            click.echo(f"FAIL {path}: {type(error).__name__}: {error}".splitlines()[0], err=True)
            sys.exit(1)
        click.echo(f"ok   {path} ({result.process}, {result.steps_run} steps)")
