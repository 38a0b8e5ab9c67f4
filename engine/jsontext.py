"""JSON text for what the engine stores: orjson (several times faster), the json module as fallback.

orjson refuses what json accepts (an integer beyond 64 bits, a non-string key) and json accepts what
orjson refuses to read (NaN, written by json before): each falls back to json, so anything stored
before reads back and anything json could write is still written.
"""

from __future__ import annotations

import json
from typing import Any

import orjson


def dumps(value: Any) -> str:
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return json.dumps(value, separators=(",", ":"))


def loads(text: str | bytes) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)
