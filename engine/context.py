"""Everything a service needs, built once per process: settings, database, runner, forms, calendars.

Nothing here runs at import time; :func:`create_context` is called by the CLI, the web app factory,
the scheduler and tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import form_library
import process_library

from .config import Settings, load_settings
from .db import Database
from .documents import DocumentConnector
from .forms import FormLibrary
from .services.calendars import CalendarCache
from .services.versions import VersionCache
from .workflow.live_cache import LiveWorkflowCache
from .workflow.runner import WorkflowRunner
from .workflow.sandbox import SandboxScriptEngine
from .workflow.serializer import WorkflowSerializer


@dataclass
class Context:
    settings: Settings
    db: Database
    runner: WorkflowRunner
    forms: FormLibrary
    calendars: CalendarCache
    versions: VersionCache
    live: LiveWorkflowCache
    process_library_path: Path

    @property
    def serializer(self) -> WorkflowSerializer:
        return self.runner.serializer


def create_context(settings: Settings | None = None, *, database: Database | None = None) -> Context:
    """Wire the engine together for ``settings`` (from the environment by default)."""
    settings = settings or load_settings()
    calendars = CalendarCache()
    connectors = {connector.name: connector for connector in (DocumentConnector(),)}
    script_engine = SandboxScriptEngine(
        helpers=calendars.script_helpers(),
        time_limit_seconds=settings.script_time_limit_seconds,
        connectors=connectors,
    )
    form_dirs = [form_library.PATH]
    if settings.form_library_path is not None:
        form_dirs.append(settings.form_library_path)
    serializer = WorkflowSerializer()
    return Context(
        settings=settings,
        db=database or Database(settings.database_url),
        runner=WorkflowRunner(serializer, script_engine),
        forms=FormLibrary(form_dirs),
        calendars=calendars,
        versions=VersionCache(serializer),
        live=LiveWorkflowCache(settings.live_workflow_cache_size),
        process_library_path=settings.process_library_path or process_library.PATH,
    )
