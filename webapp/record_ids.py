"""Reading record ids and page numbers that pages send as text (typed, or carried in the query string)."""

from __future__ import annotations

from collections.abc import Iterable

MAX_ID = 2**31 - 1


def number(text: str | None) -> int | None:
    """A record id typed or carried as text (``"1042"``), or None when it is not one."""
    text = (text or "").strip()
    if not text.isdigit() or len(text) > 10:
        return None
    value = int(text)
    return value if 0 < value <= MAX_ID else None


def whole(text: str | None) -> int | None:
    """A page number (1, 2...), or None."""
    return number(text)


def numbers(values: Iterable[str]) -> list[int]:
    """The ids among ``values``, in order, each once."""
    found = [n for n in (number(v) for v in values) if n is not None]
    return list(dict.fromkeys(found))
