"""Deployed process versions, cached: they are immutable, so each is read from the database once."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from ..errors import NotFound
from ..models.workflow import ProcessVersion
from ..workflow.serializer import SpecPair, WorkflowSerializer

_VERSION = ProcessVersion.__table__
_SELECT_INFO = select(
    _VERSION.c.id,
    _VERSION.c.process_id,
    _VERSION.c.version,
    _VERSION.c.name,
    _VERSION.c.task_meta,
    _VERSION.c.start_messages,
    _VERSION.c.start_form_ref,
).where(_VERSION.c.id == bindparam("id"))
_LATEST = (select(_VERSION.c.id).where(_VERSION.c.process_id == bindparam("process_id"))
           .order_by(_VERSION.c.version.desc()).limit(1))
_SELECT_SPEC = select(_VERSION.c.spec).where(_VERSION.c.id == bindparam("id"))


@dataclass(frozen=True)
class VersionInfo:
    id: int
    process_id: str
    version: int
    name: str | None
    task_meta: dict[str, Any]
    start_messages: list[str]
    start_form_ref: str | None = None


class VersionCache:
    """Version facts and restored specs by version id."""

    def __init__(self, serializer: WorkflowSerializer, latest_check_seconds: float = 2.0) -> None:
        self._serializer = serializer
        self._infos: dict[int, VersionInfo] = {}
        self._latest: dict[str, tuple[float, int]] = {}
        self._latest_check = latest_check_seconds
        self._lock = threading.Lock()

    def latest_id(self, session: Session, process_id: str) -> int | None:
        """The newest version of a process, re-read at most every couple of seconds (deploying in
        this process forgets it at once; another process's deploy is seen within the interval)."""
        cached = self._latest.get(process_id)
        if cached is not None and time.monotonic() - cached[0] < self._latest_check:
            return cached[1]
        found = session.connection().execute(_LATEST, {"process_id": process_id}).scalar()
        if found is not None:
            self._latest[process_id] = (time.monotonic(), int(found))
        return found

    def forget_latest(self) -> None:
        self._latest.clear()

    def info(self, session: Session, version_id: int) -> VersionInfo:
        found = self._infos.get(version_id)
        if found is None:
            row = session.connection().execute(_SELECT_INFO, {"id": version_id}).first()
            if row is None:
                raise NotFound(f"There is no process version {version_id}.")
            found = VersionInfo(
                row.id,
                row.process_id,
                row.version,
                row.name,
                row.task_meta,
                list(row.start_messages or []),
                row.start_form_ref,
            )
            with self._lock:
                self._infos[version_id] = found
        return found

    def spec(self, session: Session, version_id: int) -> SpecPair:
        cached = self._serializer.cached_spec(version_id)
        if cached is not None:
            return cached
        dct = session.connection().execute(_SELECT_SPEC, {"id": version_id}).scalar_one()
        return self._serializer.spec_from_dict(version_id, dct)
