"""A small cache of live workflows, so consecutive steps of an instance skip deserialisation.

An entry is keyed by instance id and holds the workflow exactly as committed at ``lock_version``.
Whoever opens an instance *takes* its entry (nobody else can reuse an object being changed) and puts
it back only after its transaction commits, with the new lock version. A version mismatch (another
process saved the instance since) is a miss, so the cache can never serve a stale state.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any


class LiveWorkflowCache:
    def __init__(self, size: int = 2000) -> None:
        self._entries: OrderedDict[int, tuple[int, Any, Any]] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def take(self, instance_id: int, lock_version: int) -> tuple[Any, Any] | None:
        """The (workflow, snapshot) committed at ``lock_version``, removed from the cache; else None."""
        with self._lock:
            entry = self._entries.pop(instance_id, None)
        if entry is None or entry[0] != lock_version:
            return None
        return entry[1], entry[2]

    def put(self, instance_id: int, lock_version: int, workflow: Any, snapshot: Any) -> None:
        if self._size <= 0:
            return
        with self._lock:
            self._entries[instance_id] = (lock_version, workflow, snapshot)
            self._entries.move_to_end(instance_id)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
