"""Line numbers of JSON objects, found only when an import has something to report.

The standard library's fast (C) JSON decoder gives no positions. When a feed has bad rows we decode
it a second time with the pure-Python scanner, whose object parser we can wrap to note where each
object starts; that is slow, but only runs for files with rejections.
"""

from __future__ import annotations

import json
from bisect import bisect_right
from json.decoder import JSONObject  # type: ignore[attr-defined]
from json.scanner import py_make_scanner
from typing import Any


class _LocatingDecoder(json.JSONDecoder):
    def __init__(self) -> None:
        super().__init__()
        self.starts: dict[int, int] = {}
        self.keep: list[Any] = []  # keeps objects alive so their ids stay unique
        self.parse_object = self._parse_object
        self.scan_once = py_make_scanner(self)

    def _parse_object(self, s_and_end: tuple[str, int], *args: Any) -> tuple[Any, int]:
        value, end = JSONObject(s_and_end, *args)
        self.starts[id(value)] = s_and_end[1] - 1
        self.keep.append(value)
        return value, end


def object_lines(text: str) -> tuple[Any, dict[int, int]]:
    """Decode ``text``; returns the value and the 1-based line on which each object (by ``id``) starts."""
    decoder = _LocatingDecoder()
    value = decoder.decode(text)
    newlines = [i for i, char in enumerate(text) if char == "\n"]
    return value, {key: bisect_right(newlines, start) + 1 for key, start in decoder.starts.items()}


def line_of(path: tuple[int, ...], document: Any, lines: dict[int, int], key: str = "pupils") -> int:
    """The line of ``document[key][i]`` (path ``(i,)``) or ``document[key][i]["sessions"][j]`` (``(i, j)``)."""
    node = document[key][path[0]]
    if len(path) > 1:
        node = node["sessions"][path[1]]
    return lines.get(id(node), 0)
