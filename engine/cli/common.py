"""Shared CLI plumbing: the engine context, ``--json`` output, and errors as one line on stderr."""

from __future__ import annotations

import functools
import json
import os
import sys
import traceback
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

import click

from ..errors import EduCaseError, InvalidInput

F = TypeVar("F", bound=Callable[..., Any])


def get_context() -> Any:
    """The engine context for this CLI run, created on first use (nothing opens at import)."""
    click_ctx = click.get_current_context()
    root = click_ctx.find_root()
    if not isinstance(root.obj, dict):
        root.obj = {}
    if "engine" not in root.obj:
        from ..context import create_context
        from ..migrate import require_current_schema

        ctx = create_context()
        require_current_schema(ctx.db)
        root.obj["engine"] = ctx
    return root.obj["engine"]


def json_option(func: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")(func)


def parse_json(value: str | None, what: str) -> Any:
    """JSON given inline, or ``@file.json`` to read it from a file (``@-``: standard input)."""
    if value is None:
        return None
    if value.startswith("@"):
        try:
            value = sys.stdin.read() if value == "@-" else Path(value[1:]).read_text(encoding="utf-8")
        except OSError as error:
            raise InvalidInput(f"{what}: cannot read {value[1:]}: {error.strerror}")
    try:
        return json.loads(value)
    except json.JSONDecodeError as error:
        raise InvalidInput(f"{what} is not valid JSON ({error.msg} at column {error.colno}): {value[:80]}")


def emit(data: Any, as_json: bool, text: Callable[[Any], str] | str | None = None) -> None:
    """Print ``data`` as JSON, or as the human text given."""
    if as_json:
        click.echo(json.dumps(data, indent=2, default=_default))
    elif callable(text):
        click.echo(text(data))
    elif text is not None:
        click.echo(text)


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, set | tuple):
        return list(value)
    return str(value)


def handle_errors(func: F) -> F:
    """Turn engine errors into one line on stderr and a non-zero exit; unexpected ones too."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except EduCaseError as error:
            if kwargs.get("as_json"):
                click.echo(json.dumps({"error": error.as_dict()}, indent=2, default=_default))
            click.echo(f"error: {error.message}", err=True)
            sys.exit(1)
        except (click.ClickException, click.exceptions.Exit, SystemExit, KeyboardInterrupt):
            raise
        except Exception as error:  # the last resort: still one line, never a bare traceback
            if os.environ.get("EDUCASE_DEBUG"):
                traceback.print_exc()
            click.echo(f"error: internal error ({type(error).__name__}): {error}".splitlines()[0], err=True)
            sys.exit(2)

    return wrapper  # type: ignore[return-value]


def table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    """A plain fixed-width table for terminal output."""
    if not rows:
        return "(none)"
    cells = [[_cell(r.get(c)) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, list | tuple):
        return ",".join(map(str, value))
    return str(value)
