"""The processes a school may start through the API, and where each one's start data name the school.

A school user's establishment is written into the start data, over anything they sent, so that a case
they start always concerns their own school (and ``engine.access`` then shows it to them).
"""

from __future__ import annotations

import copy
from typing import Any

#: Process id → path of the school's LAESTAB in its start data (one of
#: ``engine.services.instances.ESTABLISHMENT_PATHS``).
PORTAL_PROCESSES: dict[str, tuple[str, ...]] = {
    "absence_referral": ("school", "laestab"),
    "exclusion_review": ("pupil", "school_laestab"),
    "cme_enquiry": ("school", "laestab"),
    "ap_placement": ("home_school", "laestab"),
}


def offers(process_id: str) -> bool:
    """Whether schools may start ``process_id``."""
    return process_id in PORTAL_PROCESSES


def with_establishment(process_id: str, data: dict[str, Any], laestab: str) -> dict[str, Any]:
    """A copy of ``data`` with the school's LAESTAB at the place the process reads it."""
    forced = copy.deepcopy(data)
    *parents, name = PORTAL_PROCESSES[process_id]
    node = forced
    for key in parents:
        if not isinstance(node.get(key), dict):
            node[key] = {}
        node = node[key]
    node[name] = laestab
    return forced
