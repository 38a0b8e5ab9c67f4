"""The kinds of alert rule, by family: runs of marks, counts over periods, records."""

from __future__ import annotations

from .base import Chunk, Episode, Frame, KindSpec, Param
from .records import KINDS as _RECORD_KINDS
from .runs import KINDS as _RUN_KINDS
from .windows import KINDS as _WINDOW_KINDS

#: Every kind by name.
KINDS: dict[str, KindSpec] = {k.name: k for k in (*_RUN_KINDS, *_WINDOW_KINDS, *_RECORD_KINDS)}

__all__ = ["KINDS", "Chunk", "Episode", "Frame", "KindSpec", "Param"]
